package gateway

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// Chat latency through the real gateway (socket in → socket out, the
// session store on disk), with fakeModel as an instant upstream (a fake:
// the figure is the gateway's cost, not a model's):
//
//	go test -run '^$' -bench 'ChatSendGateway|DeltaGateway' -benchmem ./gateway/
//
// Targets: chat.send → ack ≤ 1 ms, → first agent assistant delta ≤ 5 ms,
// gateway-added latency per delta (provider emit → agent event frame read
// by the client) p50 ≤ 0.2 ms.

// BenchmarkChatSendGateway: one chat.send per iteration on one of 8 warm
// sessions (so a history grows to tens of messages, not thousands), timed to its started ack and to the first assistant event;
// the run's final is awaited before the next one.
func BenchmarkChatSendGateway(b *testing.B) {
	s := chatServer(b, newFakeModel("hi"), nil)
	c, _ := connectChat(b, s)
	var ack, first []time.Duration
	for i := 0; b.Loop(); i++ {
		id, key := fmt.Sprint("bench-", i), fmt.Sprint("agent:main:s", i%8)
		t0 := time.Now()
		send(c, id, "chat.send", map[string]any{"sessionKey": key, "message": "hi", "idempotencyKey": id})
		gotAck := false
		collectUntil(b, c, func(f wsFrame) bool {
			switch {
			case f.is("res", id):
				ack, gotAck = append(ack, time.Since(t0)), true
			case gotAck && len(first) < len(ack) && f.is("event", "agent") && f.payload()["stream"] == "assistant":
				first = append(first, time.Since(t0))
			}
			return chatFinalOf(id)(f)
		})
		// The run's store update (fsync'd) follows its final event; the
		// next send starts on an idle gateway, as a user's would.
		if !gatewaytest.Poll(5*time.Second, func() bool { return s.f.agent.Idle(key) }) {
			b.Fatal("run did not finish")
		}
	}
	reportP50(b, ack, "ack-p50-µs")
	reportP50(b, first, "first-delta-p50-µs")
	// The minimum is the figure of an unloaded machine (the 2 cores are
	// shared with other work when the p50 is taken).
	b.ReportMetric(float64(slices.Min(ack).Nanoseconds())/1e3, "ack-min-µs")
	b.ReportMetric(float64(slices.Min(first).Nanoseconds())/1e3, "first-delta-min-µs")
}

// BenchmarkDeltaGateway: per streamed delta, the time from the provider's
// emit to the client's read of its agent event, 200 deltas per run,
// 0.5 ms apart so each delta is measured on its own rather than queued
// behind the previous one; chat deltas keep the original's 150 ms
// throttle, as a UI sees them.
func BenchmarkDeltaGateway(b *testing.B) {
	deltas := make([]string, 200)
	for i := range deltas {
		deltas[i] = fmt.Sprint(" w", i)
	}
	m := newFakeModel(deltas...)
	m.spacing = 500 * time.Microsecond
	s := chatServer(b, m, func(o *Options) { o.ChatDeltaInterval = 0 })
	c, _ := connectChat(b, s)
	var gaps []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprint("delta-", i)
		m.mu.Lock()
		m.emitted = m.emitted[:0]
		m.mu.Unlock()
		n := 0
		send(c, id, "agent", map[string]any{"sessionKey": "main", "message": "go", "idempotencyKey": id})
		collectUntil(b, c, func(f wsFrame) bool {
			if f.is("event", "agent") && f.payload()["stream"] == "assistant" {
				at := time.Now()
				m.mu.Lock()
				if n < len(m.emitted) {
					gaps = append(gaps, at.Sub(m.emitted[n]))
				}
				m.mu.Unlock()
				n++
			}
			return chatFinalOf(id)(f)
		})
	}
	reportP50(b, gaps, "delta-p50-µs")
	b.ReportMetric(float64(slices.Min(gaps).Nanoseconds())/1e3, "delta-min-µs")
}
