package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/wire/client"
)

// The agent command against the original's recorded frames (replayGateway):
// what it sends, what it prints, and its exit codes.

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAgentPrintsTheFinalReply(t *testing.T) {
	g := newReplayGateway(t, 20, []string{"frames-a-agent-plain.json"})
	env, out, errb := callTestEnv(t, nil)
	code := Main([]string{"agent", "--url", g.URL(), "--agent", "main", "--message", "  hi there "}, env)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	// Not a terminal: exactly what the original prints, no streamed text.
	if got, want := out.String(), "Hello from the fake model.\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	reqs := g.Received()
	if len(reqs) != 1 || reqs[0].Method != "agent" {
		t.Fatalf("requests %v, want one agent", reqs)
	}
	p := reqs[0].Params
	if p["message"] != "hi there" || p["sessionKey"] != "agent:main:main" || p["agentId"] != "main" ||
		p["timeout"] != float64(600) || p["deliver"] != false {
		t.Errorf("params %v", p)
	}
	if k, _ := p["idempotencyKey"].(string); !uuidRE.MatchString(k) {
		t.Errorf("idempotencyKey %q is not a UUID v4", k)
	}
}

func TestAgentJSONIsTheFinalPayload(t *testing.T) {
	g := newReplayGateway(t, 20, []string{"frames-a-agent-plain.json"})
	env, out, errb := callTestEnv(t, nil)
	code := Main([]string{"agent", "--url", g.URL(), "--agent", "main", "-m", "hi there", "--json", "--run-id", "my-run"}, env)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	want := recordedFinal(t, "frames-a-agent-plain.json", "a-agent-plain-2")
	want["runId"] = "my-run"
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("--json printed\n%s\nwant the original's final payload\n%s", gb, wb)
	}
	// Key order kept as the gateway sent it (JSON.stringify(x, null, 2)).
	if !strings.HasPrefix(out.String(), "{\n  \"runId\": \"my-run\",\n  \"status\": \"ok\",\n  \"summary\": \"completed\",\n  \"result\": {") {
		t.Errorf("--json is not the payload indented in order:\n%s", out)
	}
	if p := g.Received()[0].Params; p["idempotencyKey"] != "my-run" {
		t.Errorf("--run-id not sent as the idempotency key: %v", p)
	}
}

// recordedFinal is the payload of the last res with id in file.
func recordedFinal(t *testing.T, file, id string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(peerDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var frames []struct {
		Frame struct {
			Type    string         `json:"type"`
			ID      string         `json:"id"`
			Payload map[string]any `json:"payload"`
		} `json:"frame"`
	}
	if err := json.Unmarshal(raw, &frames); err != nil {
		t.Fatal(err)
	}
	var last map[string]any
	for _, f := range frames {
		if f.Frame.Type == "res" && f.Frame.ID == id {
			last = f.Frame.Payload
		}
	}
	return last
}

func TestAgentNoWaitPrintsTheRunID(t *testing.T) {
	g := newReplayGateway(t, 1, []string{"frames-a-agent-plain.json"})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"text", nil, "r-nowait\n"},
		{"json", []string{"--json"}, "\"runId\": \"r-nowait\",\n  \"status\": \"accepted\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, out, errb := callTestEnv(t, nil)
			start := time.Now()
			args := append([]string{"agent", "--url", g.URL(), "--agent", "main", "-m", "hi there", "--no-wait", "--run-id", "r-nowait"}, tc.args...)
			if code := Main(args, env); code != ExitOK {
				t.Fatalf("exit %d, stderr %q", code, errb.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("stdout %q, want %q", out.String(), tc.want)
			}
			// The recorded run takes 1.9 s at speed 1; the ack came at 0.1 s.
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("--no-wait waited %v for the run", d)
			}
		})
	}
}

