package configrpc

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// newRegistry registers the config methods on a store at path; restarts
// are not wired (apply/patch report mode "none"), sentinels go to a temp
// dir.
func newRegistry(t *testing.T, path string) *rpc.Registry {
	t.Helper()
	reg := rpc.NewRegistry()
	dir := t.TempDir()
	Register(reg, Deps{
		Store: NewStore(path), Now: time.Now, Log: slog.New(slog.DiscardHandler),
		WriteSentinel: func(wire.RestartSentinelPayload) (string, error) { return filepath.Join(dir, "sentinel.json"), nil },
		ScheduleRestart: func(string, time.Duration) (wire.RestartInfo, bool) {
			return wire.RestartInfo{}, false
		},
	})
	return reg
}

func call(t *testing.T, reg *rpc.Registry, method string, params any) json.RawMessage {
	t.Helper()
	p, _ := json.Marshal(params)
	if err := wire.ValidateParams(method, p); err != nil {
		t.Fatalf("%s params: %v", method, err)
	}
	res, e := reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), p, &rpc.Client{Role: wire.RoleOperator}, nil))
	if e != nil {
		t.Fatalf("%s: %s %v", method, e.Message, e.Details)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// topKeys lists an object's keys in the order the JSON has them.
func topKeys(t *testing.T, doc json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", doc)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

type snapshot struct {
	Hash   string          `json:"hash"`
	Parsed json.RawMessage `json:"parsed"`
	Config json.RawMessage `json:"config"`
	Valid  bool            `json:"valid"`
}

func get(t *testing.T, reg *rpc.Registry) snapshot {
	t.Helper()
	var s snapshot
	if err := json.Unmarshal(call(t, reg, "config.get", map[string]any{}), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// config.get returns every section, also those this gateway does not
// model, in the file's order, in parsed and in config (which adds the
// original's load-time defaults at the end of their objects). A client that
// writes config back with config.set loses nothing: the next config.get
// gives the same config, byte for byte.
func TestConfigGetRoundTripsEverySection(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "roundtrip.json5"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clawdbot.json")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t, path)
	first := get(t, reg)
	if !first.Valid {
		t.Fatalf("invalid: %s", first.Config)
	}
	fileOrder := []string{"models", "gateway", "channels", "agents", "hooks", "cron", "zeta", "logging"}
	if got := topKeys(t, first.Parsed); !slices.Equal(got, fileOrder) {
		t.Errorf("parsed keys %v, want the file's %v", got, fileOrder)
	}
	if got, want := topKeys(t, first.Config), append(slices.Clone(fileOrder), "messages"); !slices.Equal(got, want) {
		t.Errorf("config keys %v, want %v", got, want)
	}
	var cfg struct {
		Zeta     json.RawMessage `json:"zeta"`
		Messages struct {
			AckReactionScope string `json:"ackReactionScope"`
		} `json:"messages"`
		Logging struct {
			RedactSensitive string `json:"redactSensitive"`
		} `json:"logging"`
		Agents struct {
			Defaults struct {
				Workspace     string `json:"workspace"`
				MaxConcurrent int    `json:"maxConcurrent"`
				Subagents     struct {
					MaxConcurrent int `json:"maxConcurrent"`
				} `json:"subagents"`
			} `json:"defaults"`
		} `json:"agents"`
		Models struct {
			Providers map[string]struct {
				Models []map[string]any `json:"models"`
			} `json:"providers"`
		} `json:"models"`
	}
	if err := json.Unmarshal(first.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	if string(cfg.Zeta) != `{"z":1,"a":2}` || cfg.Messages.AckReactionScope != "group-mentions" || cfg.Logging.RedactSensitive != "tools" ||
		cfg.Agents.Defaults.Workspace != "~/clawd" || cfg.Agents.Defaults.MaxConcurrent != 4 || cfg.Agents.Defaults.Subagents.MaxConcurrent != 8 {
		t.Errorf("config lacks a section or a default: %s", first.Config)
	}
	if m := cfg.Models.Providers["local"].Models[0]; m["contextWindow"] != float64(200000) || m["maxTokens"] != float64(8192) || m["reasoning"] != false {
		t.Errorf("model defaults: %v", m)
	}

	// The client writes config back.
	call(t, reg, "config.set", map[string]any{"raw": string(first.Config), "baseHash": first.Hash})
	second := get(t, reg)
	if !bytes.Equal(second.Config, first.Config) {
		t.Errorf("config after a write-back differs\n got %s\nwant %s", second.Config, first.Config)
	}
	if got := topKeys(t, second.Parsed); !slices.Equal(got, append(fileOrder, "messages")) {
		t.Errorf("parsed keys after write-back %v", got)
	}
}

// config.patch splices the patch into the file's text: comments, key order,
// quoting, trailing commas and ${ENV} references of everything the patch
// does not change survive (testdata/patch-after.json5 is the golden).
func TestConfigPatchKeepsJSON5(t *testing.T) {
	t.Setenv("GW_TOKEN", "from-env")
	before, err := os.ReadFile(filepath.Join("testdata", "patch-before.json5"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clawdbot.json")
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t, path)
	snap := get(t, reg)
	call(t, reg, "config.patch", map[string]any{
		"raw":      `{"gateway": {"port": 19001, "bind": "loopback"}, "logging": null, "hooks": {"enabled": true, "token": "h"}}`,
		"baseHash": snap.Hash,
	})
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "patch-after.json5")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./gateway/configrpc -run Patch -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("patched file differs from %s\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode after patch: %v %v", st, err)
	}
}
