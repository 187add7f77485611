package tools

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

const articleHTML = `<!doctype html><html><head><title>Test Page</title></head><body>
<nav><a href="/a">Home</a> <a href="/b">About</a></nav>
<article><h1>The Heading</h1>
<p>This is the first paragraph of the article. It has enough words to count as readable content for the extractor to keep it around.</p>
<p>A second paragraph with a <a href="https://example.com/x">link</a> and more text so the article is long enough to win over the navigation.</p>
</article><footer>footer junk</footer><script>var x = 1;</script></body></html>`

func fetchServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articleHTML)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"a":1}`)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		chunk := strings.Repeat("x", 64<<10)
		for range (MaxFetchBytes / len(chunk)) * 4 {
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		fmt.Fprint(w, "<html><title>Not Found</title><body><p>nothing here</p></body></html>")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/page", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop2", http.StatusFound) })
	mux.HandleFunc("/loop2", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// allowLoopback is a config that lets web_fetch reach the loopback test
// server.
var allowLoopback = map[string]any{"tools": map[string]any{"web": map[string]any{"fetch": map[string]any{"allowPrivateNetwork": true}}}}

func fetchPayload(t *testing.T, r *Registry, args map[string]any) (map[string]any, string, bool) {
	t.Helper()
	res := call(t, r, "web_fetch", args)
	if res.IsError {
		return nil, text(res), true
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text(res)), &m); err != nil {
		t.Fatalf("payload: %v: %s", err, text(res))
	}
	return m, text(res), false
}

func TestWebFetch(t *testing.T) {
	srv := fetchServer(t)
	r, _ := newTestRegistry(t, allowLoopback)
	p, raw, isErr := fetchPayload(t, r, map[string]any{"url": srv.URL + "/redirect"})
	if isErr {
		t.Fatal(raw)
	}
	txt := p["text"].(string)
	if p["extractor"] != "readability" || p["title"] != "Test Page" || p["status"] != float64(200) || p["finalUrl"] != srv.URL+"/page" ||
		!strings.Contains(txt, "first paragraph") || !strings.Contains(txt, "[link](https://example.com/x)") || strings.Contains(txt, "var x") {
		t.Errorf("page payload: %s", raw)
	}
	if !strings.HasPrefix(raw, "{\n  \"url\": ") {
		t.Errorf("field order: %s", raw[:40])
	}
	p, raw, _ = fetchPayload(t, r, map[string]any{"url": srv.URL + "/page", "extractMode": "text"})
	if strings.Contains(p["text"].(string), "](") || !strings.Contains(p["text"].(string), "first paragraph") {
		t.Errorf("text mode: %s", raw)
	}
	p, raw, _ = fetchPayload(t, r, map[string]any{"url": srv.URL + "/json"})
	if p["extractor"] != "json" || p["text"] != "{\n  \"a\": 1\n}" {
		t.Errorf("json: %s", raw)
	}
	p, raw, _ = fetchPayload(t, r, map[string]any{"url": srv.URL + "/huge", "maxChars": 1000})
	if p["truncated"] != true || p["length"] != float64(1000) {
		t.Errorf("huge: %s", raw[:200])
	}
	errs := []struct{ url, want string }{
		{srv.URL + "/missing", "Web fetch failed (404): Not Found\nNot Foundnothing here"}, // the original keeps the title text in the body too
		{srv.URL + "/loop", "Redirect loop detected"},
		{"ftp://example.com/x", "Invalid URL: must be http or https"},
		{"not a url", "Invalid URL: must be http or https"},
	}
	for _, e := range errs {
		if _, got, isErr := fetchPayload(t, r, map[string]any{"url": e.url}); !isErr || got != e.want {
			t.Errorf("%s: got %q, want %q", e.url, got, e.want)
		}
	}
}

// Without allowPrivateNetwork, loopback and private targets are refused
// — literal addresses, blocked names, names that resolve to loopback,
// and redirects to them — and the server never sees the request.
func TestWebFetchRefusesPrivateByDefault(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++; fmt.Fprint(w, "secret") }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	r, _ := newTestRegistry(t, nil)
	cases := []struct{ url, want string }{
		{srv.URL, "Blocked: private/internal IP address"},
		{"http://localhost:" + port, "Blocked hostname: localhost"},
		{"http://[::1]:" + port, "Blocked: private/internal IP address"},
		{"http://169.254.169.254/latest/meta-data", "Blocked: private/internal IP address"},
		{"http://metadata.google.internal/", "Blocked hostname: metadata.google.internal"},
		{"http://printer.local/", "Blocked hostname: printer.local"},
	}
	for _, c := range cases {
		_, got, isErr := fetchPayload(t, r, map[string]any{"url": c.url})
		if !isErr || (c.want != "" && got != c.want) {
			t.Errorf("%s: got %v %q, want error %q", c.url, isErr, got, c.want)
		}
	}
	if hits != 0 {
		t.Errorf("the loopback server got %d requests", hits)
	}
	// The dial-time check itself: a client dialing loopback is refused
	// whatever name led there.
	res, err := fetchClient(false).Get(srv.URL)
	if err == nil {
		res.Body.Close()
		t.Fatal("dial to loopback allowed")
	}
	if !strings.Contains(err.Error(), "Blocked: resolves to private/internal IP address") {
		t.Errorf("dial error: %v", err)
	}
	if hits != 0 {
		t.Errorf("the loopback server got %d requests", hits)
	}
}

func TestPrivateAddr(t *testing.T) {
	for s, want := range map[string]bool{"127.0.0.1": true, "10.1.2.3": true, "172.16.0.1": true, "172.32.0.1": false, "192.168.1.1": true,
		"100.64.0.1": true, "169.254.1.1": true, "0.0.0.0": true, "8.8.8.8": false, "::1": true, "::": true, "fe80::1": true,
		"fd00::1": true, "fc00::1": true, "fec0::1": true, "2001:4860::8888": false, "::ffff:127.0.0.1": true, "::ffff:8.8.8.8": false, "224.0.0.1": true} {
		if got := privateAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
}
