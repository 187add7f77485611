package browsertest

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The original's compiled Control UI (dist/control-ui of the npm package
// that ../shared/tools/peer installs) renders its Config tab against our
// gateway: its form from config.schema, with Save possible. A local check
// only: CI does not install the original, so the test runs when
// CONTROLUI_PEER_DIR names that folder, e.g.
//
//	CONTROLUI_PEER_DIR=$HOME/.cache/clawdbot-peer/cb/node_modules/clawdbot/dist/control-ui \
//	  go test -run TestOriginalControlUIConfigTab -v ./gateway/controlui/browsertest
//
// The files are served from their own loopback origin (not copied, not
// embedded); the UI connects to ours through its gatewayUrl parameter.
func TestOriginalControlUIConfigTab(t *testing.T) {
	dir := os.Getenv("CONTROLUI_PEER_DIR")
	if dir == "" {
		t.Skip("CONTROLUI_PEER_DIR is not set (a local check against the original's dist/control-ui)")
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Fatalf("CONTROLUI_PEER_DIR=%s: %v", dir, err)
	}
	f := startGateway(t, chatScript())
	ws, tok := "ws://"+f.srv.Addr().String(), token
	// For comparison: the same check against the original's own gateway
	// (../shared/tools/peer/start-peer.sh), e.g. ws://127.0.0.1:28789.
	if peer := os.Getenv("CONTROLUI_PEER_GATEWAY"); peer != "" {
		ws, tok = peer, cmp.Or(os.Getenv("PEER_TOKEN"), "peer-token-0123456789")
	}
	files := http.FileServer(http.Dir(dir))
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Tab paths (/config, /chat, …) are the app's routes: index.html.
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r.URL.Path))); err != nil {
			http.ServeFile(w, r, filepath.Join(dir, "index.html"))
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(static.Close)

	b := newBrowser(t, testTimeout)
	// Its stylesheet and logo name third-party origins, which the browser
	// may not resolve here (chromiumFlags): the original's, not ours.
	b.allow("fonts.googleapis.com")
	b.allow("mintcdn.com")
	b.run("open the original's Config tab", chromedp.Navigate(static.URL+"/config?gatewayUrl="+url.QueryEscape(ws)+"&token="+url.QueryEscape(tok)))
	// Its web components render into shadow roots; read the whole text.
	const text = `((root) => { const out = []; const walk = (n) => { if (n.shadowRoot) walk(n.shadowRoot);
	  for (const c of n.childNodes) { if (c.nodeType === 3) out.push(c.textContent); else walk(c); } }; walk(root); return out.join(' '); })(document.body)`
	// Rendered: config.get answered (the validity badge) and config.schema
	// (the form's sections, or "Schema unavailable").
	b.waitJS("the Config tab rendered", `((t) => /All Settings/.test(t) && /\b(valid|invalid)\b/.test(t) && !/Loading schema/i.test(t) &&
	  (/Schema unavailable/.test(t) || document.querySelectorAll('.config-section-card, .cfg-field, .cfg-object').length > 0))(`+text+`)`, 15*time.Second)
	body := eval[string](b, text)
	b.shot("original-config")
	for _, bad := range []string{"Schema unavailable", "unknown method", "Disconnected", "pairing required", "unauthorized"} {
		if strings.Contains(body, bad) {
			t.Errorf("the original's Config tab shows %q", bad)
		}
	}
	if os.Getenv("CONTROLUI_PEER_GATEWAY") == "" {
		saveThroughRawMode(t, b, f)
	}
	body = strings.Join(strings.Fields(body), " ")
	t.Logf("%d sections say \"Unsupported schema node\"", strings.Count(body, "Unsupported schema node"))
	// Which ones: the text each note follows (its field's label).
	for rest := body; ; {
		before, after, found := strings.Cut(rest, "Unsupported schema node")
		if !found {
			break
		}
		t.Logf("  unsupported after: …%s", before[max(0, len(before)-80):])
		rest = after
	}
	t.Logf("Config tab text: %.3000s", body)
}

// saveThroughRawMode edits the config in the original's Raw mode and
// saves it (config.set with the baseHash of config.get): our file must
// have the change.
func saveThroughRawMode(t *testing.T, b *browser, f *fixture) {
	t.Helper()
	const button = `((label) => [...document.querySelectorAll('button')].find(e => e.textContent.trim() === label))`
	b.waitJS("the Raw button", button+`('Raw')`, 5*time.Second)
	eval[bool](b, button+`('Raw').click() || true`)
	b.waitJS("the raw editor", `document.querySelector('textarea') && document.querySelector('textarea').value.includes('fake-model')`, 5*time.Second)
	eval[bool](b, `((e) => { const c = JSON.parse(e.value); c.logging = { level: 'debug' }; e.value = JSON.stringify(c, null, 2);
	  e.dispatchEvent(new Event('input', {bubbles: true})); return true; })(document.querySelector('textarea'))`)
	b.waitJS("Save enabled", button+`('Save') && !`+button+`('Save').disabled`, 5*time.Second)
	eval[bool](b, button+`('Save').click() || true`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := os.ReadFile(f.configPath)
		if err == nil && strings.Contains(string(raw), `"debug"`) {
			break
		}
		if time.Now().After(deadline) {
			b.shot("save-failed")
			t.Fatalf("the original's Save did not reach our config file: %s", raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.shot("original-saved")
}
