package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/httpapi"
	"github.com/clawdbot/clawdbot/gateway/models"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// The differential test: every exchange the original answered in
// testdata/peer (README.md there: how it was captured) is replayed
// against ours, configured from the same clawdbot.json, with the same
// scripted upstream (llmtest with peerScript; the capture used the
// peer capture tool's fake, which scripts the same answers). Response and
// upstream request are compared field by field after ids and times are
// normalised. Every field where we differ must be listed in
// peerDifferences with its reason, and every listed difference must
// still occur, so the table is the exact, current list.

// peerExchange is one captured exchange (capture/http.go exchangeFile).
type peerExchange struct {
	Name    string `json:"name"`
	Request struct {
		Method   string            `json:"method"`
		Path     string            `json:"path"`
		Headers  map[string]string `json:"headers"`
		Body     json.RawMessage   `json:"body"`
		BodyText string            `json:"bodyText"`
	} `json:"request"`
	Response peerResponse      `json:"response"`
	Upstream []json.RawMessage `json:"upstream"`
}

type peerResponse struct {
	Status           int                 `json:"status"`
	Headers          map[string][]string `json:"headers"`
	TransferEncoding []string            `json:"transferEncoding"`
	Body             json.RawMessage     `json:"body"`
	BodyText         string              `json:"bodyText"`
	Events           []peerEvent         `json:"events"`
}

