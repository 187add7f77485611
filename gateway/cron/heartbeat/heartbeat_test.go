package heartbeat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTurns stands in for the agent runner (which needs a model upstream).
type fakeTurns struct {
	reply string
	got   []Turn
}

func (f *fakeTurns) Busy() bool { return false }
func (f *fakeTurns) RunHeartbeat(_ context.Context, t Turn) (Reply, error) {
	f.got = append(f.got, t)
	return Reply{Texts: []string{f.reply}}, nil
}

type queue []string

func (q *queue) Drain(string) []string { out := *q; *q = nil; return out }

func TestStripToken(t *testing.T) {
	tests := []struct {
		in   string
		skip bool
		text string
	}{
		{"HEARTBEAT_OK", true, ""},
		{"**HEARTBEAT_OK**", true, ""},
		{"HEARTBEAT_OK all quiet", true, ""},
		{"Your flight is delayed", false, "Your flight is delayed"},
		{"HEARTBEAT_OK " + strings.Repeat("a", 301), false, strings.Repeat("a", 301)},
		{"", true, ""},
	}
	for _, tc := range tests {
		got := StripToken(tc.in, DefaultAckMaxChars)
		if got.Skip != tc.skip || got.Text != tc.text {
			t.Errorf("StripToken(%q) = %+v, want skip %v text %q", tc.in, got, tc.skip, tc.text)
		}
	}
	if !ContentEmpty("# Tasks\n\n- [ ]\n") || ContentEmpty("# Tasks\n- water plants\n") {
		t.Fatal("ContentEmpty")
	}
}

func TestSummaryFromConfig(t *testing.T) {
	if h := Summary(map[string]any{}, "main"); !h.Enabled || h.Every != "30m" || h.EveryMs == nil || *h.EveryMs != 1800000 {
		t.Fatalf("default = %+v", h)
	}
	doc := map[string]any{"agents": map[string]any{"defaults": map[string]any{"heartbeat": map[string]any{"every": "0m"}}}}
	if h := Summary(doc, "main"); h.Enabled != true || h.EveryMs != nil {
		t.Fatalf("every 0m = %+v", h)
	}
	doc = map[string]any{"agents": map[string]any{"list": []any{map[string]any{"id": "main"}, map[string]any{"id": "ops", "heartbeat": map[string]any{"every": "2h"}}}}}
	if h := Summary(doc, "main"); h.Enabled || h.Every != "disabled" {
		t.Fatalf("main without explicit heartbeat = %+v", h)
	}
	if a := Agents(doc); len(a) != 1 || a[0].ID != "ops" || a[0].Interval.Hours() != 2 {
		t.Fatalf("agents = %+v", a)
	}
}

func TestRunOnce(t *testing.T) {
	ws := t.TempDir()
	turns := &fakeTurns{reply: "HEARTBEAT_OK"}
	q := &queue{"[2026-01-01 10:00:00] wake up"}
	r := New(Deps{Turns: turns, Events: q, Workspace: func(string) string { return ws }})
	if res := r.RunOnce(context.Background(), "wake"); res.Status != "ran" {
		t.Fatalf("RunOnce = %+v", res)
	}
	if e := r.Last(); e == nil || e.Status != "ok-token" || e.Silent == nil || !*e.Silent {
		t.Fatalf("ack event = %+v", e)
	}
	if m := turns.got[0].Message; !strings.HasPrefix(m, "System: [2026-01-01 10:00:00] wake up\n\n") || !strings.HasSuffix(m, DefaultPrompt) {
		t.Fatalf("message = %q", m)
	}
	turns.reply = "The server is down"
	r.RunOnce(context.Background(), "wake")
	if e := r.Last(); e.Status != "skipped" || e.Reason != "no-target" || e.Preview != "The server is down" {
		t.Fatalf("alert event = %+v", e)
	}
	_ = os.WriteFile(filepath.Join(ws, "HEARTBEAT.md"), []byte("# nothing\n"), 0o600)
	if res := r.RunOnce(context.Background(), "wake"); res.Reason != "disabled" && r.Last().Reason != "empty-heartbeat-file" {
		t.Fatalf("empty HEARTBEAT.md: %+v %+v", res, r.Last())
	}
	r.SetEnabled(false)
	if res := r.RunOnce(context.Background(), "wake"); res.Status != "skipped" || res.Reason != "disabled" {
		t.Fatalf("disabled = %+v", res)
	}
}
