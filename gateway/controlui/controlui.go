// Package controlui is the Control UI: the browser app the gateway serves
// on its own port (doc/protocol.md §7, item 8). The app is plain ES modules
// and CSS under static/, embedded with go:embed, so `go build` alone makes
// the whole binary; there is no build step. It speaks the same WebSocket
// protocol as every other client, as client id "clawdbot-control-ui" in
// mode "ui", with a WebCrypto Ed25519 device identity in a secure context.
//
// What the handler serves, under the base path (gateway.controlUi.basePath,
// "" meaning the root):
//   - the files of static/ by name, and index.html for "/" and for any
//     other GET whose last path segment has no dot (the tab paths /chat,
//     /config, …: the app routes on the client). A missing name with a dot
//     is a 404, so a stale asset is never answered with HTML.
//   - with a base path, the bare base redirects (302) to base + "/".
//   - with no base path, /ui and /ui/* are 404, as in the original.
//
// The core hands it only GET and HEAD requests that no other part of the
// port claims (the WebSocket upgrade, the canvas host, /v1 and the hooks
// path are routed first), and Routes refuses /__clawdbot* and /v1/* even
// when those parts are off, so the UI never shadows them. Other methods
// stay the core's 404 (the original answers 405).
//
// Every answer carries a strict Content-Security-Policy (scripts, styles,
// images and fonts from the same origin only; connect-src the same origin
// and its ws/wss; no framing), an ETag from the content hash with
// Cache-Control no-cache (revalidation is a 304 on loopback), and the
// precompressed gzip body when the client accepts gzip.
//
// Test hooks (data-testid attributes the browser tests rely on; the full
// list, with every attribute value, is TESTHOOKS.md beside this file):
// token-input, password-input, connect-button, connection-status (data-state is exactly "connected",
// "connecting" or "disconnected"), connection-error, gateway-banner,
// chat-input, chat-send, chat-abort, chat-message (data-role "user" or
// "assistant"; an assistant message still streaming has
// data-streaming="true", removed on final), chat-message-text, chat-tool,
// session-select, session-new, presence-list, presence-item, log-view,
// log-line, log-level, config-raw, config-error (data-line, data-column),
// config-save, config-apply, config-notice, and tab-<name> per tab link
// with panel-<name> per panel.
package controlui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

// asset is one servable file: its body, its gzip form (nil when gzip does
// not make it smaller) and the validators of both. They are computed on
// the first request for the file (load), not at start-up: reading and
// compressing every file would cost the gateway's cold start tens of
// milliseconds and keep megabytes resident that a gateway nobody opens
// in a browser never needs (doc/architecture.md, Control UI).
type asset struct {
	ext  string
	src  func() ([]byte, error)
	once sync.Once

	ctype      string
	body, gz   []byte
	etag, gzET string
	err        error
}

// load fills the asset from its source once.
func (a *asset) load() *asset {
	a.once.Do(func() {
		b, err := a.src()
		if err != nil {
			a.err = err
			return
		}
		a.ctype, a.body, a.etag = contentType(a.ext), b, etagOf(b)
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			a.gz = buf.Bytes()
			a.gzET = strings.TrimSuffix(a.etag, `"`) + `-gz"`
		}
	})
	return a
}

var (
	listOnce sync.Once
	listed   map[string]*asset
	listErr  error
)

// assets is the table of embedded files, listed once per process (names
// only; each file is read and compressed on first use): the embed is
// constant, so every runtime (each restart builds a Handler) shares them.
func assets() (map[string]*asset, error) {
	listOnce.Do(func() {
		listed = map[string]*asset{}
		listErr = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			listed[strings.TrimPrefix(p, "static/")] = &asset{ext: path.Ext(p), src: func() ([]byte, error) { return static.ReadFile(p) }}
			return nil
		})
	})
	return listed, listErr
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".webmanifest":
		return "application/json; charset=utf-8"
	case ".txt", ".md":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Options configure a Handler.
type Options struct {
	// BasePath is gateway.controlUi.basePath: "" (the root) or a path
	// such as "/clawdbot" (normalised by NormalizeBasePath).
	BasePath string
	// OpenAccess is a gateway that takes connects without a secret
	// (gateway.auth.mode "none", loopback only): the page says so in a
	// <meta name="clawdbot-auth" content="none">, and a first visit
	// connects at once instead of asking for a token it does not need.
	OpenAccess bool
}

// Handler serves the Control UI. Build one with New; it is safe for
// concurrent use.
type Handler struct {
	base  string
	files map[string]*asset
	index *asset
}

