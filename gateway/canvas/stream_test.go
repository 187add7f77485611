package canvas

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// heapInuse is HeapInuse after a full collection, so only live memory counts.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Serving a large page to several clients at once must not hold the page in
// memory: each request costs a few fixed buffers, whatever the file size.
// The file is sparse, so the test needs no disk space. The heap is measured
// while every response is in flight (each client has read 1 MiB and stops),
// which is when a read-the-whole-file server holds N copies of it.
func TestLargeHTMLStreamsWithBoundedHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 4 × 64 MiB over loopback")
	}
	const (
		size    = 64 << 20
		clients = 4
		// Far below one copy of the file; room for per-connection buffers
		// (scan chunk, copy buffer, bufio) and runtime noise.
		maxGrowth = 16 << 20
	)
	h, _ := setup(t, true)
	big := filepath.Join(h.Root(), "big.html")
	f, err := os.Create(big)
	must(t, err)
	must(t, f.Truncate(size))
	must(t, f.Close())
	srv := httptest.NewServer(h)
	defer srv.Close()

	base := heapInuse()
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	errs := make(chan error, clients)
	for range clients {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			resp, err := http.Get(srv.URL + Prefix + "big.html")
			if err != nil {
				ready.Done()
				errs <- err
				return
			}
			defer resp.Body.Close()
			_, err = io.CopyN(io.Discard, resp.Body, 1<<20)
			ready.Done()
			if err != nil {
				errs <- err
				return
			}
			<-release
			// The body is the file (zeros) with the script appended; count
			// it and keep only its tail.
			tail := &tailWriter{keep: len(liveReloadScript)}
			n, err := io.Copy(tail, resp.Body)
			switch {
			case err != nil:
				errs <- err
			case n+1<<20 != size+int64(len(liveReloadScript)):
				errs <- fmt.Errorf("body is %d bytes, want %d", n+1<<20, size+len(liveReloadScript))
			case string(tail.b) != liveReloadScript:
				errs <- fmt.Errorf("body does not end with the live-reload script: %q", tail.b)
			default:
				errs <- nil
			}
		}()
	}
	ready.Wait()
	grown := int64(heapInuse()) - int64(base)
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("heap growth with %d responses of %d MiB in flight: %.1f MiB", clients, size>>20, float64(grown)/(1<<20))
	if grown > maxGrowth {
		t.Errorf("heap grew by %d MiB serving %d × %d MiB, want under %d MiB (the file is being buffered)",
			grown>>20, clients, size>>20, maxGrowth>>20)
	}
}

// tailWriter keeps the last keep bytes written to it.
type tailWriter struct {
	keep int
	b    []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if len(w.b) > w.keep {
		w.b = append(w.b[:0], w.b[len(w.b)-w.keep:]...)
	}
	return len(p), nil
}

