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
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if !h.liveJS {
			// The bytes are the file's, so Last-Modified, 304 and ranges
			// are ServeContent's as for any other file.
			http.ServeContent(w, r, name, st.ModTime(), f)
			return
		}
		page, err := newInjected(f, st.Size(), liveReloadScript)
		if err != nil {
			http.Error(w, "read error", http.StatusInternalServerError)
			return
		}
		// Zero modtime: no Last-Modified, so an injected page is never
		// answered with 304 (the snippet is not part of the file's mtime).
		// Ranges still work: page is an io.ReadSeeker over file + script.
		http.ServeContent(w, r, name, time.Time{}, page)
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
// (any case), or appends it when the page has none. The host itself streams
// files (see newInjected); this is the same rule for a page in memory.
func InjectScript(page []byte) []byte {
	i := lastBodyTag(page)
	if i < 0 {
		return append(append([]byte{}, page...), liveReloadScript...)
	}
	out := make([]byte, 0, len(page)+len(liveReloadScript))
	out = append(out, page[:i]...)
	out = append(out, liveReloadScript...)
	return append(out, page[i:]...)
}

const bodyTag = "</body>"

// lastBodyTag is the offset of the last "</body>" in b, in any ASCII case,
// or -1. ASCII folding on purpose: bytes.ToLower can change the length of
// non-ASCII text, which would shift the offset.
func lastBodyTag(b []byte) int {
	for end := len(b); ; {
		i := bytes.LastIndexByte(b[:end], '<')
		if i < 0 {
			return -1
		}
		if len(b)-i >= len(bodyTag) && equalFoldASCII(b[i:i+len(bodyTag)], bodyTag) {
			return i
		}
		end = i
	}
}

func equalFoldASCII(b []byte, s string) bool {
	for i := range len(s) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// Bounds of the search for </body> in a served page.
const (
	// InjectScanWindow is how much of the end of an HTML file is searched
	// for the last </body>. Pages end with </body></html> plus little
	// else, so the tag is found in the first chunk; when it is not within
	// the window (or missing), the script is appended to the file, where
	// browsers run it just the same. The window keeps the work per request
	// bounded for a large file: the page is streamed from disk and never
	// held in memory, whatever its size.
	InjectScanWindow = 1 << 20
	// scanChunk is the read size of that search (one buffer per request).
	scanChunk = 32 << 10
)

// findBodyTag searches the last InjectScanWindow bytes of a file of the
// given size backwards, chunk by chunk, for the last </body>; -1 if none.
func findBodyTag(f io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, scanChunk+len(bodyTag)-1)
	limit := max(0, size-InjectScanWindow)
	for end := size; end > limit; {
		start := max(limit, end-scanChunk)
		// Chunks overlap by len(bodyTag)-1 bytes so a tag that starts in
		// [start, end) is found whole.
		hi := min(end+int64(len(bodyTag)-1), size)
		n, err := f.ReadAt(buf[:hi-start], start)
		if n < int(hi-start) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file shrank under us
			}
			return -1, err
		}
		if i := lastBodyTag(buf[:n]); i >= 0 {
			return start + int64(i), nil
		}
		end = start
	}
	return -1, nil
}

// injected is an HTML file with the live-reload script spliced in at at,
// as an io.ReadSeeker for http.ServeContent: the bytes come from the file
// (ReadAt, no copy of the page) and the script string, so memory stays at
// ServeContent's copy buffer and Range requests still work.
type injected struct {
	f      io.ReaderAt
	size   int64 // file size when opened
	at     int64 // where the script goes, 0 ≤ at ≤ size
	script string
	off    int64
}

func newInjected(f io.ReaderAt, size int64, script string) (*injected, error) {
	at, err := findBodyTag(f, size)
	if err != nil {
		return nil, err
	}
	if at < 0 {
		at = size
	}
	return &injected{f: f, size: size, at: at, script: script}, nil
}

func (p *injected) total() int64 { return p.size + int64(len(p.script)) }

// Read implements io.Reader. A file that got shorter since it was opened
// is an error (io.ErrUnexpectedEOF), never a silently shifted page: the
// response then ends early, as ServeContent does for a plain file.
func (p *injected) Read(b []byte) (int, error) {
	if p.off >= p.total() {
		return 0, io.EOF
	}
	if len(b) == 0 {
		return 0, nil
	}
	scriptEnd := p.at + int64(len(p.script))
	var n int
	var err error
	switch {
	case p.off < p.at: // the file before the script
		n, err = p.readFile(b, p.off, p.at-p.off)
	case p.off < scriptEnd:
		n = copy(b, p.script[p.off-p.at:])
	default: // the file after it
		n, err = p.readFile(b, p.off-int64(len(p.script)), p.total()-p.off)
	}
	p.off += int64(n)
	return n, err
}

// readFile reads up to limit bytes of the file at off into b.
func (p *injected) readFile(b []byte, off, limit int64) (int, error) {
	if int64(len(b)) > limit {
		b = b[:limit]
	}
	n, err := p.f.ReadAt(b, off)
	if n == len(b) {
		return n, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Seek implements io.Seeker.
func (p *injected) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.total()
	default:
		return 0, errors.New("canvas: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("canvas: negative position")
	}
	p.off = offset
	return offset, nil
}