type peerEvent struct {
	Event    string          `json:"event,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	DataText string          `json:"dataText,omitempty"`
}

// difference is a field (a matchPath pattern over the flattened paths)
// where ours differs from the original on purpose.
type difference struct{ pattern, why string }

// Reasons, with the section of doc/messaging.md that documents each.
const (
	whyUsage      = "real usage numbers; the original always sends zeros (doc/messaging.md §6.5)"
	whyStop       = "a final finish_reason chunk with usage; the original sends none (doc/messaging.md §6.5)"
	whySeq        = "every OpenResponses event has sequence_number, as OpenAI's; the original has none (doc/messaging.md §6.5)"
	whyAnnot      = "output_text parts carry annotations:[], as OpenAI's (doc/messaging.md §6.5)"
	whyClientTool = "client tools reach the model and a call of one ends the turn; the original drops them on the way to the model (doc/messaging.md §6.4, §8)"
	whyChatTools  = "/v1/chat/completions reads tools and max_tokens; the original ignores both (doc/messaging.md §6.4)"
	whyToolLabel  = "a tool result is labelled with its tool's name from the assistant's tool_calls; the original writes a bare Tool (doc/messaging.md §6.4)"
	whyErrCode    = "errors carry OpenAI's code field and our own message (doc/messaging.md §6.5)"
	whyJSONError  = "a malformed body is named by Go's decoder, not V8's (doc/messaging.md §6.5)"
	whyDisabled   = "a disabled endpoint is a 404; the original's Control UI answers every POST with 405 (doc/messaging.md §6.5)"
	whyPrompt     = "our system prompt is our own; only the extra system prompt is compared (doc/messaging.md §6.5)"
)

var peerDifferences = map[string][]difference{
	"chat-nonstream": {{"body/usage/*", whyUsage}},
	"chat-stream":    {{"events/7/**", whyStop}, {"events/8/**", whyStop}, {"events/count", whyStop}},
	"chat-client-tools": {
		{"body/choices/0/finish_reason", whyChatTools}, {"body/choices/0/message/**", whyChatTools}, {"body/usage/*", whyUsage},
		{"upstream/0/body/max_completion_tokens", whyChatTools}, {"upstream/0/body/tools/others/**", whyChatTools},
		{"upstream/1/**", whyChatTools}, {"upstream/count", whyChatTools},
	},
	"chat-tool-output": {
		{"body/usage/*", whyUsage}, {"upstream/0/body/messages/1/content/0/text", whyToolLabel},
		{"upstream/0/body/tools/others/**", whyChatTools},
	},
	"responses-nonstream": {{"body/output/0/content/0/annotations", whyAnnot}},
	"responses-stream": {
		{"events/*/data/sequence_number", whySeq}, {"events/*/data/**/annotations", whyAnnot},
	},
	"responses-client-tool": {
		{"body/status", whyClientTool}, {"body/output/**", whyClientTool}, {"body/usage/*", whyClientTool},
		{"upstream/0/body/tools/others/**", whyClientTool}, {"upstream/1/**", whyClientTool}, {"upstream/count", whyClientTool},
	},
	"responses-client-tool-stream": append([]difference{
		{"events/*/data/sequence_number", whySeq}, {"events/*/data/**/annotations", whyAnnot},
		{"events/count", whyClientTool},
		{"upstream/0/body/tools/others/**", whyClientTool}, {"upstream/1/**", whyClientTool}, {"upstream/count", whyClientTool},
	}, eventsFrom(6, 14, whyClientTool)...),
	"responses-tool-output": {
		{"body/output/0/content/0/annotations", whyAnnot}, {"upstream/0/body/tools/others/**", whyClientTool},
	},
	"chat-401":               {{"body/error/code", whyErrCode}},
	"chat-400-bad-json":      {{"body/error/code", whyErrCode}, {"body/error/message", whyJSONError}},
	"responses-400-bad-json": {{"body/error/code", whyErrCode}, {"body/error/message", whyJSONError}},
	"chat-400-no-user":       {{"body/error/code", whyErrCode}},
	"chat-404-disabled":      {{"status", whyDisabled}, {"bodyText", whyDisabled}},
	"responses-404-disabled": {{"status", whyDisabled}, {"bodyText", whyDisabled}},
}

// eventsFrom is one "events/N/**" rule for each N in [from, to]: a stream
// whose tail differs as a whole.
func eventsFrom(from, to int, why string) []difference {
	var out []difference
	for i := from; i <= to; i++ {
		out = append(out, difference{fmt.Sprintf("events/%d/**", i), why})
	}
	return out
}

// matchPath matches a flattened path against a pattern: segments as
// path.Match does, and a "**" segment for any number of segments.
func matchPath(pattern, p string) bool {
	ps, ks := strings.Split(pattern, "/"), strings.Split(p, "/")
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(ps) {
			return j == len(ks)
		}
		if ps[i] == "**" {
			for k := j; k <= len(ks); k++ {
				if match(i+1, k) {
					return true
				}
			}
			return false
		}
		if j == len(ks) {
			return false
		}
		ok, _ := path.Match(ps[i], ks[j])
		return ok && match(i+1, j+1)
	}
	return match(0, 0)
}

// newPeerEnv is our handler configured from the original's captured
// clawdbot.json, its model provider pointed at up.
func newPeerEnv(t *testing.T, configFile string, up *llmtest.Server) *env {
	raw, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("http://127.0.0.1:28932/v1"), []byte(up.URL))
	snap := profiles.ParseConfig(configFile, raw, nil)
	if err := snap.Err(); err != nil {
		t.Fatal(err)
	}
	cfg := snap.Config
	hc, err := httpapi.ParseConfig(cfg, httpapi.Auth{Mode: "token", Token: cfg.Gateway.Auth.Token})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *httpapi.Config) { *c = hc })
	e.swapModel(models.New(models.Options{Config: func() profiles.Config { return *cfg }, StateDir: t.TempDir(),
		Getenv: func(string) string { return "" }}))
	return e
}

func TestPeerDifferential(t *testing.T) {
	files, _ := filepath.Glob("testdata/peer/exchange-*.json")
	if len(files) < 16 {
		t.Fatalf("%d captured exchanges in testdata/peer, want the 16 of capture/http.go", len(files))
	}
	up := llmtest.NewOpenAI(t, llmtest.Script{Func: peerScript})
	on := newPeerEnv(t, "testdata/peer/peer-config-endpoints-true.json", up)
	off := newPeerEnv(t, "testdata/peer/peer-config-endpoints-false.json", up)
	seen := map[string]bool{}
	for _, f := range files {
		var ex peerExchange
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &ex); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		seen[ex.Name] = true
		t.Run(ex.Name, func(t *testing.T) {
			e := on
			if strings.HasSuffix(ex.Name, "-disabled") {
				e = off
			}
			before := up.Count()
			ours := replay(t, e, ex)
			var ourUp []json.RawMessage
			for _, r := range up.Requests()[before:] {
				ourUp = append(ourUp, summarizeOurs(r))
			}
			want := flattenExchange(ex.Response, ex.Upstream)
			got := flattenExchange(ours, ourUp)
			compareExchange(t, ex.Name, want, got)
		})
	}
	for name := range peerDifferences {
		if !seen[name] {
			t.Errorf("peerDifferences lists %s, which testdata/peer has no exchange for", name)
		}
	}
}

// replay sends ex's request to e and reads the answer as the capture
// tool did.
func replay(t *testing.T, e *env, ex peerExchange) peerResponse {
	var body io.Reader
	switch {
	case ex.Request.BodyText != "":
		body = strings.NewReader(ex.Request.BodyText)
	case len(ex.Request.Body) > 0:
		body = bytes.NewReader(ex.Request.Body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), ex.Request.Method, e.srv.URL+ex.Request.Path, body)
	for k, v := range ex.Request.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := peerResponse{Status: res.StatusCode, Headers: res.Header, TransferEncoding: res.TransferEncoding}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		if json.Valid(b) {
			out.Body = b
		} else {
			out.BodyText = string(b)
		}
		return out
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	var ev peerEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			if d := line[len("data: "):]; json.Valid([]byte(d)) {
				ev.Data = json.RawMessage(d)
			} else {
				ev.DataText = d
			}
		case line == "" && (ev.Event != "" || ev.Data != nil || ev.DataText != ""):
			out.Events = append(out.Events, ev)
			ev = peerEvent{}
		}
	}
	return out
}

// summarizeOurs cuts one of our upstream requests as the capture tool
// cut the original's (capture/http.go summarize): the system prompt to
// its extra-instructions section, the tools to those that are not
// built in (ours has none here).
func summarizeOurs(r llmtest.Request) json.RawMessage {
	body := r.JSON
	if msgs, ok := body["messages"].([]any); ok && len(msgs) > 0 {
		if m, ok := msgs[0].(map[string]any); ok && m["role"] == "system" {
			s, _ := m["content"].(string)
			cut := map[string]any{}
			if i := strings.Index(s, "## Extra Instructions\n"); i >= 0 {
				sec := s[i+len("## Extra Instructions\n"):]
				if j := strings.Index(sec, "\n#"); j >= 0 {
					sec = sec[:j]
				}
				cut["groupChatContext"] = strings.TrimSpace(sec)
			}
			m["content"] = cut
		}
	}
	tools, _ := body["tools"].([]any)
	if len(tools) == 0 {
		body["tools"] = map[string]any{"others": nil}
	} else {
		body["tools"] = map[string]any{"others": tools}
	}
	b, _ := json.Marshal(map[string]any{"method": r.Method, "path": r.Path, "body": body,
		"headers": map[string]string{"Authorization": r.Header.Get("Authorization")}})
	return b
}

var (
	uuidRE = regexp.MustCompile(`^(chatcmpl|resp|msg|call)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// Fields that are times or per-capture noise.
	timeKeys = []string{"created", "created_at"}
	// Upstream request fields compared (the rest is the SDKs' and
	// prompt's, doc/messaging.md §6.5).
	upstreamKeys = []string{"method", "path", "headers", "body"}
	bodyKeys     = []string{"model", "messages", "stream", "stream_options", "store", "max_completion_tokens", "tools"}
)

