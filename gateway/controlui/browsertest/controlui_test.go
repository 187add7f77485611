package browsertest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
)

// testTimeout bounds one browser test (they take a few seconds each).
const testTimeout = 45 * time.Second

// streamDeltas is the reply the fake model streams, a delta every
// streamSpacing: slow enough that the page shows several partial texts
// before the final one (from agent events, unthrottled, and chat deltas,
// which the gateway throttles to one per 150 ms as the original does).
var streamDeltas = []string{"The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog."}

const streamSpacing = 90 * time.Millisecond

// chatScript answers by keyword: "slow" streams two deltas and then hangs
// until the run is aborted; anything else streams streamDeltas.
func chatScript() llmtest.Script {
	return llmtest.Script{Func: func(r llmtest.Request) llmtest.Response {
		if strings.Contains(r.LastUserText(), "slow") {
			return llmtest.Response{Text: []string{"Thinking", " slowly"}, Spacing: 20 * time.Millisecond, Hang: true}
		}
		return llmtest.Response{Text: streamDeltas, Spacing: streamSpacing}
	}}
}

// lastAssistant is a JavaScript expression for the last assistant message.
const lastAssistant = `[...document.querySelectorAll('[data-testid="chat-message"][data-role="assistant"]')].pop()`

// assistantText is the text of the last assistant message ("" if none).
const assistantText = `((m) => { const t = m && m.querySelector('[data-testid="chat-message-text"]'); return t ? t.textContent.trim() : ''; })(` + lastAssistant + `)`

// chatDump shows the chat messages when a wait times out.
const chatDump = `[...document.querySelectorAll('[data-testid="chat-message"]')].map(m => m.outerHTML).join('\n')`

// say types text into the chat input and clicks send.
func (b *browser) say(text string) {
	b.tb.Helper()
	b.run("send "+text,
		chromedp.SendKeys(tid("chat-input"), text),
		chromedp.Click(tid("chat-send")))
}

// The UI connects with the token typed in: connection-status turns
// connected ("Connected"), and the token is kept in localStorage for the
// next visit.
func TestConnect(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.open(f, "/")
	state := eval[string](b, q("connection-status")+`.getAttribute('data-state')`)
	text := eval[string](b, q("connection-status")+`.textContent.trim()`)
	if state != "connected" || text != "Connected" {
		t.Errorf("connection-status %q %q, want connected/Connected", state, text)
	}
	stored := eval[string](b, `localStorage.getItem('clawdbot.controlui.token') || ''`)
	if stored != token {
		t.Errorf("localStorage token %q, want the one entered", stored)
	}
	b.shot("connected")
}

// A chat message streams back: the assistant's text grows delta by delta
// (several distinct partial lengths while data-streaming is set), then the
// final text stands with the streaming marker removed.
func TestChatStreamsDeltaByDelta(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.dump = chatDump
	b.installProbe()
	b.open(f, "/")
	b.waitJS("the chat input", q("chat-input"), 5*time.Second)
	b.say("hello there")
	want := strings.Join(streamDeltas, "")
	b.waitJS("the user message", `[...document.querySelectorAll('[data-testid="chat-message"][data-role="user"]')].some(m => m.textContent.includes('hello there'))`, 10*time.Second)
	b.waitJS("the final assistant text", fmt.Sprintf(`((m) => !!m && !m.hasAttribute('data-streaming') && %s === %q)(%s)`, assistantText, want, lastAssistant), 15*time.Second)
	b.shot("final")

	frames, renders := b.probed()
	partial := map[int]bool{}
	prev := 0
	for _, r := range renders {
		if r.Len < prev {
			t.Errorf("assistant text shrank from %d to %d characters while streaming (renders %+v)", prev, r.Len, renders)
		}
		prev = r.Len
		if r.Streaming && r.Len > 0 && r.Len < len(want) {
			partial[r.Len] = true
		}
	}
	if len(partial) < 2 {
		t.Errorf("saw %d distinct partial lengths while streaming, want at least 2 (renders %+v)", len(partial), renders)
	}
	if last := renders[len(renders)-1]; last.Streaming || last.Len != len(want) {
		t.Errorf("last render %+v, want the final %d characters without data-streaming", last, len(want))
	}
	deltas := 0
	for _, fr := range frames {
		if fr.State == "delta" {
			deltas++
		}
	}
	t.Logf("%d chat delta frames, %d distinct partial lengths rendered, delta→DOM latencies (ms) %v", deltas, len(partial), roundAll(deltaLatencies(frames, renders)))
}

