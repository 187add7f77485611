package canvas

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
)

// demoIndex is written into a new, empty root so the canvas shows something.
const demoIndex = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clawdbot Canvas</title>
<style>
  body { font-family: -apple-system, system-ui, sans-serif; margin: 0; min-height: 100vh;
         display: flex; align-items: center; justify-content: center; background: #0f1115; color: #e6e6e6; }
  main { text-align: center; max-width: 32rem; padding: 2rem; }
  code { background: #1c1f26; padding: 0.1rem 0.3rem; border-radius: 4px; }
</style>
</head>
<body>
<main>
  <h1>Clawdbot Canvas</h1>
  <p>This page is served from the canvas root. Put your own <code>index.html</code> here;
  the page reloads itself when files change.</p>
</main>
</body>
</html>
`

// ensureRoot creates root and a demo index.html when no index exists.
func ensureRoot(root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("canvas root %s: %w", root, err)
	}
	idx := filepath.Join(root, "index.html")
	if _, err := os.Lstat(idx); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := profiles.WriteFileAtomic(idx, []byte(demoIndex), 0o644); err != nil {
		return fmt.Errorf("canvas: write demo %s: %w", idx, err)
	}
	return nil
}

func allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	return false
}

// cleanRel turns the part of the URL path after Prefix into a root-relative
// name, or reports false for anything that tries to leave the root. r.URL.Path
// is already percent-decoded, so "%2e%2e" arrives here as "..". Leading
// slashes are dropped: "//etc/passwd" names "etc/passwd" inside the root.
func cleanRel(rel string) (string, bool) {
	if strings.ContainsRune(rel, 0) {
		return "", false
	}
	for _, seg := range strings.FieldsFunc(rel, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return "", false
		}
	}
	name := strings.TrimLeft(path.Clean("/"+rel), "/")
	if name == "" {
		name = "."
	}
	if filepath.IsAbs(name) || filepath.VolumeName(name) != "" { // C:foo on Windows
		return "", false
	}
	return name, true
}

func (h *Host) serveFile(w http.ResponseWriter, r *http.Request, rel string) {
	if !allowMethod(w, r) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	name, ok := cleanRel(rel)
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	// os.Root refuses to follow a symlink (at any depth) out of the root and
	// refuses absolute or escaping names, so nothing outside it is opened.
	f, err := h.fsroot.Open(name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if st.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, path.Base(r.URL.Path)+"/", http.StatusMovedPermanently)
			return
		}
		f.Close()
		name = path.Join(name, "index.html")
		f, err = h.fsroot.Open(name)
		if err != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "<!doctype html><html><body><h1>No index.html</h1>"+
				"<p>Put an <code>index.html</code> into <code>%s</code> of the canvas root.</p></body></html>\n",
				htmlEscape(path.Clean("/"+rel)))
			return
		}
		defer f.Close()
		if st, err = f.Stat(); err != nil || st.IsDir() {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
	}
	if !st.Mode().IsRegular() {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if isHTML(name) {
		body, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, "read error", http.StatusInternalServerError)
			return
		}
		if h.liveJS {
			body = InjectScript(body)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// Zero modtime: the injected page must never be answered with 304.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
		return
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
}

func isHTML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".html" || ext == ".htm"
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	return r.Replace(s)
}

// liveReloadScript opens the live-reload socket on the page's own host and
// reloads on "reload". It also installs the bridge helpers native canvas
// hosts expect (iOS webkit handler, Android JS interface).
const liveReloadScript = `<script>
(() => {
  const handlerName = "clawdbotCanvasA2UIAction";
  function postToNode(payload) {
    try {
      const raw = typeof payload === "string" ? payload : JSON.stringify(payload);
      const ios = globalThis.webkit && globalThis.webkit.messageHandlers && globalThis.webkit.messageHandlers[handlerName];
      if (ios) { ios.postMessage(raw); return true; }
      const android = globalThis[handlerName];
      if (android && typeof android.postMessage === "function") { android.postMessage(raw); return true; }
    } catch (e) {}
    return false;
  }
  function sendUserAction(userAction) {
    const id = (userAction && userAction.id) || (globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()));
    return postToNode({ userAction: Object.assign({}, userAction, { id }) });
  }
  globalThis.Clawdbot = globalThis.Clawdbot || {};
  globalThis.Clawdbot.postMessage = postToNode;
  globalThis.Clawdbot.sendUserAction = sendUserAction;
  globalThis.clawdbotPostMessage = postToNode;
  globalThis.clawdbotSendUserAction = sendUserAction;
  try {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(proto + "://" + location.host + "` + WSPath + `");
    ws.onmessage = (ev) => { if (String(ev.data || "") === "` + ReloadMessage + `") location.reload(); };
  } catch (e) {}
})();
</script>
`

// InjectScript inserts the live-reload script before the last </body>
// (any case), or appends it when the page has none.
func InjectScript(page []byte) []byte {
	i := bytes.LastIndex(bytes.ToLower(page), []byte("</body>"))
	if i < 0 {
		return append(append([]byte{}, page...), liveReloadScript...)
	}
	out := make([]byte, 0, len(page)+len(liveReloadScript))
	out = append(out, page[:i]...)
	out = append(out, liveReloadScript...)
	return append(out, page[i:]...)
}