// NormalizeBasePath turns a configured base path into "" or "/a/b": it
// trims spaces and slashes at the end and adds the leading slash. A path
// with characters other than letters, digits and -._~/ is an error, since
// it is written into the page.
func NormalizeBasePath(p string) (string, error) {
	p = strings.TrimRight(strings.TrimSpace(p), "/")
	if p == "" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~/", r)) {
			return "", fmt.Errorf("gateway.controlUi.basePath %q: only letters, digits and -._~/ are allowed (e.g. \"/clawdbot\")", p)
		}
	}
	if strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") {
		return "", fmt.Errorf("gateway.controlUi.basePath %q: use a plain path such as \"/clawdbot\"", p)
	}
	return p, nil
}

// New builds the handler for o. Its error names the bad option.
func New(o Options) (*Handler, error) {
	base, err := NormalizeBasePath(o.BasePath)
	if err != nil {
		return nil, err
	}
	files, err := assets()
	if err != nil {
		return nil, fmt.Errorf("control ui assets: %w", err)
	}
	raw, ok := files["index.html"]
	if !ok {
		return nil, fmt.Errorf("control ui assets: index.html missing")
	}
	// The page learns its base path from <base href> (relative asset URLs
	// and the app's router follow it); no inline script is needed.
	index := &asset{ext: ".html", src: func() ([]byte, error) {
		if err := raw.load().err; err != nil {
			return nil, err
		}
		head := `<base href="` + html.EscapeString(base) + `/">`
		if o.OpenAccess {
			head += "\n" + `<meta name="clawdbot-auth" content="none">`
		}
		return bytes.Replace(raw.body, []byte(`<base href="/">`), []byte(head), 1), nil
	}}
	return &Handler{base: base, files: files, index: index}, nil
}

// BasePath is the normalised base path ("" for the root).
func (h *Handler) BasePath() string { return h.base }

// Routes reports whether r is the UI's: a GET or HEAD under the base path.
// Other methods and paths stay with the caller (its 404).
func (h *Handler) Routes(r *http.Request) bool {
	if h == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	p := r.URL.Path
	// The gateway's own prefixes stay 404 when their part is off (canvas
	// disabled), never the SPA page.
	for _, reserved := range []string{"/__clawdbot", "/v1/"} {
		if strings.HasPrefix(p, reserved) {
			return false
		}
	}
	if h.base == "" {
		return true
	}
	return p == h.base || strings.HasPrefix(p, h.base+"/")
}

// ServeHTTP answers a request Routes accepted.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if h.base != "" && p == h.base {
		target := h.base + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, h.base), "/")
	if h.base == "" && (rel == "ui" || strings.HasPrefix(rel, "ui/")) {
		http.NotFound(w, r)
		return
	}
	if slices.Contains(strings.Split(rel, "/"), "..") {
		http.NotFound(w, r)
		return
	}
	a := h.index
	if rel != "" && rel != "index.html" {
		if f, ok := h.files[rel]; ok {
			a = f
		} else if strings.Contains(path.Base(rel), ".") {
			http.NotFound(w, r)
			return
		}
	}
	h.serveAsset(w, r, a)
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	if a.load().err != nil {
		// The embed is part of the binary: this is a broken build.
		http.Error(w, "control ui asset unreadable: "+a.err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	SecurityHeaders(hd, r.Host)
	hd.Set("Content-Type", a.ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if a.gz != nil && AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = a.gz, a.gzET
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// SecurityHeaders sets the UI's Content-Security-Policy and the headers
// that keep it out of frames and other origins' reach. host is the
// request's Host; the WebSocket back to it is the only connection the page
// may open (a Host with unexpected characters leaves just 'self').
func SecurityHeaders(hd http.Header, host string) {
	connect := "'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data: blob:; font-src 'self'; connect-src "+connect+"; manifest-src 'self'; "+
		"base-uri 'self'; form-action 'none'; frame-ancestors 'none'; object-src 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
}

func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return false
		}
	}
	return true
}

// AcceptsGzip reports whether an Accept-Encoding value allows gzip (a
// "gzip" or "*" coding without q=0).
func AcceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if strings.HasPrefix(q, "q=0") && strings.Trim(strings.TrimPrefix(q, "q=0"), ".0") == "" {
			return false
		}
		return true
	}
	return false
}

// GzipSize is the bytes the whole UI costs a browser that accepts gzip:
// every embedded file as served (the budget test holds it under 300 KiB).
func GzipSize() (int, error) {
	files, err := assets()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range files {
		if a.load().err != nil {
			return 0, a.err
		}
		if a.gz != nil {
			n += len(a.gz)
		} else {
			n += len(a.body)
		}
	}
	return n, nil
}