// Abort stops a stream that would never end: the message loses its
// streaming marker and is marked aborted, chat-abort is disabled again,
// and the session answers the next message (a hung run would hold it).
func TestChatAbortsSlowStream(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.open(f, "/")
	b.waitJS("the chat input", q("chat-input"), 5*time.Second)
	b.say("please be slow")
	b.waitJS("the partial assistant text", fmt.Sprintf(`((m) => !!m && m.getAttribute('data-streaming') === 'true' && %s.includes('Thinking slowly'))(%s)`, assistantText, lastAssistant), 10*time.Second)
	b.waitJS("chat-abort enabled", `!`+q("chat-abort")+`.disabled`, 5*time.Second)
	b.shot("streaming")
	b.run("click abort", chromedp.Click(tid("chat-abort")))
	b.waitJS("the aborted message", `((m) => !!m && !m.hasAttribute('data-streaming') && m.getAttribute('data-aborted') === 'true')(`+lastAssistant+`)`, 10*time.Second)
	b.waitJS("chat-abort disabled", q("chat-abort")+`.disabled`, 5*time.Second)
	b.shot("aborted")

	b.say("and now quickly")
	want := strings.Join(streamDeltas, "")
	b.waitJS("the next reply", fmt.Sprintf(`((m) => !!m && !m.hasAttribute('data-streaming') && %s === %q)(%s)`, assistantText, want, lastAssistant), 15*time.Second)
	if n := f.up.Count(); n != 2 {
		t.Errorf("upstream saw %d requests, want 2 (the aborted turn and the next)", n)
	}
}

// A second client shows up in presence-list live, as a macOS app does
// it: it connects and sends its launch beacon (system-event), which the
// gateway answers with a presence event (a bare connect moves only the
// presence version, doc/protocol.md §6, as in the original); its
// disconnect is shown live too (the entry stays, with reason
// "disconnect", until presence expires).
func TestPresenceListUpdatesLive(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.dump = q("presence-list") + `.outerHTML`
	b.open(f, "/")
	b.tab("instances")
	b.waitJS("the UI's own presence entry", q("presence-list")+` && `+q("presence-list")+`.querySelectorAll('[data-testid="presence-item"][data-mode="ui"]').length === 1`, 5*time.Second)

	const id = "browsertest-second-client"
	second := gatewaytest.Dial(t, f.srv.Addr().String())
	p := gatewaytest.ConnectParams(token)
	p["client"] = map[string]any{"id": "clawdbot-macos", "mode": "ui", "platform": "macos", "version": "9.9.9",
		"displayName": "second-mac", "instanceId": id}
	second.Connect(p)
	res := second.Call("system-event", map[string]any{"instanceId": id, "reason": "launch",
		"text": "Node: second-mac (10.0.0.7) · app 9.9.9 · last input 3s ago · mode ui · reason launch"})
	if res["ok"] != true {
		t.Fatalf("system-event: %v", res)
	}
	item := `document.querySelector('[data-testid="presence-item"][data-instance-id="` + id + `"]')`
	b.waitJS("the second client in presence-list", item+` && `+item+`.textContent.includes('second-mac')`, 5*time.Second)
	b.shot("two-clients")

	_ = second.WS.CloseNow()
	b.waitJS("the second client's disconnect in presence-list", item+` && `+item+`.textContent.includes('disconnect')`, 10*time.Second)
}

// Logs follow: a line the gateway logs after the tab opened appears in
// log-view without a reload.
func TestLogsFollow(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.open(f, "/")
	b.tab("logs")
	b.waitJS("log-view lines", q("log-view")+` && `+q("log-view")+`.querySelectorAll('[data-testid="log-line"]').length > 0`, 10*time.Second)
	before := eval[int](b, q("log-view")+`.querySelectorAll('[data-testid="log-line"]').length`)

	marker := fmt.Sprintf("browsertest-marker-%d", time.Now().UnixNano())
	f.log.Warn(marker, "subsystem", "browsertest")
	b.waitJS("the new log line", `[...`+q("log-view")+`.querySelectorAll('[data-testid="log-line"]')].some(l => l.textContent.includes('`+marker+`') && l.getAttribute('data-level') === 'warn')`, 10*time.Second)
	after := eval[int](b, q("log-view")+`.querySelectorAll('[data-testid="log-line"]').length`)
	if after <= before {
		t.Errorf("log-view has %d lines after the marker, %d before", after, before)
	}
	b.shot("followed")
}

