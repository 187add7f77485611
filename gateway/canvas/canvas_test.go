package canvas

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/profiles"
)

// setup builds a layout with a secret outside the canvas root:
//
//	base/secret.txt                 (must never be served)
//	base/canvas/                    (root; demo index.html is created)
//	base/canvas/sub/page.html
//	base/canvas/emptydir/
//	base/canvas/out.txt  -> ../secret.txt      (escaping symlink)
//	base/canvas/outdir   -> ..                 (escaping directory symlink)
//	base/canvas/in.txt   -> sub/page.html      (symlink that stays inside)
func setup(t *testing.T, live bool) (*Host, string) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "canvas")
	must(t, os.WriteFile(filepath.Join(base, "secret.txt"), []byte("TOPSECRET"), 0o600))
	h, err := New(Options{Root: root, LiveReload: live, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	must(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "emptydir"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "sub", "page.html"), []byte("<html><BODY>hi</BODY></html>"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "style.css"), []byte("body{}"), 0o644))
	must(t, os.Symlink("../secret.txt", filepath.Join(root, "out.txt")))
	must(t, os.Symlink("..", filepath.Join(root, "outdir")))
	must(t, os.Symlink("sub/page.html", filepath.Join(root, "in.txt")))
	return h, base
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rawGet sends the request line exactly as given, so neither the client nor
// url.Parse can clean the path before the server sees it.
func rawGet(t *testing.T, addr, method, target string) (int, http.Header, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestServing(t *testing.T) {
	h, base := setup(t, true)
	srv := httptest.NewServer(h)
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	tests := []struct {
		name, method, target string
		status               int
		contains             string
	}{
		{"demo index at root", "GET", Prefix, 200, "Clawdbot Canvas"},
		{"html gets the reload script", "GET", Prefix, 200, WSPath},
		{"explicit file", "GET", Prefix + "style.css", 200, "body{}"},
		{"subdir file, script before </BODY>", "GET", Prefix + "sub/page.html", 200, "</script>\n</BODY>"},
		{"head", "HEAD", Prefix + "style.css", 200, ""},
		{"post refused", "POST", Prefix + "style.css", 405, ""},
		{"put refused", "PUT", Prefix, 405, ""},
		{"missing file", "GET", Prefix + "nope.html", 404, "not found"},
		{"dir without index", "GET", Prefix + "emptydir/", 404, "No index.html"},
		{"dir without slash redirects", "GET", Prefix + "sub", 301, ""},
		{"bare prefix redirects", "GET", strings.TrimSuffix(Prefix, "/"), 301, ""},
		{"symlink inside root", "GET", Prefix + "in.txt", 200, "hi"},
		// Escapes: none may return the secret.
		{"dotdot", "GET", Prefix + "../secret.txt", 404, ""},
		{"encoded dotdot", "GET", Prefix + "%2e%2e/secret.txt", 404, ""},
		{"encoded dotdot mixed case", "GET", Prefix + "%2E%2e%2fsecret.txt", 404, ""},
		{"deep dotdot", "GET", Prefix + "sub/../../secret.txt", 404, ""},
		{"backslash dotdot", "GET", Prefix + "..%5csecret.txt", 404, ""},
		{"absolute path", "GET", Prefix + "/" + filepath.ToSlash(filepath.Join(base, "secret.txt")), 404, ""},
		{"escaping file symlink", "GET", Prefix + "out.txt", 404, ""},
		{"escaping dir symlink", "GET", Prefix + "outdir/secret.txt", 404, ""},
		{"nul byte", "GET", Prefix + "style.css%00", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := rawGet(t, addr, tt.method, tt.target)
			if status != tt.status {
				t.Errorf("%s %s: status %d, want %d (body %q)", tt.method, tt.target, status, tt.status, body)
			}
			if strings.Contains(body, "TOPSECRET") {
				t.Fatalf("%s leaked the file outside the root", tt.target)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("%s: body %q lacks %q", tt.target, body, tt.contains)
			}
			if hdr.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", tt.target, hdr.Get("Cache-Control"))
			}
		})
	}

	// Plain HTTP on the live-reload path.
	status, _, body := rawGet(t, addr, "GET", WSPath)
	if status != http.StatusUpgradeRequired || !strings.Contains(body, "upgrade required") {
		t.Errorf("plain GET %s = %d %q, want 426 upgrade required", WSPath, status, body)
	}
	if status, _, _ := rawGet(t, addr, "GET", "/elsewhere"); status != 404 {
		t.Errorf("foreign path: %d, want 404", status)
	}
}

func TestNoScriptWithoutLiveReload(t *testing.T) {
	h, _ := setup(t, false)
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, _, body := rawGet(t, srv.Listener.Addr().String(), "GET", Prefix+"sub/page.html")
	if body != "<html><BODY>hi</BODY></html>" {
		t.Errorf("page changed without live reload: %q", body)
	}
}

func TestInjectScript(t *testing.T) {
	tests := []struct{ in, wantPrefix, wantSuffix string }{
		{"<body>x</body></html>", "<body>x<script>", "</script>\n</body></html>"},
		{"a</body>b</BODY>c", "a</body>b<script>", "</script>\n</BODY>c"},
		{"no body tag", "no body tag<script>", "</script>\n"},
		// bytes.ToLower turns "İ" (2 bytes) into 3, which once shifted the
		// insertion point one byte into the tag.
		{"İ<body>x</body>", "İ<body>x<script>", "</script>\n</body>"},
		{"</bod", "</bod<script>", "</script>\n"},
	}
	for _, tt := range tests {
		got := string(InjectScript([]byte(tt.in)))
		if !strings.HasPrefix(got, tt.wantPrefix) || !strings.HasSuffix(got, tt.wantSuffix) {
			t.Errorf("InjectScript(%q) = %q", tt.in, got)
		}
	}
}

