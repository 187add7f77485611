package agent_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/wire"
)

func chatParams(idem, msg string) map[string]any {
	return map[string]any{"sessionKey": "main", "message": msg, "idempotencyKey": idem}
}

// chat.send: started before any event; in_flight for a duplicate while
// it runs; the cached {runId, status:"ok"} after; [message_id] appended.
func TestChatSendStartedInFlightReplay(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, nil)
	h.model.script = blockingScript(release)
	h.model.started = make(chan string, 10)
	id, done := h.call("chat.send", chatParams("c1", "SLOW please"))
	if got := <-h.model.started; got != "SLOW please\n[message_id: c1]" {
		t.Fatalf("model saw %q", got)
	}
	all := h.log.snapshot()
	if all[0].kind != "res" || all[0].name != id || all[0].payload["status"] != "started" {
		t.Fatalf("first frame = %+v, want the started ack", all[0])
	}
	id2, d2 := h.call("chat.send", chatParams("c1", "SLOW please"))
	wait(t, d2)
	if r := h.res(id2); len(r) != 1 || r[0].payload["status"] != "in_flight" || r[0].payload["runId"] != "c1" {
		t.Fatalf("duplicate = %+v", r)
	}
	close(release)
	wait(t, done)
	if r := h.res(id); len(r) != 1 {
		t.Fatalf("chat.send sent %d res, want only the ack", len(r))
	}
	id3, d3 := h.call("chat.send", chatParams("c1", "SLOW please"))
	wait(t, d3)
	if r := h.res(id3); len(r) != 1 || r[0].payload["status"] != "ok" {
		t.Fatalf("replay = %+v", r)
	}
	if h.model.calls != 1 {
		t.Fatalf("%d model calls", h.model.calls)
	}
	if e := h.sessions.entry("main"); e.AbortedLastRun {
		t.Fatal("abortedLastRun set after a clean run")
	}
}

// chat.abort mid-stream: the aborted event comes before the res, no chat
// final follows, the agent lifecycle still ends, the aborted assistant
// message is not stored, and the next turn carries the abortedLastRun note.
func TestChatAbortMidStream(t *testing.T) {
	h := newHarness(t, nil)
	h.model.script = blockingScript(make(chan struct{}))
	h.model.started = make(chan string, 10)
	_, done := h.call("chat.send", chatParams("ab", "SLOW"))
	<-h.model.started
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(h.log.events("ab")) >= 3 }) // start, assistant, chat delta
	id, _ := h.call("chat.abort", map[string]any{"sessionKey": "main", "runId": "ab"})
	r := h.res(id)
	if len(r) != 1 || r[0].payload["aborted"] != true || !slices.Equal(r[0].payload["runIds"].([]any), []any{"ab"}) {
		t.Fatalf("chat.abort = %+v", r)
	}
	wait(t, done)
	all := h.log.snapshot()
	abortedAt, resAt := -1, -1
	for i, f := range all {
		if f.name == wire.EventChat && f.payload["state"] == "aborted" {
			abortedAt = i
			if f.payload["stopReason"] != "rpc" || f.payload["seq"] != float64(3) {
				t.Fatalf("aborted event = %v", f.payload)
			}
		}
		if f.kind == "res" && f.name == id {
			resAt = i
		}
	}
	if abortedAt < 0 || abortedAt > resAt {
		t.Fatalf("aborted event at %d, res at %d: the event must come first", abortedAt, resAt)
	}
	got := summary(h.log.events("ab"))
	if !slices.Equal(got, []string{"agent lifecycle start 1", "agent assistant 2", "chat delta 2", "chat aborted 3", "agent lifecycle end 3"}) {
		t.Fatalf("events = %q", got)
	}
	tr := h.sessions.transcript("main")
	if len(tr) != 1 || tr[0].Role != llm.RoleUser {
		t.Fatalf("transcript after abort = %+v", tr)
	}
	if !h.sessions.entry("main").AbortedLastRun {
		t.Fatal("abortedLastRun not set")
	}
	_, d2 := h.call("chat.send", chatParams("next", "hello again"))
	wait(t, d2)
	if got := lastUser(h.model.requests[1]); !strings.HasPrefix(got, agent.AbortedNote+"\n\nhello again") {
		t.Fatalf("next turn = %q, want the aborted note", got)
	}
	if h.sessions.entry("main").AbortedLastRun {
		t.Fatal("abortedLastRun not cleared by the next turn")
	}

	// Unknown run; a run of another session.
	id, _ = h.call("chat.abort", map[string]any{"sessionKey": "main", "runId": "nope"})
	if r := h.res(id); r[0].payload["aborted"] != false || len(r[0].payload["runIds"].([]any)) != 0 {
		t.Fatalf("unknown run = %+v", r)
	}
}