// The raw config editor reports a JSON5 syntax error at its line and
// column, before anything is sent to the gateway.
func TestConfigEditorShowsLineColumnError(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.open(f, "/")
	b.tab("config")
	b.waitJS("the raw editor with the config", q("config-raw")+` && `+q("config-raw")+`.value.includes('fake-model')`, 10*time.Second)

	// Line 3, column 16: the second comma (where profiles' parser, and so
	// the gateway, reports it too).
	bad := "{\n  gateway: {\n    port: 1234,,\n  },\n}\n"
	b.setInput("config-raw", bad)
	b.waitJS("config-error", q("config-error")+` && !`+q("config-error")+`.hidden && `+q("config-error")+`.textContent.trim() !== ''`, 5*time.Second)
	type configError struct {
		Text   string `json:"text"`
		Line   string `json:"line"`
		Column string `json:"column"`
	}
	got := eval[configError](b, `((e) => ({text: e.textContent.trim(), line: e.getAttribute('data-line') || '', column: e.getAttribute('data-column') || ''}))(`+q("config-error")+`)`)
	if !regexp.MustCompile(`(?i)line 3, column \d+`).MatchString(got.Text) || got.Line != "3" || got.Column == "" {
		t.Errorf("config-error %+v, want \"Line 3, column C: …\" with data-line=3", got)
	}
	if got.Column != "16" {
		t.Errorf("config-error column %q, want 16 (the second comma of %q)", got.Column, "    port: 1234,,")
	}
	b.shot("json5-error")

	// A good document clears it again.
	b.setInput("config-raw", "{ gateway: { port: 1234 } }")
	b.waitJS("config-error cleared", `!`+q("config-error")+` || `+q("config-error")+`.hidden || `+q("config-error")+`.textContent.trim() === ''`, 5*time.Second)
}

// setInput sets the value of a text field and fires its input event, as
// typing (or pasting) would.
func (b *browser) setInput(id, value string) {
	b.tb.Helper()
	eval[bool](b, `((e) => { e.value = `+jsString(value)+`; e.dispatchEvent(new Event('input', {bubbles: true})); return true; })(`+q(id)+`)`)
}

// jsString quotes s as a JavaScript string literal (JSON's are).
func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

func roundAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(int(x*10+0.5)) / 10
	}
	return out
}

// A first visit (nothing stored, no ?token=) asks for the token and does
// not connect: a connect without a secret could only fail, and each
// failure takes a slot of the gateway's failed-auth limiter and a line of
// its log.
func TestFirstVisitWaitsForTheToken(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	// Count the WebSockets the page opens.
	const countJS = `window.__wsOpened = 0; { const W = window.WebSocket; window.WebSocket = class extends W {
		constructor(...a) { super(...a); window.__wsOpened++; } }; }`
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: countJS}); err != nil {
		t.Fatal(err)
	}
	b.run("open /", chromedp.Navigate(f.base+"/"))
	b.waitJS("the token input", q("token-input"), 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // longer than the first reconnect backoff
	if n := eval[int](b, `window.__wsOpened`); n != 0 {
		t.Errorf("the page opened %d WebSocket(s) before a token was entered, want none", n)
	}
	if hint := eval[string](b, `document.getElementById('auth-hint').textContent`); !strings.Contains(hint, "token") {
		t.Errorf("auth hint %q, want it to ask for the token", hint)
	}
	// Entering it connects.
	b.run("enter the token", chromedp.SendKeys(tid("token-input"), token), chromedp.Click(tid("connect-button")))
	b.waitJS("connection-status connected", connected, 10*time.Second)
	b.shot("first-visit")
	b.assertNoProblems()
}

// A gateway that takes connects without a secret (auth mode "none",
// loopback) is connected on the first visit, no token asked.
func TestFirstVisitOpenAccessConnects(t *testing.T) {
	f := startGateway(t, chatScript(), func(o *gateway.Options, f *fixture) {
		o.Runtime.Auth = gateway.Auth{Mode: gateway.AuthNone}
		f.rc = o.Runtime
	})
	b := newBrowser(t, testTimeout)
	b.run("open /", chromedp.Navigate(f.base+"/"))
	b.waitJS("connection-status connected", connected, 10*time.Second)
	b.shot("open-access")
	b.assertNoProblems()
}
