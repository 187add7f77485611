package browsertest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
)

// First paint of / on loopback, as the browser measures it (the Paint
// Timing API's first-contentful-paint, from navigation start), with the
// HTTP cache off so that every load fetches the UI from the gateway.
// Target: ≤ 200 ms. Each load comes from a page of another site
// (localhost), as opening the UI from the new-tab page or a link does, so
// the browser starts a renderer for it each time (from about:blank in the
// same tab it may reuse one, unless a header such as the UI's
// Cross-Origin-Opener-Policy forbids that: ~100 ms apart here). The floor
// sub-benchmark loads a one-line page the same way: what this machine's
// Chromium needs for any first paint at that moment (a shared machine's
// load moves both).
//
//	go test -run '^$' -bench ControlUIFirstPaint ./gateway/controlui/browsertest
func BenchmarkControlUIFirstPaint(b *testing.B) {
	f := startGateway(b, chatScript())
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<!doctype html><title>floor</title><p>first paint</p>")
	}))
	b.Cleanup(floor.Close)
	br := newBrowser(b, 10*time.Minute)
	if _, err := chromedp.Call(br.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		b.Fatal(err)
	}
	const fcp = `((e) => e ? e.startTime : 0)(performance.getEntriesByName('first-contentful-paint')[0])`
	elsewhere := strings.Replace(floor.URL, "127.0.0.1", "localhost", 1) + "/elsewhere"
	for _, c := range []struct{ name, url string }{{"controlui", f.base + "/"}, {"floor", floor.URL + "/"}} {
		b.Run(c.name, func(b *testing.B) {
			var all []float64
			for b.Loop() {
				br.run("go to another site", chromedp.Navigate(elsewhere))
				br.run("open "+c.url, chromedp.Navigate(c.url))
				br.waitJS("first-contentful-paint", fcp+` > 0`, 5*time.Second)
				all = append(all, eval[float64](br, fcp))
			}
			reportMillis(b, "fcp", all)
		})
	}
}

// A chat delta's arrival in the page (a WebSocket message listener that
// runs before the UI's) to the DOM showing the new text (a
// MutationObserver), both on the page's clock. Target: within one
// animation frame: render-after-next-frame-% counts the deltas shown
// only after the next frame had begun (render-over-16.7ms-% the ones
// slower than a 60 Hz frame). Each op is one streamed turn.
//
//	go test -run '^$' -bench ControlUIDeltaRender ./gateway/controlui/browsertest
func BenchmarkControlUIDeltaRender(b *testing.B) {
	f := startGateway(b, llmtest.Script{Responses: []llmtest.Response{{Text: llmtest.Words(12), Spacing: 40 * time.Millisecond}}})
	br := newBrowser(b, 10*time.Minute)
	br.installProbe()
	br.open(f, "/")
	br.waitJS("the chat input", q("chat-input"), 5*time.Second)
	var all []float64
	late, turn := 0, 0
	for b.Loop() {
		turn++
		br.resetProbe()
		br.say(fmt.Sprintf("turn %d", turn))
		br.waitJS("the final reply", fmt.Sprintf(`((m) => !!m && !m.hasAttribute('data-streaming') && document.querySelectorAll('[data-testid="chat-message"][data-role="assistant"]').length === %d)(%s)`, turn, lastAssistant), 15*time.Second)
		frames, renders := br.probed()
		for _, p := range deltaPairs(frames, renders) {
			all = append(all, p.latency())
			if p.framesLate() > 1 {
				late++
			}
		}
	}
	if len(all) == 0 {
		b.Fatal("no chat delta was followed by a render")
	}
	reportMillis(b, "render", all)
	over := 0
	for _, ms := range all {
		if ms > 1000.0/60 {
			over++
		}
	}
	b.ReportMetric(100*float64(over)/float64(len(all)), "render-over-16.7ms-%")
	// The target proper: shown by the next animation frame after arrival
	// (on a loaded machine frames themselves run late, so milliseconds
	// overstate it).
	b.ReportMetric(100*float64(late)/float64(len(all)), "render-after-next-frame-%")
}

// reportMillis reports the median, 95th percentile and maximum of ms.
func reportMillis(b *testing.B, name string, ms []float64) {
	if len(ms) == 0 {
		return
	}
	s := slices.Sorted(slices.Values(ms))
	at := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	b.ReportMetric(at(0.5), name+"-p50-ms")
	b.ReportMetric(at(0.95), name+"-p95-ms")
	b.ReportMetric(s[len(s)-1], name+"-max-ms")
	b.ReportMetric(float64(len(s)), name+"-samples")
}
