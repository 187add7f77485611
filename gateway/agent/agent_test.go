package agent_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/wire"
)

func agentParams(idem, msg string) map[string]any {
	return map[string]any{"message": msg, "sessionKey": "main", "idempotencyKey": idem}
}

// A plain turn: ack → lifecycle start → assistant deltas (each followed
// by its chat delta) → lifecycle end + chat final → final res
// (doc/messaging.md §2.1, §2.3).
func TestPlainTurnEventOrder(t *testing.T) {
	h := newHarness(t, nil)
	id, done := h.call("agent", agentParams("run-1", "hi there"))
	wait(t, done)
	all := h.log.snapshot()
	if all[0].kind != "res" || all[0].payload["status"] != "accepted" || all[0].payload["runId"] != "run-1" {
		t.Fatalf("first frame = %+v, want the accepted ack", all[0])
	}
	if last := all[len(all)-1]; last.kind != "res" || last.payload["status"] != "ok" {
		t.Fatalf("last frame = %+v, want the final res", last)
	}
	want := []string{
		"agent lifecycle start 1",
		"agent assistant 2", "chat delta 2",
		"agent assistant 3", "chat delta 3",
		"agent lifecycle end 4", "chat final 4",
	}
	if got := summary(h.log.events("run-1")); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	evs := h.log.events("run-1")
	if d := evs[3].payload["data"].(map[string]any); d["text"] != "Hello from the fake model." || d["delta"] != " from the fake model." {
		t.Fatalf("assistant data = %v", d)
	}
	if evs[1].payload["sessionKey"] != "agent:main:main" || evs[1].drop {
		t.Fatalf("agent event = %+v: want the canonical key, never dropIfSlow", evs[1])
	}
	if !evs[2].drop || evs[6].drop {
		t.Fatal("chat deltas must be dropIfSlow and the final not")
	}
	if msg := evs[6].payload["message"].(map[string]any); msg["content"].([]any)[0].(map[string]any)["text"] != "Hello from the fake model." {
		t.Fatalf("chat final message = %v", msg)
	}
	// Key order of an agent event as the original sends it.
	b, _ := json.Marshal(wire.AgentEvent{RunID: "r", Stream: "s", Data: map[string]any{}, SessionKey: "k", Seq: 1, TS: 2})
	if string(b) != `{"runId":"r","stream":"s","data":{},"sessionKey":"k","seq":1,"ts":2}` {
		t.Fatalf("agent event encoding = %s", b)
	}
	final := h.res(id)[1].payload
	res := final["result"].(map[string]any)
	p := res["payloads"].([]any)[0].(map[string]any)
	if final["summary"] != "completed" || p["text"] != "Hello from the fake model." || p["mediaUrl"] != nil {
		t.Fatalf("final = %v", final)
	}
	if _, has := p["mediaUrl"]; !has {
		t.Fatal("payload lacks mediaUrl:null")
	}
	meta := res["meta"].(map[string]any)
	am := meta["agentMeta"].(map[string]any)
	if am["provider"] != "fake" || am["model"] != "fake-model" || meta["aborted"] != false ||
		am["usage"].(map[string]any)["total"] != float64(17) {
		t.Fatalf("meta = %v", meta)
	}
	tr := h.sessions.transcript("main")
	if len(tr) != 2 || tr[0].Role != llm.RoleUser || tr[0].PlainText() != "hi there" || tr[1].PlainText() != "Hello from the fake model." {
		t.Fatalf("transcript = %+v", tr)
	}
	if req := h.model.requests[0]; !strings.Contains(req.System, "Runtime: agent=main") || req.Tools != nil {
		t.Fatalf("request: system %q, tools %v (no tools registered: none offered)", req.System, req.Tools)
	}
	if w := h.runner.Wait(t.Context(), "run-1", 0); w.Status != "ok" || w.StartedAt == nil || w.EndedAt == nil {
		t.Fatalf("agent.wait = %+v", w)
	}
}

func toolScript(call int, _ llm.Request) []step {
	if call == 1 {
		return []step{{delta: "Checking status."}, {tool: &llm.Content{Type: llm.ContentToolCall, ID: "call_1", Name: "status", Arguments: json.RawMessage(`{}`)}}}
	}
	return []step{{delta: "All"}, {delta: " good after tool."}}
}

