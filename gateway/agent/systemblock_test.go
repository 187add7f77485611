package agent_test

import (
	"sync"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// TestChatSystemBlock: queued system events are prepended to the next
// chat turn's user message as the original's "System:" block, outside the
// aborted note and the [message_id] hint, and only once (drained); the
// agent method's turns (the direct path) do not take them.
func TestChatSystemBlock(t *testing.T) {
	var mu sync.Mutex
	queue := map[string][]string{"agent:main:main": {"[2026-12-02 02:41:30 UTC] Wake: check the mail", "[2026-12-02 02:41:31 UTC] Hook mail: 3 new"}}
	drained := []string{}
	h := newHarness(t, func(d *agent.Deps) {
		d.SystemEvents = func(key string) []string {
			mu.Lock()
			defer mu.Unlock()
			drained = append(drained, key)
			out := queue[key]
			delete(queue, key)
			return out
		}
	})
	_, d := h.call("agent", map[string]any{"message": "direct", "sessionKey": "main", "idempotencyKey": "a1"})
	wait(t, d)
	if got := lastUser(h.model.snapshot()[0]); got != "direct" {
		t.Errorf("agent turn = %q, want the message alone", got)
	}

	h.sessions.Update("main", agent.SessionUpdate{AbortedLastRun: ptr(true)})
	_, d = h.call("chat.send", chatParams("c1", "hello"))
	wait(t, d)
	want := "System: [2026-12-02 02:41:30 UTC] Wake: check the mail\nSystem: [2026-12-02 02:41:31 UTC] Hook mail: 3 new\n\n" +
		agent.AbortedNote + "\n\nhello\n[message_id: c1]"
	if got := lastUser(h.model.snapshot()[1]); got != want {
		t.Errorf("chat turn =\n%q\nwant\n%q", got, want)
	}
	_, d = h.call("chat.send", chatParams("c2", "again"))
	wait(t, d)
	if got := lastUser(h.model.snapshot()[2]); got != "again\n[message_id: c2]" {
		t.Errorf("next chat turn = %q, want no System block (drained)", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(drained) != 2 || drained[0] != "agent:main:main" {
		t.Errorf("drained %q", drained)
	}
}

func ptr[T any](v T) *T { return &v }

func (f *fakeModel) snapshot() []llm.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]llm.Request(nil), f.requests...)
}