func dialLive(t *testing.T, srv *httptest.Server, h *Host, want int) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+WSPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	for h.Clients() < want {
		if ctx.Err() != nil {
			t.Fatal("server never registered the live-reload client")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c
}

// readMsg reads one message, or fails after d (which also closes c:
// coder/websocket ends the connection when a read context expires).
func readMsg(c *websocket.Conn, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := c.Read(ctx)
	return string(b), err
}

func TestLiveReload(t *testing.T) {
	h, _ := setup(t, true)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c1 := dialLive(t, srv, h, 1)
	c2 := dialLive(t, srv, h, 2)

	must(t, os.WriteFile(filepath.Join(h.Root(), "style.css"), []byte("body{color:red}"), 0o644))
	for i, c := range []*websocket.Conn{c1, c2} {
		if msg, err := readMsg(c, 5*time.Second); err != nil || msg != ReloadMessage {
			t.Fatalf("client %d: got %q, %v; want %q", i, msg, err, ReloadMessage)
		}
	}

	// Ignored: dotfiles and node_modules.
	must(t, os.WriteFile(filepath.Join(h.Root(), ".hidden"), []byte("x"), 0o644))
	must(t, os.MkdirAll(filepath.Join(h.Root(), "node_modules", "pkg"), 0o755))
	must(t, os.WriteFile(filepath.Join(h.Root(), "node_modules", "pkg", "a.js"), []byte("x"), 0o644))
	// Creating node_modules (an event in the root) is ignored as well.
	if msg, err := readMsg(c1, 300*time.Millisecond); err == nil {
		t.Fatalf("ignored paths triggered %q", msg)
	}

	// A directory created after start is watched too.
	c3 := dialLive(t, srv, h, 2) // c1's read context expiry closed c1; c2 remains
	must(t, os.MkdirAll(filepath.Join(h.Root(), "newdir"), 0o755))
	if msg, err := readMsg(c3, 5*time.Second); err != nil || msg != ReloadMessage {
		t.Fatalf("mkdir: %q %v", msg, err)
	}
	waitFor(t, "a watch on newdir", func() bool { return h.watching(filepath.Join(h.Root(), "newdir")) })
	must(t, os.WriteFile(filepath.Join(h.Root(), "newdir", "x.html"), []byte("<body></body>"), 0o644))
	if msg, err := readMsg(c3, 5*time.Second); err != nil || msg != ReloadMessage {
		t.Fatalf("file in new dir: %q %v", msg, err)
	}
}

func TestStandaloneServe(t *testing.T) {
	h, _ := setup(t, true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.Serve(ctx, ln) }()
	status, _, body := rawGet(t, ln.Addr().String(), "GET", Prefix)
	if status != 200 || !strings.Contains(body, "Clawdbot Canvas") {
		t.Errorf("standalone GET = %d %q", status, body)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if err := Serve(context.Background(), "127.0.0.1:99999", Options{Root: t.TempDir()}); err == nil {
		t.Error("Serve on an invalid address: want an error")
	}
}

func TestConfigHelpers(t *testing.T) {
	f, tr := false, true
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "CLAWDBOT_SKIP_CANVAS_HOST" {
				return v
			}
			return ""
		}
	}
	enabled := []struct {
		cfg  profiles.CanvasHostConfig
		skip string
		want bool
	}{
		{profiles.CanvasHostConfig{}, "", true},
		{profiles.CanvasHostConfig{Enabled: &tr}, "", true},
		{profiles.CanvasHostConfig{Enabled: &f}, "", false},
		{profiles.CanvasHostConfig{}, "1", false},
		{profiles.CanvasHostConfig{}, "TRUE", false},
		{profiles.CanvasHostConfig{}, "on", false},
		{profiles.CanvasHostConfig{}, "0", true},
	}
	for _, tt := range enabled {
		if got := Enabled(tt.cfg, env(tt.skip)); got != tt.want {
			t.Errorf("Enabled(%+v, skip=%q) = %v", tt.cfg, tt.skip, got)
		}
	}
	roots := []struct{ root, want string }{
		{"", "/ws/canvas"}, {"~/c", "/home/c"}, {"rel", "/ws/rel"}, {"/abs/x/", "/abs/x"},
	}
	for _, tt := range roots {
		if got := RootFor(profiles.CanvasHostConfig{Root: tt.root}, "/ws", "/home"); got != filepath.FromSlash(tt.want) {
			t.Errorf("RootFor(%q) = %q, want %q", tt.root, got, tt.want)
		}
	}
	ports := []struct{ cfg, gw, want int }{{0, 18789, 18793}, {20000, 18789, 20000}, {0, 65534, 0}, {0, 0, 0}}
	for _, tt := range ports {
		if got := StandalonePort(profiles.CanvasHostConfig{Port: tt.cfg}, tt.gw); got != tt.want {
			t.Errorf("StandalonePort(%d, %d) = %d, want %d", tt.cfg, tt.gw, got, tt.want)
		}
	}
	if !LiveReloadEnabled(profiles.CanvasHostConfig{}) || LiveReloadEnabled(profiles.CanvasHostConfig{LiveReload: &f}) {
		t.Error("LiveReloadEnabled default/false wrong")
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
