package controlui

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

func newHandler(t *testing.T, base string) *Handler {
	t.Helper()
	h, err := New(Options{BasePath: base})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get runs one request through Routes and ServeHTTP; a request Routes
// refuses is the caller's 404, as the gateway answers it.
func get(h *Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.Host = "127.0.0.1:18789"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	if !h.Routes(r) {
		w.WriteHeader(http.StatusTeapot) // "not mine"
		return w
	}
	h.ServeHTTP(w, r)
	return w
}

func TestServedPaths(t *testing.T) {
	root := newHandler(t, "")
	based := newHandler(t, "/clawdbot/")
	for _, tc := range []struct {
		h            *Handler
		method, path string
		status       int
		ctype        string
		body         string // substring
		location     string
	}{
		{root, "GET", "/", 200, "text/html", `<base href="/">`, ""},
		{root, "GET", "/index.html", 200, "text/html", `data-testid="connection-status"`, ""},
		{root, "GET", "/chat", 200, "text/html", `<base href="/">`, ""},
		{root, "GET", "/config", 200, "text/html", `<base href="/">`, ""},
		{root, "GET", "/sessions/agent:main:main", 200, "text/html", `<base href="/">`, ""},
		{root, "HEAD", "/logs", 200, "text/html", "", ""},
		{root, "GET", "/app.css", 200, "text/css", ":root", ""},
		{root, "GET", "/js/main.js", 200, "text/javascript", "import", ""},
		{root, "GET", "/vendor/purify.es.mjs", 200, "text/javascript", "DOMPurify", ""},
		{root, "GET", "/favicon.svg", 200, "image/svg+xml", "<svg", ""},
		// A missing file name is a 404, never the page.
		{root, "GET", "/js/missing.js", 404, "", "", ""},
		{root, "GET", "/vendor/purify.es.mjs.map", 404, "", "", ""},
		{root, "GET", "/ui", 404, "", "", ""},
		{root, "GET", "/ui/chat", 404, "", "", ""},
		{root, "GET", "/../../etc/passwd", 404, "", "", ""},
		// Not the UI's: the gateway's other parts and other methods.
		{root, "POST", "/", http.StatusTeapot, "", "", ""},
		{root, "PUT", "/chat", http.StatusTeapot, "", "", ""},
		{root, "GET", "/v1/chat/completions", http.StatusTeapot, "", "", ""},
		{root, "GET", "/__clawdbot__/canvas/", http.StatusTeapot, "", "", ""},
		{root, "GET", "/__clawdbot/ws", http.StatusTeapot, "", "", ""},
		// Under a base path.
		{based, "GET", "/clawdbot", 302, "", "", "/clawdbot/"},
		{based, "GET", "/clawdbot?token=x", 302, "", "", "/clawdbot/?token=x"},
		{based, "GET", "/clawdbot/", 200, "text/html", `<base href="/clawdbot/">`, ""},
		{based, "GET", "/clawdbot/overview", 200, "text/html", `<base href="/clawdbot/">`, ""},
		{based, "GET", "/clawdbot/js/main.js", 200, "text/javascript", "import", ""},
		{based, "GET", "/clawdbot/ui", 200, "text/html", "", ""},
		{based, "GET", "/", http.StatusTeapot, "", "", ""},
		{based, "GET", "/clawdbotx", http.StatusTeapot, "", "", ""},
	} {
		w := get(tc.h, tc.method, tc.path, nil)
		if w.Code != tc.status {
			t.Errorf("%s %s (base %q): status %d, want %d", tc.method, tc.path, tc.h.BasePath(), w.Code, tc.status)
			continue
		}
		if tc.ctype != "" && !strings.HasPrefix(w.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s", tc.method, tc.path, w.Header().Get("Content-Type"), tc.ctype)
		}
		if tc.body != "" && !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.body)
		}
		if tc.location != "" && w.Header().Get("Location") != tc.location {
			t.Errorf("%s %s: Location %q, want %q", tc.method, tc.path, w.Header().Get("Location"), tc.location)
		}
		if tc.method == "HEAD" && w.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d body bytes", tc.path, w.Body.Len())
		}
	}
}

// The CSP allows only this origin: no inline script or style, no other
// host, the WebSocket back to the page's host, no framing.
func TestCSP(t *testing.T) {
	h := newHandler(t, "")
	for _, p := range []string{"/", "/chat", "/js/main.js", "/app.css"} {
		w := get(h, "GET", p, nil)
		csp := w.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'",
			"connect-src 'self' ws://127.0.0.1:18789 wss://127.0.0.1:18789", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
			if strings.Contains(csp, bad) {
				t.Errorf("%s: CSP %q allows %q", p, csp, bad)
			}
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, w.Header())
		}
	}
	// A Host header with anything but host characters is never written
	// into the policy.
	hd := http.Header{}
	SecurityHeaders(hd, "evil.example; script-src *")
	if csp := hd.Get("Content-Security-Policy"); strings.Contains(csp, "evil") || !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("CSP with a bad Host: %q", csp)
	}
}

