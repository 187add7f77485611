package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// The reminder context counts as JavaScript does (UTF-16 units), so the
// original's 220 and 700 limits mean the same text here.
func TestTruncateUTF16(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "hello", 5, "hello"},
		{"cut", "hello world", 8, "hello..."},
		{"trailing space trimmed", "hello world", 9, "hello..."},
		{"astral rune is two units", strings.Repeat("😀", 3), 5, "😀..."},
		{"never half a pair", "a😀😀", 4, "a..."},
		{"empty budget", "abcdef", 3, "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := truncateUTF16(tc.in, tc.max); got != tc.want {
				t.Fatalf("truncateUTF16(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if utf16Len(truncateUTF16(tc.in, tc.max)) > max(tc.max, 3) {
				t.Fatalf("result over %d units", tc.max)
			}
		})
	}
}

func TestCronTimeoutBounds(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		in   *float64
		want time.Duration
	}{
		{nil, 10 * time.Second},
		{f(250), 250 * time.Millisecond},
		{f(0), time.Millisecond},
		{f(-5), time.Millisecond},
		{f(1e18), 5 * time.Minute},
	} {
		if got := cronTimeout(tc.in); got != tc.want {
			t.Errorf("cronTimeout(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// blockingScheduler stands in for a cron.run that outlasts the tool's
// wait (a long agentTurn job) or a scheduler that panics: both are hard to
// produce on demand with the real one, which the gateway tests drive.
type blockingScheduler struct {
	release chan struct{}
	panics  bool
}

func (b blockingScheduler) CallCron(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	if b.panics {
		panic("boom")
	}
	<-b.release
	return json.RawMessage(`{"ok":true}`), nil
}

func TestCronToolWaitIsBounded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for _, tc := range []struct {
		name  string
		sched Scheduler
		want  string
	}{
		{"slow call times out", blockingScheduler{release: release}, "gateway timeout after 20ms"},
		{"panic is an error", blockingScheduler{panics: true}, "cron.run failed: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := New(Options{Cron: tc.sched})
			res, err := reg.Call(context.Background(), agent.Session{Key: "agent:main:main", AgentID: "main"},
				llm.Content{Type: llm.ContentToolCall, ID: "c", Name: "cron", Arguments: json.RawMessage(`{"action":"run","jobId":"j","timeoutMs":20}`)})
			if err != nil || !res.IsError || res.Content[0].Text != tc.want {
				t.Fatalf("result %+v (err %v), want error %q", res, err, tc.want)
			}
		})
	}
}
