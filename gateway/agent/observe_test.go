package agent_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent"
)

// TestOnEventSeesTheRunInSeqOrder: Turn.OnEvent gets the same events,
// with the same seqs, as the broadcast, in order, before Run returns.
func TestOnEventSeesTheRunInSeqOrder(t *testing.T) {
	h := newHarness(t, nil)
	s, _ := h.sessions.Resolve("agent:main:observe")
	var got []string
	out := h.runner.Run(t.Context(), agent.Turn{RunID: "obs-1", Session: s, Message: "hi",
		OnEvent: func(e agent.Event) {
			got = append(got, fmt.Sprintf("%d %s %s%s", e.Seq, e.Stream, e.Phase, e.Delta))
		}})
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	want := []string{"1 lifecycle start", "2 assistant Hello", "3 assistant  from the fake model.", "4 lifecycle end"}
	if !slices.Equal(got, want) {
		t.Fatalf("observed %q, want %q", got, want)
	}
	var broadcast []string
	for _, f := range h.log.events("obs-1") {
		if f.name == "agent" {
			broadcast = append(broadcast, fmt.Sprint(f.payload["seq"]))
		}
	}
	if !slices.Equal(broadcast, []string{"1", "2", "3", "4"}) {
		t.Fatalf("broadcast seqs %v", broadcast)
	}
}