// The page itself has nothing inline for the CSP to refuse.
func TestIndexHasNothingInline(t *testing.T) {
	b, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, re := range []string{`<script(?:\s[^>]*)?>\s*[^<\s]`, `\sstyle\s*=`, `\son[a-z]+\s*=`, `<style`, `javascript:`} {
		if m := regexp.MustCompile(`(?i)` + re).FindString(page); m != "" {
			t.Errorf("index.html has inline content %q (pattern %s)", m, re)
		}
	}
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(m, `src="`) {
			t.Errorf("index.html script without src: %s", m)
		}
	}
}

// Whole UI ≤ 300 KiB as a browser that accepts gzip downloads it.
func TestGzipBudget(t *testing.T) {
	const budget = 300 * 1024
	n, err := GzipSize()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("whole UI: %d bytes gzipped (budget %d)", n, budget)
	if n > budget {
		t.Errorf("the UI is %d bytes gzipped, over the %d budget", n, budget)
	}
}

func TestGzipAndETag(t *testing.T) {
	h := newHandler(t, "")
	plain := get(h, "GET", "/vendor/marked.esm.js", nil)
	gz := get(h, "GET", "/vendor/marked.esm.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if plain.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip without Accept-Encoding")
	}
	if gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip response headers %v", gz.Header())
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, plain.Body.Bytes()) {
		t.Errorf("gzip body differs from the plain one")
	}
	if gz.Body.Len() >= plain.Body.Len() {
		t.Errorf("gzip %d bytes, plain %d", gz.Body.Len(), plain.Body.Len())
	}
	pe, ge := plain.Header().Get("ETag"), gz.Header().Get("ETag")
	if pe == "" || ge == "" || pe == ge {
		t.Errorf("ETags %q %q: want two different ones", pe, ge)
	}
	if plain.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("Cache-Control %q", plain.Header().Get("Cache-Control"))
	}
	for _, tc := range []struct {
		etag, enc string
		want      int
	}{
		{pe, "", 304},
		{ge, "gzip", 304},
		{pe, "gzip", 200}, // the identity ETag does not validate the gzip body
		{`"stale"`, "", 200},
	} {
		w := get(h, "GET", "/vendor/marked.esm.js", map[string]string{"If-None-Match": tc.etag, "Accept-Encoding": tc.enc})
		if w.Code != tc.want {
			t.Errorf("If-None-Match %s (Accept-Encoding %q): %d, want %d", tc.etag, tc.enc, w.Code, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"gzip;q=0.001", true},
		{"*", true},
		{"br", false},
		{"identity", false},
	} {
		if got := AcceptsGzip(tc.v); got != tc.want {
			t.Errorf("AcceptsGzip(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestNormalizeBasePath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"/", "", true},
		{"  ", "", true},
		{"cb", "/cb", true},
		{"/cb/", "/cb", true},
		{"/a/b-c_d.e~f", "/a/b-c_d.e~f", true},
		{"/a b", "", false},
		{`/"><script>`, "", false},
		{"/a//b", "", false},
		{"/a/../b", "", false},
		{"/a/..", "", false},
	} {
		got, err := NormalizeBasePath(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeBasePath(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if _, err := New(Options{BasePath: "/a b"}); err == nil || !strings.Contains(err.Error(), "gateway.controlUi.basePath") {
		t.Errorf("New with a bad base path: %v", err)
	}
}

// urlRe finds absolute URLs; nothing in the UI may load from another
// origin, so our own files hold none at all and the vendored ones only
// the strings below, none of which is fetched: XML namespace names
// (DOMPurify, SVG), license and bug links in comments, and marked's
// scheme check; ours only the bare ws:// and wss:// schemes the
// WebSocket URL is built from.
var urlRe = regexp.MustCompile(`(?i)(?:https?|wss?|ftp)://[^\s"'<>()\x60\\,]*|(?:src|href)\s*=\s*["']//`)

var allowedURLs = map[string]*regexp.Regexp{
	"":        regexp.MustCompile(`^(?:http://www\.w3\.org/2000/svg|wss?://)$`),
	"vendor/": regexp.MustCompile(`^(?:https?://(?:www\.w3\.org/[0-9A-Za-z/.]*|github\.com/[\w./-]*|bugs\.chromium\.org/[\w./?=-]*)|https?://)$`),
}

func TestNoExternalURLs(t *testing.T) {
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(static, p)
		rel := strings.TrimPrefix(p, "static/")
		if strings.HasPrefix(rel, "vendor/LICENSE-") {
			return nil // license texts: served as text, never run
		}
		allow := allowedURLs[""]
		if strings.HasPrefix(rel, "vendor/") {
			allow = allowedURLs["vendor/"]
		}
		for _, u := range urlRe.FindAllString(string(b), -1) {
			u = strings.TrimRight(u, ".;:")
			if !allow.MatchString(u) {
				t.Errorf("%s: external URL %q", rel, u)
			}
		}
		// Vendored code only builds URLs in those comments and checks.
		if !strings.HasPrefix(rel, "vendor/") {
			for _, re := range []string{`@import`, `url\(\s*["']?(?:https?:)?//`, `importScripts`} {
				if m := regexp.MustCompile(re).FindString(string(b)); m != "" {
					t.Errorf("%s: loads %q", rel, m)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every module import and every file index.html names is embedded: a
// wrong relative path would only show as a 404 in the browser.
func TestReferencesResolve(t *testing.T) {
	importRe := regexp.MustCompile(`(?m)(?:^\s*import\s[^'"]*?from\s*|^\s*import\s*|import\(\s*)['"]([^'"]+)['"]`)
	attrRe := regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	files, err := assets()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rel, a := range files {
		a.load()
		var refs []string
		base := path.Dir(rel)
		switch path.Ext(rel) {
		case ".js":
			for _, m := range importRe.FindAllStringSubmatch(string(a.body), -1) {
				refs = append(refs, m[1])
			}
		case ".html":
			base = "." // <base href> is the UI root
			for _, m := range attrRe.FindAllStringSubmatch(string(a.body), -1) {
				if m[1] != "/" {
					refs = append(refs, m[1])
				}
			}
		default:
			continue
		}
		for _, ref := range refs {
			n++
			if !strings.HasPrefix(ref, ".") && path.Ext(rel) == ".js" {
				t.Errorf("%s imports %q: a bare or absolute specifier has no import map here", rel, ref)
				continue
			}
			target := path.Clean(path.Join(base, ref))
			if _, ok := files[target]; !ok {
				t.Errorf("%s references %q (%s), which is not embedded", rel, ref, target)
			}
		}
	}
	if n < 10 {
		t.Errorf("found only %d references; the patterns no longer match the sources", n)
	}
}

// The data-testid hooks the browser tests use (TESTHOOKS.md) are all in
// the sources.
func TestHooksPresent(t *testing.T) {
	doc, err := os.ReadFile("TESTHOOKS.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```hooks\n(.*?)```").FindSubmatch(doc)
	if block == nil {
		t.Fatal("TESTHOOKS.md has no ```hooks block")
	}
	var src strings.Builder
	_ = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(p, "static/vendor/") {
			b, _ := fs.ReadFile(static, p)
			src.Write(b)
		}
		return nil
	})
	all := src.String()
	hooks := strings.Fields(string(block[1]))
	if len(hooks) < 50 {
		t.Errorf("TESTHOOKS.md lists only %d hooks", len(hooks))
	}
	for _, id := range hooks {
		if name, ok := strings.CutPrefix(id, "tab-"); ok {
			if !strings.Contains(all, "name: '"+name+"'") || !strings.Contains(all, "`tab-${t.name}`") {
				t.Errorf("hook %s: no tab named %q", id, name)
			}
			continue
		}
		if name, ok := strings.CutPrefix(id, "panel-"); ok {
			if !strings.Contains(all, "name: '"+name+"'") || !strings.Contains(all, "`panel-${t.name}`") {
				t.Errorf("hook %s: no panel named %q", id, name)
			}
			continue
		}
		if decision, ok := strings.CutPrefix(id, "approval-"); ok && strings.Contains(all, "`approval-${decision}`") &&
			strings.Contains(all, "btn('"+decision+"'") {
			continue
		}
		if !strings.Contains(all, "testid: '"+id+"'") && !strings.Contains(all, `data-testid="`+id+`"`) {
			t.Errorf("hook %s is documented but not in the sources", id)
		}
	}
}

// The page says whether the gateway needs a secret: only an open-access
// gateway (auth mode "none") gets the meta that lets a first visit
// connect at once.
func TestOpenAccessMeta(t *testing.T) {
	const meta = `<meta name="clawdbot-auth" content="none">`
	for _, tc := range []struct {
		open bool
		base string
	}{{false, ""}, {true, ""}, {true, "/clawdbot"}} {
		h, err := New(Options{BasePath: tc.base, OpenAccess: tc.open})
		if err != nil {
			t.Fatal(err)
		}
		body := get(h, http.MethodGet, tc.base+"/", nil).Body.String()
		if strings.Contains(body, meta) != tc.open {
			t.Errorf("open=%v base=%q: meta present = %v", tc.open, tc.base, !tc.open)
		}
		if !strings.Contains(body, `<base href="`+tc.base+`/">`) {
			t.Errorf("open=%v base=%q: base href missing", tc.open, tc.base)
		}
	}
}