func TestChatAbortWrongSession(t *testing.T) {
	h := newHarness(t, nil)
	h.model.script = blockingScript(make(chan struct{}))
	h.model.started = make(chan string, 10)
	_, done := h.call("chat.send", chatParams("w1", "SLOW"))
	<-h.model.started
	id, _ := h.call("chat.abort", map[string]any{"sessionKey": "other", "runId": "w1"})
	if r := h.res(id); r[0].errCode != wire.ErrInvalidRequest || r[0].errMsg != "runId does not match sessionKey" {
		t.Fatalf("res = %+v", r)
	}
	// A stop word aborts every chat run of the session, before dedupe.
	id, _ = h.call("chat.send", chatParams("w1", "  /STOP "))
	r := h.waitRes(id, 1)
	if r[0].payload["ok"] != true || r[0].payload["aborted"] != true || !slices.Equal(r[0].payload["runIds"].([]any), []any{"w1"}) {
		t.Fatalf("stop = %+v", r)
	}
	wait(t, done)
	for _, f := range h.log.events("w1") {
		if f.name == wire.EventChat && f.payload["state"] == "aborted" && f.payload["stopReason"] != "stop" {
			t.Fatalf("stopReason = %v", f.payload["stopReason"])
		}
	}
}

// chat.abort cannot stop an agent-method run; AbortSession (what
// sessions.delete calls) can.
func TestAbortSessionReachesAgentRuns(t *testing.T) {
	h := newHarness(t, nil)
	h.model.script = blockingScript(make(chan struct{}))
	h.model.started = make(chan string, 10)
	id, done := h.call("agent", agentParams("ag", "SLOW"))
	<-h.model.started
	aid, _ := h.call("chat.abort", map[string]any{"sessionKey": "main"})
	if r := h.res(aid); r[0].payload["aborted"] != false {
		t.Fatalf("chat.abort reached an agent run: %+v", r)
	}
	if !h.runner.AbortSession("agent:main:main") {
		t.Fatal("AbortSession found no run")
	}
	wait(t, done)
	final := h.res(id)[1].payload
	if final["status"] != "ok" || final["result"].(map[string]any)["meta"].(map[string]any)["aborted"] != true {
		t.Fatalf("final = %v", final)
	}
	if h.runner.AbortSession("agent:main:main") {
		t.Fatal("AbortSession reported a run after it ended")
	}
}

// collect mode: messages that arrive while the session is busy get an
// empty final each and run later as one merged turn under a new run id.
func TestCollectModeMerges(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, nil)
	h.setConfig(func(c *agent.Config) { c.QueueDebounce = 10 * time.Millisecond })
	h.model.script = blockingScript(release)
	h.model.started = make(chan string, 10)
	_, d1 := h.call("chat.send", chatParams("q0", "SLOW first"))
	<-h.model.started
	for _, m := range []string{"q1", "q2"} {
		id, done := h.call("chat.send", chatParams(m, "then "+m))
		wait(t, done)
		if r := h.res(id); len(r) != 1 || r[0].payload["status"] != "started" {
			t.Fatalf("%s res = %+v", m, r)
		}
		if got := summary(h.log.events(m)); !slices.Equal(got, []string{"chat final 1"}) {
			t.Fatalf("%s events = %q, want one empty final", m, got)
		}
		if msg := h.log.events(m)[0].payload["message"]; msg != nil {
			t.Fatalf("queued final carries a message: %v", msg)
		}
	}
	close(release)
	wait(t, d1)
	var merged string
	select {
	case <-h.model.started:
		merged = lastUser(h.model.requests[1])
	case <-time.After(5 * time.Second):
		t.Fatal("the collected followup never ran")
	}
	want := "[Queued messages while agent was busy]\n\n---\nQueued #1\nthen q1\n[message_id: q1]\n\n---\nQueued #2\nthen q2\n[message_id: q2]"
	if merged != want {
		t.Fatalf("merged turn:\n%q\nwant\n%q", merged, want)
	}
	select {
	case s := <-h.model.started:
		t.Fatalf("an extra turn ran: %q", s)
	case <-time.After(50 * time.Millisecond):
	}
}

