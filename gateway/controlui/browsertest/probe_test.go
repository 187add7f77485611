package browsertest

import (
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// probeJS is injected before the UI's own scripts (DevTools scripts are
// not subject to the page's CSP). It records, in window.__bt:
//   - frames: every chat event and agent assistant-stream event the
//     page's WebSockets receive ({t, event, state, runId, len: the length
//     of the assistant text it carries}), timestamped in a listener added
//     when the socket is created, so it runs before the UI's own handler;
//   - renders: every change of the last assistant message's text
//     ({t, len, streaming}), from a MutationObserver (whose callback runs
//     as a microtask right after the DOM changed);
//   - in both, n: the number of animation frames run so far, from a
//     requestAnimationFrame loop registered first, so its callback runs
//     before any the UI asks for in the same frame. A render with the n of
//     its frame + 1 came in the next frame, + 0 in the same task.
//
// The delta render latency is a render's t minus the t of the frame that
// caused it; both clocks are the page's performance.now().
const probeJS = `(() => {
  const bt = window.__bt = { frames: [], renders: [], lastLen: -1, lastStreaming: null, n: 0 };
  const tick = () => { bt.n++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const W = window.WebSocket;
  window.WebSocket = class extends W {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        const t = performance.now();
        if (typeof ev.data !== 'string' || ev.data.indexOf('"event"') < 0) return;
        let f;
        try { f = JSON.parse(ev.data); } catch (e) { return; /* not JSON: not ours to judge */ }
        const p = f && f.payload;
        if (!p || f.type !== 'event') return;
        if (f.event === 'chat') {
          const c = p.message && p.message.content;
          const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((x) => (x && x.type === 'text' && x.text) || '').join('') : '';
          bt.frames.push({ t, n: bt.n, event: 'chat', state: p.state, runId: p.runId, len: text.length });
        } else if (f.event === 'agent' && p.stream === 'assistant') {
          const text = (p.data && p.data.text) || '';
          bt.frames.push({ t, n: bt.n, event: 'agent', state: 'delta', runId: p.runId, len: text.length });
        }
      });
    }
  };
  const sample = () => {
    const msgs = document.querySelectorAll('[data-testid="chat-message"][data-role="assistant"]');
    const m = msgs[msgs.length - 1];
    if (!m) return;
    const txt = m.querySelector('[data-testid="chat-message-text"]');
    const len = txt ? txt.textContent.trim().length : 0;
    const streaming = m.getAttribute('data-streaming') === 'true';
    if (len !== bt.lastLen || streaming !== bt.lastStreaming) {
      bt.lastLen = len; bt.lastStreaming = streaming;
      bt.renders.push({ t: performance.now(), n: bt.n, len, streaming, count: msgs.length });
    }
  };
  const start = () => new MutationObserver(sample).observe(document.documentElement,
    { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-streaming'] });
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();`

// installProbe makes every document the tab loads from now on run probeJS
// first.
func (b *browser) installProbe() {
	b.tb.Helper()
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probeJS}); err != nil {
		b.tb.Fatalf("install the probe: %v", err)
	}
}

// frame and render are probeJS's records.
type frame struct {
	T     float64 `json:"t"`
	N     int     `json:"n"`     // animation frames run before it arrived
	Event string  `json:"event"` // chat | agent
	State string  `json:"state"`
	RunID string  `json:"runId"`
	Len   int     `json:"len"`
}

type render struct {
	T         float64 `json:"t"`
	N         int     `json:"n"` // animation frames run when the DOM changed
	Len       int     `json:"len"`
	Streaming bool    `json:"streaming"`
	Count     int     `json:"count"`
}

// probed is what the probe has recorded so far.
func (b *browser) probed() (frames []frame, renders []render) {
	b.tb.Helper()
	type probe struct {
		Frames  []frame  `json:"frames"`
		Renders []render `json:"renders"`
	}
	out := eval[probe](b, `({frames: window.__bt.frames, renders: window.__bt.renders})`)
	return out.Frames, out.Renders
}

// resetProbe forgets what the probe recorded (between benchmark turns).
func (b *browser) resetProbe() {
	b.tb.Helper()
	eval[bool](b, `(window.__bt.frames = [], window.__bt.renders = [], true)`)
}

// deltaPair is a delta frame and the render that showed it.
type deltaPair struct {
	frame  frame
	render render
}

// latency is the delta's arrival to the DOM showing it, in milliseconds.
func (p deltaPair) latency() float64 { return p.render.T - p.frame.T }

// framesLate is how many animation frames began between the arrival and
// the DOM change: 0 in the same task, 1 in the next frame.
func (p deltaPair) framesLate() int { return p.render.N - p.frame.N }

// deltaPairs pairs every streamed frame that brings new assistant text
// (longer than any frame of the run before it: the UI renders from agent
// events and chat deltas alike, and a frame repeating known text changes
// nothing) with the first render at or after it that shows new text
// (longer than every render of that message before it). Two frames that
// arrive before one render both pair with it (a UI batching deltas pays
// for it here). Frames with no later render are left out.
func deltaPairs(frames []frame, renders []render) []deltaPair {
	var fresh []render
	shown, count := 0, 0
	for _, r := range renders {
		if r.Count != count { // a new assistant message: its text starts again
			shown, count = 0, r.Count
		}
		if r.Len > shown {
			shown = r.Len
			fresh = append(fresh, r)
		}
	}
	var out []deltaPair
	longest := map[string]int{}
	j := 0
	for _, f := range frames {
		if f.State != "delta" || f.Len <= longest[f.RunID] {
			continue
		}
		longest[f.RunID] = f.Len
		for j < len(fresh) && fresh[j].T < f.T {
			j++
		}
		if j == len(fresh) {
			break
		}
		out = append(out, deltaPair{f, fresh[j]})
	}
	return out
}

// deltaLatencies is the latency of every pair, in milliseconds.
func deltaLatencies(frames []frame, renders []render) []float64 {
	var out []float64
	for _, p := range deltaPairs(frames, renders) {
		out = append(out, p.latency())
	}
	return out
}