// The streamed page is byte for byte what InjectScript makes of the file in
// memory, from every offset (ServeContent seeks for ranges and sniffing).
func TestInjectedMatchesInjectScript(t *testing.T) {
	pages := []string{
		"",
		"<html><body>x</body></html>",
		"<html><BODY>x</BoDy></html>\n",
		"no tag at all",
		"a</body>b</body>c",
		"İ<body>x</body>",
		"</body",
	}
	for _, page := range pages {
		want := InjectScript([]byte(page))
		p, err := newInjected(strings.NewReader(page), int64(len(page)), liveReloadScript)
		if err != nil {
			t.Fatal(err)
		}
		for off := range len(want) + 1 {
			if _, err := p.Seek(int64(off), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(p)
			if err != nil {
				t.Fatalf("%q from %d: %v", page, off, err)
			}
			if !bytes.Equal(got, want[off:]) {
				t.Fatalf("%q from %d:\n got %q\nwant %q", page, off, got, want[off:])
			}
		}
		if end, _ := p.Seek(0, io.SeekEnd); end != int64(len(want)) {
			t.Errorf("%q: size %d, want %d", page, end, len(want))
		}
	}
}

// A file that shrinks while it is served ends the body with an error rather
// than a page with the script in the wrong place.
func TestInjectedFileShrinks(t *testing.T) {
	page := []byte("<body>" + strings.Repeat("x", 100) + "</body>")
	p, err := newInjected(bytes.NewReader(page), int64(len(page)), liveReloadScript)
	must(t, err)
	p.f = bytes.NewReader(page[:50])
	if _, err := io.ReadAll(p); err != io.ErrUnexpectedEOF {
		t.Errorf("read of a shrunk file: %v, want io.ErrUnexpectedEOF", err)
	}
}

// Where the script goes in a file on disk, for pages inside and beyond the
// </body> search window. The file's own bytes always come through intact.
func TestHTMLInjectionOnDisk(t *testing.T) {
	h, _ := setup(t, true)
	srv := httptest.NewServer(h)
	defer srv.Close()
	pad := strings.Repeat("p", InjectScanWindow+scanChunk/2)
	tests := []struct {
		name, page string
		at         int // expected script offset in the file; -1 = appended
	}{
		{"small page", "<html><body>hi</body></html>", len("<html><body>hi")},
		{"tag at a chunk boundary", strings.Repeat("q", 3*scanChunk-3) + "</body>x", 3*scanChunk - 3},
		{"large page, tag near the end", "<body>" + pad + "</BODY></html>", len("<body>" + pad)},
		{"large page, tag beyond the window", "<body></body>" + pad, -1},
		{"no tag", "plain", -1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("p%d.html", i)
			must(t, os.WriteFile(filepath.Join(h.Root(), name), []byte(tt.page), 0o644))
			resp, err := http.Get(srv.URL + Prefix + name)
			must(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			must(t, err)
			at := tt.at
			if at < 0 {
				at = len(tt.page)
			}
			want := tt.page[:at] + liveReloadScript + tt.page[at:]
			if string(body) != want {
				i := 0
				for i < min(len(body), len(want)) && body[i] == want[i] {
					i++
				}
				t.Errorf("body (%d bytes) differs from want (%d bytes) at %d", len(body), len(want), i)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

type condCase struct {
	name, path, hdr, val string
	status               int
	body                 string // "" = not checked
	ctype                string // "" = not checked
}

// Range and conditional requests: plain files and pages served without the
// script keep ServeContent's Last-Modified/304; an injected page has no
// Last-Modified (never 304) but ranges over file + script are exact.
func TestRangeAndConditional(t *testing.T) {
	for _, live := range []bool{true, false} {
		h, _ := setup(t, live)
		srv := httptest.NewServer(h)
		page := "<html><BODY>hi</BODY></html>"
		full := page
		if live {
			full = string(InjectScript([]byte(page)))
		}
		future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
		tests := []condCase{
			{"css 304", "style.css", "If-Modified-Since", future, 304, "", ""},
			{"css range", "style.css", "Range", "bytes=1-3", 206, "ody", "text/css; charset=utf-8"},
			{"html range head", "sub/page.html", "Range", "bytes=0-9", 206, full[:10], "text/html; charset=utf-8"},
			{"html range across the script", "sub/page.html", "Range", "bytes=10-", 206, full[10:], "text/html; charset=utf-8"},
			{"html suffix range", "sub/page.html", "Range", "bytes=-9", 206, full[len(full)-9:], "text/html; charset=utf-8"},
			{"html unsatisfiable range", "sub/page.html", "Range", fmt.Sprintf("bytes=%d-", len(full)+5), 416, "", ""},
		}
		if live {
			tests = append(tests, condCase{"injected html never 304", "sub/page.html", "If-Modified-Since", future, 200, full, "text/html; charset=utf-8"})
		} else {
			tests = append(tests, condCase{"plain html 304", "sub/page.html", "If-Modified-Since", future, 304, "", ""})
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("live=%v/%s", live, tt.name), func(t *testing.T) {
				req, _ := http.NewRequest("GET", srv.URL+Prefix+tt.path, nil)
				req.Header.Set(tt.hdr, tt.val)
				resp, err := http.DefaultClient.Do(req)
				must(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
				}
				if tt.body != "" && string(b) != tt.body {
					t.Errorf("body %q, want %q", b, tt.body)
				}
				if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
					t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
				}
				if got := resp.Header.Get("Last-Modified") != ""; resp.StatusCode/100 == 2 && got == (live && strings.HasSuffix(tt.path, ".html")) {
					t.Errorf("Last-Modified present = %v for %s (live=%v)", got, tt.path, live)
				}
			})
		}
		srv.Close()
	}
}