// followup mode runs each queued message as its own turn, in order.
func TestFollowupModeRunsEach(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, nil)
	h.setConfig(func(c *agent.Config) { c.QueueDebounce = 0; c.QueueMode = agent.QueueFollowup })
	h.model.script = blockingScript(release)
	h.model.started = make(chan string, 10)
	_, d1 := h.call("chat.send", chatParams("f0", "SLOW"))
	<-h.model.started
	for _, m := range []string{"f1", "f2"} {
		_, done := h.call("chat.send", chatParams(m, m))
		wait(t, done)
	}
	close(release)
	wait(t, d1)
	for _, want := range []string{"f1\n[message_id: f1]", "f2\n[message_id: f2]"} {
		select {
		case got := <-h.model.started:
			if got != want {
				t.Fatalf("followup = %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("followup %q never ran", want)
		}
	}
}

// The chat delta throttle: deltas closer than the interval are folded
// into the next one that goes out or the final.
func TestChatDeltaThrottle(t *testing.T) {
	h := newHarness(t, func(d *agent.Deps) { d.ChatDeltaInterval = time.Hour })
	h.model.script = func(int, llm.Request) []step { return []step{{delta: "a"}, {delta: "b"}, {delta: "c"}} }
	_, done := h.call("chat.send", chatParams("th", "go"))
	wait(t, done)
	got := summary(h.log.events("th"))
	want := []string{"agent lifecycle start 1", "agent assistant 2", "chat delta 2", "agent assistant 3", "agent assistant 4",
		"agent lifecycle end 5", "chat final 5"}
	if !slices.Equal(got, want) {
		t.Fatalf("events = %q", got)
	}
	evs := h.log.events("th")
	if txt := evs[len(evs)-1].payload["message"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]; txt != "abc" {
		t.Fatalf("final text = %v", txt)
	}
}

// Directives answered without a run and /new.
func TestChatDirectives(t *testing.T) {
	h := newHarness(t, nil)
	_, done := h.call("chat.send", chatParams("d1", "/think high"))
	wait(t, done)
	if e := h.sessions.entry("main"); e.ThinkingLevel != "high" {
		t.Fatalf("thinking = %q", e.ThinkingLevel)
	}
	evs := h.log.events("d1")
	if len(evs) != 1 || evs[0].payload["state"] != "final" {
		t.Fatalf("events = %+v", evs)
	}
	tr := h.sessions.transcript("main")
	if len(tr) != 1 || tr[0].StopReason != llm.StopInjected || tr[0].PlainText() != "Thinking level set to high." {
		t.Fatalf("transcript = %+v", tr)
	}
	_, done = h.call("chat.send", chatParams("d2", "/verbose on"))
	wait(t, done)
	_, done = h.call("chat.send", chatParams("d3", "/queue steer"))
	wait(t, done)
	_, done = h.call("chat.send", chatParams("d4", "/model fake/other"))
	wait(t, done)
	e := h.sessions.entry("main")
	if e.VerboseLevel != "on" || e.QueueMode != "steer" || e.ModelOverride != "fake/other" {
		t.Fatalf("entry = %+v", e)
	}
	_, done = h.call("chat.send", chatParams("d5", "/status"))
	wait(t, done)
	if st := h.sessions.transcript("main"); !strings.Contains(st[len(st)-1].PlainText(), "Model: fake/other") {
		t.Fatalf("/status = %q", st[len(st)-1].PlainText())
	}
	if h.model.calls != 0 {
		t.Fatalf("directives ran the model %d times", h.model.calls)
	}
	before := e.SessionID
	_, done = h.call("chat.send", chatParams("d6", "/new"))
	wait(t, done)
	if e := h.sessions.entry("main"); e.SessionID == before {
		t.Fatal("/new kept the session id")
	}
	if got := lastUser(h.model.requests[0]); !strings.HasPrefix(got, agent.ResetGreeting+"\n[message_id: d6]") {
		t.Fatalf("/new turn = %q", got)
	}
	if th := h.model.requests[0].Thinking; th != "high" {
		t.Fatalf("thinking of the turn = %q", th)
	}
}

func TestChatInject(t *testing.T) {
	h := newHarness(t, nil)
	id, _ := h.call("chat.inject", map[string]any{"sessionKey": "main", "message": "x"})
	if r := h.res(id); r[0].errMsg != "session not found" {
		t.Fatalf("res = %+v", r)
	}
	h.sessions.Resolve("main")
	id, _ = h.call("chat.inject", map[string]any{"sessionKey": "main", "message": "note", "label": "ops"})
	all := h.log.snapshot()
	ev, res := all[len(all)-2], all[len(all)-1]
	if ev.name != wire.EventChat || ev.payload["state"] != "final" || ev.payload["seq"] != float64(0) ||
		!strings.HasPrefix(ev.payload["runId"].(string), "inject-") || res.name != id || res.payload["ok"] != true {
		t.Fatalf("event %+v then res %+v", ev, res)
	}
	if tr := h.sessions.transcript("main"); tr[0].PlainText() != "[ops]\n\nnote" || tr[0].StopReason != llm.StopInjected {
		t.Fatalf("transcript = %+v", tr)
	}
}
