package httpapi_test

import (
	"bufio"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

func p50(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds())
}

// BenchmarkChatCompletionOverhead is the gateway's cost of a non-stream
// completion over an upstream that answers at once: HTTP, auth, prompt,
// the runner (lanes, session, transcript append) and the JSON answer.
// Target: p50 ≤ 1 ms.
func BenchmarkChatCompletionOverhead(b *testing.B) {
	e := newEnv(b, nil)
	body := `{"model":"clawdbot","messages":[{"role":"user","content":"hi"}]}`
	c := &http.Client{}
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var buf [4096]byte
		for {
			if _, err := res.Body.Read(buf[:]); err != nil {
				break
			}
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatal(res.Status)
		}
		lat = append(lat, time.Since(start))
	}
	b.ReportMetric(p50(lat), "p50-µs")
}

// tickModel emits one delta per tick and records when.
type tickModel struct {
	tick    chan struct{}
	emitted chan time.Time
}

func (m *tickModel) Resolve(string, string) (llm.Selection, error) {
	return llm.Selection{Primary: llm.Ref{Provider: "fake", Model: "tick"}, Chain: m}, nil
}

func (m *tickModel) Stream(ctx context.Context, _ llm.Request, emit func(llm.Event)) (llm.Message, error) {
	for {
		select {
		case _, ok := <-m.tick:
			if !ok {
				return llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text("x")}}, nil
			}
			m.emitted <- time.Now()
			emit(llm.Event{Kind: llm.EventText, Delta: "x"})
		case <-ctx.Done():
			return llm.Message{}, ctx.Err()
		}
	}
}

// BenchmarkStreamChunkForward is the time from the model emitting a delta
// to the client reading its chunk. Target: p50 ≤ 0.2 ms.
func BenchmarkStreamChunkForward(b *testing.B) {
	e := newEnv(b, nil)
	m := &tickModel{tick: make(chan struct{}), emitted: make(chan time.Time, 1)}
	e.swapModel(m)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"go"}]}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		m.tick <- struct{}{}
		sent := <-m.emitted
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if strings.Contains(line, `"content":"x"`) {
				break
			}
		}
		lat = append(lat, time.Since(sent))
	}
	b.StopTimer()
	close(m.tick)
	b.ReportMetric(p50(lat), "p50-µs")
}
