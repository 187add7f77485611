package configrpc

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clawdbot/clawdbot/gateway/configrpc/internal/configschemagen"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// The embedded configschema.json is what the generator makes of today's
// Go config types.
func TestConfigSchemaUpToDate(t *testing.T) {
	want, err := configschemagen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, SchemaDocument()) {
		t.Fatal("gateway/configrpc/configschema.json is stale; run `make schema` and commit the result")
	}
}

// originalSections are the top-level properties of the original's
// config schema (clawdbot 2026.1.24).
var originalSections = []string{"meta", "env", "wizard", "diagnostics", "logging", "update", "browser", "ui", "auth",
	"models", "nodeHost", "agents", "tools", "bindings", "broadcast", "audio", "media", "messages", "commands",
	"approvals", "session", "cron", "hooks", "web", "channels", "discovery", "canvasHost", "talk", "gateway",
	"skills", "plugins"}

func callSchema(t *testing.T) wire.ConfigSchemaResult {
	t.Helper()
	reg := rpc.NewRegistry()
	Register(reg, Deps{Store: NewStore(t.TempDir() + "/c.json"), Version: "1.2.3",
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC) }})
	res, e := reg.Lookup("config.schema").Handler(rpc.NewCall("config.schema", json.RawMessage(`"1"`), json.RawMessage(`{}`), &rpc.Client{}, nil))
	if e != nil {
		t.Fatal(e)
	}
	b, _ := json.Marshal(res)
	var out wire.ConfigSchemaResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The result has the original's shape, every section of the original's
// schema (typed or open), its UI hints with sensitive secrets, and it
// accepts what the loader accepts and rejects a typed mistake.
func TestConfigSchemaResult(t *testing.T) {
	res := callSchema(t)
	if res.Version != "1.2.3" || res.GeneratedAt != "2026-01-02T03:04:05.006Z" {
		t.Fatalf("version/generatedAt = %q %q", res.Version, res.GeneratedAt)
	}
	var schema struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(res.Schema, &schema); err != nil || schema.Type != "object" {
		t.Fatalf("schema: %v %q", err, schema.Type)
	}
	for _, s := range originalSections {
		if _, ok := schema.Properties[s]; !ok {
			t.Errorf("section %s missing", s)
		}
	}
	if got := string(schema.Properties["channels"]); got != `{"additionalProperties":true,"type":"object"}` {
		t.Errorf("channels = %s", got)
	}
	var hints map[string]configschemagen.Hint
	if err := json.Unmarshal(res.UIHints, &hints); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"gateway.auth.token", "gateway.auth.password", "hooks.token", "channels.telegram.botToken"} {
		if !hints[p].Sensitive {
			t.Errorf("%s not sensitive", p)
		}
	}
	if h := hints["gateway"]; h.Label != "Gateway" || h.Order == nil || *h.Order != 30 {
		t.Errorf("gateway hint = %+v", h)
	}
	if h := hints["gateway.reload.mode"]; h.Label == "" {
		t.Errorf("gateway.reload.mode has no label")
	}

	c := jsonschema.NewCompiler()
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(res.Schema))
	if err := c.AddResource("config.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("config.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, raw string
		ok        bool
	}{
		{"setup's config", `{gateway: {mode: "local", bind: "loopback", auth: {mode: "token", token: "t"}}, agents: {defaults: {workspace: "~/clawd"}}}`, true},
		{"sections we do not model", `{models: {providers: {x: {baseUrl: "http://h"}}}, session: {mainKey: "main"}, channels: {telegram: {botToken: "x"}},
			gateway: {tailscale: {mode: "off"}, auth: {allowTailscale: true}}, agents: {defaults: {model: {primary: "openai/gpt-4o"}}}}`, true},
		{"bad port", `{gateway: {port: 70000}}`, false},
		{"bad bind", `{gateway: {bind: "everywhere"}}`, false},
	} {
		snap := profiles.ParseConfig("c.json5", []byte(tc.raw), func(string) string { return "" })
		if snap.Valid != tc.ok {
			t.Fatalf("%s: loader valid = %v (%v); the case is wrong", tc.name, snap.Valid, snap.Issues)
		}
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(snap.ParsedJSON()))
		err := sch.Validate(v)
		if (err == nil) != tc.ok {
			t.Errorf("%s: schema says %v, loader says valid=%v", tc.name, err, tc.ok)
		}
	}
}

// Every path the loader types or passes through is in the schema, so the
// form never drops a section the gateway knows.
func TestConfigSchemaCoversPassthrough(t *testing.T) {
	s, err := configschemagen.Schema()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	var root map[string]any
	_ = json.Unmarshal(b, &root)
	for _, p := range profiles.ConfigSchemaInfo().Passthrough {
		top := strings.Split(p, ".")[0]
		if strings.HasPrefix(p, "$") || slices.Contains([]string{"agent", "identity", "memory", "routing"}, top) {
			continue
		}
		n := any(root)
		for _, k := range strings.Split(p, ".") {
			m, _ := n.(map[string]any)
			props, _ := m["properties"].(map[string]any)
			if props == nil {
				break // inside an open object
			}
			if n = props[k]; n == nil {
				t.Errorf("%s: no schema for %s", p, k)
				break
			}
		}
	}
}