// flattenExchange is the comparable view of an exchange: path → JSON
// value of every leaf.
func flattenExchange(r peerResponse, upstream []json.RawMessage) map[string]string {
	out := map[string]string{"status": fmt.Sprint(r.Status)}
	for _, h := range []string{"Content-Type", "Cache-Control", "Allow"} {
		if v := r.Headers[h]; len(v) > 0 {
			out["header/"+h] = v[0]
		}
	}
	if len(r.TransferEncoding) > 0 {
		out["transferEncoding"] = strings.Join(r.TransferEncoding, ",")
	}
	if len(r.Body) > 0 {
		flatten(out, "body", decode(r.Body))
	}
	if r.BodyText != "" {
		out["bodyText"] = r.BodyText
	}
	if r.Events != nil {
		out["events/count"] = fmt.Sprint(len(r.Events))
	}
	for i, ev := range r.Events {
		p := fmt.Sprintf("events/%d", i)
		if ev.Event != "" {
			out[p+"/event"] = ev.Event
		}
		if ev.Data != nil {
			flatten(out, p+"/data", decode(ev.Data))
		}
		if ev.DataText != "" {
			out[p+"/dataText"] = ev.DataText
		}
	}
	if len(upstream) > 0 {
		out["upstream/count"] = fmt.Sprint(len(upstream))
	}
	for i, u := range upstream {
		m, _ := decode(u).(map[string]any)
		for _, k := range upstreamKeys {
			v := m[k]
			if k == "body" {
				b, _ := v.(map[string]any)
				kept := map[string]any{}
				for _, bk := range bodyKeys {
					if bv, ok := b[bk]; ok {
						kept[bk] = bv
					}
				}
				if msgs, ok := kept["messages"].([]any); ok && len(msgs) > 0 {
					if sys, ok := msgs[0].(map[string]any); ok && sys["role"] == "system" {
						c, _ := sys["content"].(map[string]any)
						delete(c, "length")
					}
				}
				if tools, ok := kept["tools"].(map[string]any); ok {
					delete(tools, "builtinNames")
				}
				v = kept
			}
			if k == "headers" {
				h, _ := v.(map[string]any)
				v = map[string]any{"Authorization": h["Authorization"]}
			}
			flatten(out, fmt.Sprintf("upstream/%d/%s", i, k), v)
		}
	}
	return out
}