// A tool turn with verbose on: start · assistant · tool start · tool
// result · assistant… · end; with verbose off the tool events are not
// sent but still take their seq (no gap event).
func TestToolTurnEventOrder(t *testing.T) {
	for _, verbose := range []string{"on", "off"} {
		t.Run("verbose "+verbose, func(t *testing.T) {
			h := newHarness(t, func(d *agent.Deps) { d.Tools = fakeTools{} })
			h.model.script = toolScript
			h.setConfig(func(c *agent.Config) { c.VerboseDefault = verbose })
			id, done := h.call("agent", agentParams("run-t", "status?"))
			wait(t, done)
			var want []string
			want = append(want, "agent lifecycle start 1", "agent assistant 2", "chat delta 2")
			if verbose == "on" {
				want = append(want, "agent tool start 3", "agent tool result 4")
			}
			want = append(want, "agent assistant 5", "chat delta 5", "agent assistant 6", "chat delta 6",
				"agent lifecycle end 7", "chat final 7")
			if got := summary(h.log.events("run-t")); !slices.Equal(got, want) {
				t.Fatalf("events:\n got %q\nwant %q", got, want)
			}
			if verbose == "on" {
				ev := h.log.events("run-t")[4].payload["data"].(map[string]any)
				if ev["toolCallId"] != "call_1" || ev["isError"] != false {
					t.Fatalf("tool result data = %v", ev)
				}
			}
			// The final chat has only the text after the tool call; the
			// result has both texts.
			evs := h.log.events("run-t")
			fin := evs[len(evs)-1].payload["message"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]
			if fin != "All good after tool." {
				t.Fatalf("chat final text = %v", fin)
			}
			ps := h.res(id)[1].payload["result"].(map[string]any)["payloads"].([]any)
			if len(ps) != 2 || ps[0].(map[string]any)["text"] != "Checking status." {
				t.Fatalf("payloads = %v", ps)
			}
			roles := []string{}
			for _, m := range h.sessions.transcript("main") {
				roles = append(roles, m.Role)
			}
			if !slices.Equal(roles, []string{"user", "assistant", "toolResult", "assistant"}) {
				t.Fatalf("transcript roles = %v", roles)
			}
			second := h.model.requests[1]
			if last := second.Messages[len(second.Messages)-1]; last.Role != llm.RoleToolResult || last.ToolCallID != "call_1" {
				t.Fatalf("second model call did not get the tool result: %+v", last)
			}
		})
	}
}

// blockingScript answers "SLOW" messages with one delta and then waits
// for release (or the run's end).
func blockingScript(release chan struct{}) func(int, llm.Request) []step {
	return func(_ int, req llm.Request) []step {
		if strings.Contains(lastUser(req), "SLOW") {
			return []step{{delta: "working"}, {wait: release}, {delta: " done"}}
		}
		return []step{{delta: "quick"}}
	}
}

// Two runs of one session run one after the other (the second's start
// comes after the first's end); two sessions overlap.
func TestLanes(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, nil)
	h.model.script = blockingScript(release)
	h.model.started = make(chan string, 10)
	_, d1 := h.call("agent", map[string]any{"message": "SLOW a", "sessionKey": "one", "idempotencyKey": "a1"})
	<-h.model.started
	_, d2 := h.call("agent", map[string]any{"message": "second", "sessionKey": "one", "idempotencyKey": "a2"})
	_, d3 := h.call("agent", map[string]any{"message": "other session", "sessionKey": "two", "idempotencyKey": "b1"})
	// The other session runs to its end while "one" is still busy.
	wait(t, d3)
	select {
	case <-d2:
		t.Fatal("the second run of a busy session finished before the first")
	default:
	}
	if n := len(h.log.events("a2")); n != 0 {
		t.Fatalf("the queued run emitted %d events before the first ended", n)
	}
	close(release)
	wait(t, d1)
	wait(t, d2)
	var order []string
	for _, f := range h.log.snapshot() {
		if f.name == wire.EventAgent && f.payload["stream"] == "lifecycle" && (f.payload["runId"] == "a1" || f.payload["runId"] == "a2") {
			order = append(order, f.payload["runId"].(string)+" "+f.payload["data"].(map[string]any)["phase"].(string))
		}
	}
	if !slices.Equal(order, []string{"a1 start", "a1 end", "a2 start", "a2 end"}) {
		t.Fatalf("lifecycle order = %v", order)
	}
}

// maxConcurrent 1 serialises different sessions too.
func TestGlobalLaneLimit(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, nil)
	h.setConfig(func(c *agent.Config) { c.MaxConcurrent = 1 })
	h.model.script = blockingScript(release)
	h.model.started = make(chan string, 10)
	_, d1 := h.call("agent", map[string]any{"message": "SLOW", "sessionKey": "one", "idempotencyKey": "g1"})
	<-h.model.started
	_, d2 := h.call("agent", map[string]any{"message": "next", "sessionKey": "two", "idempotencyKey": "g2"})
	select {
	case s := <-h.model.started:
		t.Fatalf("a second model call (%q) started under maxConcurrent 1", s)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	wait(t, d1)
	wait(t, d2)
}

// The agent method's dedupe: a duplicate during the run gets only the
// ack; after the run the final payload is its only res (§2.3 item 5).
func TestAgentIdempotency(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, nil)
	h.model.script = blockingScript(release)
	h.model.started = make(chan string, 10)
	id1, d1 := h.call("agent", agentParams("same", "SLOW"))
	<-h.model.started
	id2, d2 := h.call("agent", agentParams("same", "SLOW"))
	wait(t, d2)
	if r := h.res(id2); len(r) != 1 || r[0].payload["status"] != "accepted" {
		t.Fatalf("duplicate during the run got %+v, want the ack only", r)
	}
	close(release)
	wait(t, d1)
	id3, d3 := h.call("agent", agentParams("same", "SLOW"))
	wait(t, d3)
	if r := h.res(id3); len(r) != 1 || r[0].payload["status"] != "ok" || r[0].payload["summary"] != "completed" {
		t.Fatalf("duplicate after the run got %+v, want the final only", r)
	}
	if r := h.res(id1); len(r) != 2 {
		t.Fatalf("original request got %d res, want 2", len(r))
	}
	if h.model.calls != 1 {
		t.Fatalf("model called %d times for one idempotency key", h.model.calls)
	}
}