// Two payloads (a tool turn) print one per line, as the original does.
func TestAgentToolTurnPrintsEveryPayload(t *testing.T) {
	g := newReplayGateway(t, 20, []string{"frames-h-tool-turn.json"})
	env, out, errb := callTestEnv(t, nil)
	if code := Main([]string{"agent", "--url", g.URL(), "--agent", "main", "-m", "TOOLCALL please"}, env); code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if got, want := out.String(), "Checking status.\nAll good after tool.\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// A timed-out run is ok with no payloads: the original prints the summary.
func TestAgentTimedOutRunPrintsTheSummary(t *testing.T) {
	g := newReplayGateway(t, 20, []string{"frames-k-agent-timeout.json"})
	env, out, errb := callTestEnv(t, nil)
	if code := Main([]string{"agent", "--url", g.URL(), "--agent", "main", "-m", "SLOW with timeout", "--timeout", "2"}, env); code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if got := out.String(); got != "completed\n" {
		t.Errorf("stdout %q, want the summary", got)
	}
	if p := g.Received()[0].Params; p["timeout"] != float64(2) {
		t.Errorf("timeout param %v, want 2", p["timeout"])
	}
}

func TestAgentErrors(t *testing.T) {
	tests := []struct {
		name     string
		skip     []string
		args     []string
		wantText string
		wantJSON string
	}{
		{
			// One res, ok:false, before any ack.
			name: "refused before the ack", args: []string{"--channel", "carrierpigeon"},
			wantText: "error: agent: invalid agent params: unknown channel: carrierpigeon\n",
			wantJSON: `{"ok":false,"error":{"code":"INVALID_REQUEST","message":"agent: invalid agent params: unknown channel: carrierpigeon","fix":""}}`,
		},
		{
			// The ack, then a second res with ok:false (doc/messaging.md §1.2).
			name: "failed after the ack", skip: []string{"i-agent-errors-3"},
			wantText: "error: agent: Error: Invalid thinking level. Use one of: off, minimal, low, medium, high.\n",
			wantJSON: `{"ok":false,"error":{"code":"UNAVAILABLE","message":"agent: Error: Invalid thinking level. Use one of: off, minimal, low, medium, high.","fix":""}}`,
		},
	}
	for _, tc := range tests {
		for _, asJSON := range []bool{false, true} {
			name := tc.name
			if asJSON {
				name += "/json"
			}
			t.Run(name, func(t *testing.T) {
				g := newReplayGateway(t, 20, []string{"frames-i-agent-errors.json"}, tc.skip...)
				env, out, errb := callTestEnv(t, nil)
				args := append([]string{"agent", "--url", g.URL(), "--agent", "main", "-m", "x"}, tc.args...)
				if asJSON {
					args = append(args, "--json")
				}
				if code := Main(args, env); code != ExitFailure {
					t.Fatalf("exit %d, want 1; stdout %q stderr %q", code, out, errb)
				}
				if asJSON {
					if got := strings.TrimSpace(out.String()); got != tc.wantJSON {
						t.Errorf("stdout %s\nwant %s", got, tc.wantJSON)
					}
					if errb.Len() != 0 {
						t.Errorf("stderr %q under --json", errb)
					}
				} else if got := errb.String(); got != tc.wantText {
					t.Errorf("stderr %q\nwant %q", got, tc.wantText)
				}
			})
		}
	}
}

func TestAgentUsageErrors(t *testing.T) {
	port := callClosedPort(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no message", []string{"--agent", "main"}, `agent: --message is required (e.g. clawdbot agent --agent main --message "hi")`},
		{"blank message", []string{"--agent", "main", "-m", "  "}, `agent: --message is required (e.g. clawdbot agent --agent main --message "hi")`},
		{"no session", []string{"-m", "hi"}, "agent: pass --to <E.164>, --session-id, or --agent to choose a session"},
		{"bad thinking", []string{"--agent", "main", "-m", "hi", "--thinking", "bogus"}, `agent: invalid --thinking "bogus" (use off, minimal, low, medium or high)`},
		{"zero timeout", []string{"--agent", "main", "-m", "hi", "--timeout", "0"}, "agent: --timeout must be a positive integer (seconds)"},
		{"unknown agent", []string{"--agent", "ghost", "-m", "hi"}, `agent: unknown agent id "ghost" (configured: main)`},
		{"stray argument", []string{"--agent", "main", "-m", "hi", "extra"}, `agent: unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, out, errb := callTestEnv(t, map[string]string{"CLAWDBOT_GATEWAY_PORT": port})
			if code := Main(append([]string{"agent"}, tc.args...), env); code != ExitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errb)
			}
			want := "error: " + tc.want + "\nhint: see 'clawdbot agent --help'\n"
			if errb.String() != want || out.Len() != 0 {
				t.Errorf("stderr %q stdout %q\nwant stderr %q", errb, out, want)
			}
			// The same error in the one JSON shape under --json.
			env, out, _ = callTestEnv(t, map[string]string{"CLAWDBOT_GATEWAY_PORT": port})
			if code := Main(append([]string{"agent", "--json"}, tc.args...), env); code != ExitUsage {
				t.Fatalf("--json: exit %d, want 2", code)
			}
			var e jsonError
			if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.OK || e.Error.Code != CodeUsage || e.Error.Message != tc.want {
				t.Errorf("--json stdout %q", out)
			}
		})
	}
}

func TestAgentGatewayDown(t *testing.T) {
	port := callClosedPort(t)
	env, out, _ := callTestEnv(t, map[string]string{"CLAWDBOT_GATEWAY_PORT": port})
	if code := Main([]string{"agent", "--agent", "main", "-m", "hi", "--json"}, env); code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	var e jsonError
	if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.Error.Code != CodeUnreachable ||
		!strings.Contains(e.Error.Message, "gateway not reachable at ws://127.0.0.1:"+port) {
		t.Errorf("stdout %q", out)
	}
}

func TestAgentSessionKeyResolution(t *testing.T) {
	state := t.TempDir()
	dir := filepath.Join(state, "agents", "main", "sessions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sessions.json"), []byte(`{"agent:main:work":{"sessionId":"sid-1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ac := agentConfig{MainKey: "main", Scope: "per-sender", DefaultAgent: "main", StateDir: state}
	global := ac
	global.Scope = "global"
	custom := ac
	custom.MainKey = "home"
	for _, tc := range []struct {
		name                 string
		ac                   agentConfig
		agent, to, sessionID string
		want                 string
	}{
		{"agent", ac, "ops", "", "", "agent:ops:main"},
		{"agent with a main key", custom, "ops", "", "", "agent:ops:home"},
		{"to is the main DM session", ac, "", "+15555550123", "", "agent:main:main"},
		{"to under the global scope", global, "", "+15555550123", "", "global"},
		{"session id in the store", ac, "", "", "sid-1", "agent:main:work"},
		{"session id left to the gateway", ac, "", "", "sid-unknown", ""},
		{"agent wins", ac, "ops", "+1555", "sid-1", "agent:ops:main"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ac.sessionKey(tc.agent, tc.to, tc.sessionID); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAgentConfigDefaults(t *testing.T) {
	env, _, _ := callTestEnv(t, nil)
	prof, err := env.ResolveProfile(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(prof.ConfigPath), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := `{
  // JSON5, as users write it
  session: { mainKey: "Home", scope: "global" },
  agents: { defaults: { timeoutSeconds: 42 }, list: [ { id: "Ops" }, { id: "work", default: true } ] },
}`
	if err := os.WriteFile(prof.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ac := loadAgentConfig(env, prof)
	if ac.MainKey != "home" || ac.Scope != "global" || ac.TimeoutSeconds != 42 || ac.DefaultAgent != "work" ||
		strings.Join(ac.AgentIDs, ",") != "ops,work" {
		t.Errorf("config %+v", ac)
	}
}

func TestStreamPrinterFinish(t *testing.T) {
	str := func(s string) *string { return &s }
	type ev struct {
		seq         int64
		text, delta *string
	}
	for _, tc := range []struct {
		name   string
		events []ev
		final  string
		want   string
	}{
		{"streamed whole", []ev{{1, str("Hi"), str("Hi")}, {2, str("Hi there"), str(" there")}}, "Hi there", "Hi there\n"},
		{"rest after the stream", []ev{{1, str("Hi"), str("Hi")}}, "Hi there", "Hi there\n"},
		{"duplicate and late events ignored", []ev{{2, str("Hi"), str("Hi")}, {2, str("Hi"), str("Hi")}, {1, str("H"), str("H")}, {3, str("Hi!"), str("!")}}, "Hi!", "Hi!\n"},
		{"delta without text", []ev{{1, nil, str("a")}, {2, nil, str("b")}}, "ab", "ab\n"},
		{"rewritten reply follows on its own line", []ev{{1, str("NO_REPLY"), str("NO_REPLY")}}, "completed", "NO_REPLY\ncompleted\n"},
		{"diverged text stops the stream", []ev{{1, str("abc"), str("abc")}, {2, str("abX"), str("X")}, {3, str("abXd"), str("d")}}, "abXd", "abc\nabXd\n"},
		{"nothing streamed", nil, "done", "done\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := &streamPrinter{w: &b, runID: "r"}
			for _, e := range tc.events {
				data := map[string]any{}
				if e.text != nil {
					data["text"] = *e.text
				}
				if e.delta != nil {
					data["delta"] = *e.delta
				}
				payload, _ := json.Marshal(map[string]any{"runId": "r", "stream": "assistant", "data": data, "seq": e.seq})
				p.onEvent(clientEvent("agent", payload))
				// Another run's events never print.
				other, _ := json.Marshal(map[string]any{"runId": "other", "stream": "assistant", "data": data, "seq": e.seq + 100})
				p.onEvent(clientEvent("agent", other))
			}
			p.finish(tc.final)
			if b.String() != tc.want {
				t.Errorf("printed %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func clientEvent(name string, payload []byte) client.Event {
	return client.Event{Event: name, Payload: payload}
}
