package models

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

func benchSelection(b *testing.B, api string, up *llmtest.Server) llm.Selection {
	b.Helper()
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"fake": fakeProvider(up.URL, api, "m")}}, Agents: primary("fake/m")}
	r := New(Options{Config: func() profiles.Config { return cfg }, Retry: fastRetry})
	sel, err := r.Resolve("main", "")
	if err != nil {
		b.Fatal(err)
	}
	return sel
}

// BenchmarkDeltaLatency is the time from the fake upstream flushing a text
// delta onto the loopback connection to the chain calling emit with it:
// loopback TCP, the SDK's SSE parsing and our accumulation. Deltas are 2 ms
// apart so each one is measured on its own. Reported: p50 and p99 per delta
// in microseconds.
func BenchmarkDeltaLatency(b *testing.B) {
	for _, api := range []string{APIOpenAICompletions, APIAnthropicMessages} {
		b.Run(api, func(b *testing.B) {
			const n = 50
			var lat []time.Duration
			for b.Loop() {
				sent := make(chan time.Time, n)
				script := llmtest.Script{Responses: []llmtest.Response{{Text: llmtest.Words(n), Spacing: 2 * time.Millisecond, TextSent: sent}}}
				var up *llmtest.Server
				if api == APIAnthropicMessages {
					up = llmtest.NewAnthropic(b, script)
				} else {
					up = llmtest.NewOpenAI(b, script)
				}
				sel := benchSelection(b, api, up)
				var got []time.Time
				_, err := sel.Chain.Stream(context.Background(), llm.Request{Messages: history.Messages[:1]}, func(ev llm.Event) {
					if ev.Kind == llm.EventText {
						got = append(got, time.Now())
					}
				})
				if err != nil || len(got) != n {
					b.Fatalf("%v, %d deltas", err, len(got))
				}
				for i := range got {
					lat = append(lat, got[i].Sub(<-sent))
				}
				up.Close()
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs/delta")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs/delta")
		})
	}
}

// BenchmarkStreamThroughput is the whole cost of one streamed delta when
// the upstream sends them back to back (1000 per answer, one answer per
// op), reported as ns/delta.
func BenchmarkStreamThroughput(b *testing.B) {
	const n = 1000
	up := llmtest.NewOpenAI(b, llmtest.Script{Responses: []llmtest.Response{{Text: llmtest.Words(n)}}})
	sel := benchSelection(b, APIOpenAICompletions, up)
	b.ReportAllocs()
	start := time.Now()
	ops := 0
	for b.Loop() {
		if _, err := sel.Chain.Stream(context.Background(), llm.Request{Messages: history.Messages[:1]}, func(llm.Event) {}); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(ops*n), "ns/delta")
}