func decode(b []byte) any {
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

func flatten(out map[string]string, p string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[p] = "{}"
		}
		for k, vv := range x {
			if slices.Contains(timeKeys, k) {
				vv = "<time>"
			}
			flatten(out, p+"/"+k, vv)
		}
	case []any:
		if len(x) == 0 {
			out[p] = "[]"
		}
		for i, vv := range x {
			flatten(out, fmt.Sprintf("%s/%d", p, i), vv)
		}
	case string:
		if m := uuidRE.FindStringSubmatch(x); m != nil {
			x = m[1] + "_<uuid>"
		}
		out[p] = fmt.Sprintf("%q", x)
	default:
		b, _ := json.Marshal(x)
		out[p] = string(b)
	}
}

// compareExchange reports every field where got differs from want that
// peerDifferences does not explain, and every listed difference that no
// longer occurs.
func compareExchange(t *testing.T, name string, want, got map[string]string) {
	t.Helper()
	rules := peerDifferences[name]
	used := make([]bool, len(rules))
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		if wok && gok && w == g {
			continue
		}
		if !wok {
			w = "<absent>"
		}
		if !gok {
			g = "<absent>"
		}
		explained := false
		for i, r := range rules {
			if matchPath(r.pattern, k) {
				used[i], explained = true, true
			}
		}
		if !explained {
			t.Errorf("%s: original %s, ours %s", k, w, g)
		}
	}
	for i, r := range rules {
		if !used[i] {
			t.Errorf("peerDifferences[%q] lists %s (%s), but that field no longer differs", name, r.pattern, r.why)
		}
	}
}