// Expiry ends the run with AGENT_TIMEOUT in the final res and a
// lifecycle error (better than the original's silent ok).
func TestAgentTimeout(t *testing.T) {
	h := newHarness(t, nil)
	h.model.script = blockingScript(make(chan struct{}))
	id, done := h.call("agent", map[string]any{"message": "SLOW", "sessionKey": "main", "idempotencyKey": "to", "timeout": 1})
	wait(t, done)
	r := h.res(id)
	if len(r) != 2 || r[1].errCode != wire.ErrAgentTimeout || r[1].payload["status"] != "error" {
		t.Fatalf("final = %+v, want AGENT_TIMEOUT", r)
	}
	got := summary(h.log.events("to"))
	if got[len(got)-2] != "agent lifecycle error 3" || got[len(got)-1] != "chat error 3" {
		t.Fatalf("events = %q", got)
	}
	n := 0
	for _, s := range got {
		if strings.HasPrefix(s, "agent lifecycle") {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d lifecycle events, want one start and one error", n)
	}
	if w := h.runner.Wait(t.Context(), "to", 0); w.Status != "error" || !strings.Contains(w.Error, "timed out") {
		t.Fatalf("agent.wait = %+v", w)
	}
	if !h.sessions.entry("main").AbortedLastRun {
		t.Fatal("abortedLastRun not stored after the timeout")
	}
}

func TestAgentValidation(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"message": "x", "agentId": "ghost", "idempotencyKey": "v1"}, `invalid agent params: unknown agent id "ghost"`},
		{map[string]any{"message": "x", "agentId": "main", "sessionKey": "agent:other:main", "idempotencyKey": "v2"},
			`invalid agent params: agent "main" does not match session key agent "other"`},
		{map[string]any{"message": "x", "channel": "carrierpigeon", "idempotencyKey": "v3"}, "invalid agent params: unknown channel: carrierpigeon"},
		{map[string]any{"message": "x", "idempotencyKey": "v4", "attachments": []any{map[string]any{"fileName": "a.png", "content": "!!"}}},
			"Error: attachment a.png: invalid base64 content"},
	} {
		id, done := h.call("agent", tc.params)
		wait(t, done)
		r := h.res(id)
		if len(r) != 1 || r[0].errCode != wire.ErrInvalidRequest || r[0].errMsg != tc.want {
			t.Fatalf("%v: res %+v", tc.params, r)
		}
	}
	id, done := h.call("agent", map[string]any{"message": "x", "idempotencyKey": "v5", "thinking": "bogus"})
	wait(t, done)
	if r := h.res(id); len(r) != 2 || r[1].errCode != wire.ErrUnavailable || !strings.Contains(r[1].payload["summary"].(string), "Invalid thinking level") {
		t.Fatalf("bad thinking: %+v", r)
	}
}

func TestAgentsListAndIdentity(t *testing.T) {
	h := newHarness(t, nil)
	id, _ := h.call("agents.list", map[string]any{})
	got := h.res(id)[0].payload
	b, _ := json.Marshal(got)
	if string(b) != `{"agents":[{"id":"main"}],"defaultId":"main","mainKey":"main","scope":"per-sender"}` {
		t.Fatalf("agents.list = %s", b)
	}
	id, _ = h.call("agent.identity.get", map[string]any{"sessionKey": "main"})
	if p := h.res(id)[0].payload; p["agentId"] != "main" || p["name"] != "Assistant" || p["avatar"] != "A" {
		t.Fatalf("identity = %v", p)
	}
	h.setConfig(func(c *agent.Config) {
		c.Agents = []agent.AgentEntry{{ID: "ops", Identity: &agent.Identity{Name: "Opsy", Emoji: "🦞"}}}
	})
	id, _ = h.call("agent.identity.get", map[string]any{"agentId": "ops"})
	if p := h.res(id)[0].payload; p["name"] != "Opsy" || p["avatar"] != "🦞" {
		t.Fatalf("identity = %v", p)
	}
}

func TestUsage(t *testing.T) {
	h := newHarness(t, nil)
	id, _ := h.call("usage.status", map[string]any{})
	if p := h.res(id)[0].payload; p["providers"] == nil {
		t.Fatalf("usage.status = %v", p)
	}
	id, done := h.call("usage.cost", map[string]any{"days": 7})
	wait(t, done)
	if p := h.res(id)[0].payload; p["days"] != float64(7) || p["totals"] == nil {
		t.Fatalf("usage.cost = %v", p)
	}
}
