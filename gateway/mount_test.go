package gateway

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// fakeMount stands in for the canvas host: the real one needs a canvas
// root and a watcher, while what is under test is only when the runtime
// starts and stops its parts.
type fakeMount struct {
	body          string
	starts, stops atomic.Int32
}

func (m *fakeMount) ServeHTTP(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, m.body) }
func (m *fakeMount) Start()                                           { m.starts.Add(1) }
func (m *fakeMount) Stop()                                            { m.stops.Add(1) }

func getBody(t *testing.T, s *Server) string {
	t.Helper()
	res, err := http.Get("http://" + s.Addr().String() + "/__clawdbot__/canvas/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// A restart that fails to build its runtime leaves the old runtime whole,
// canvas host included, and stops the host built for the new one; a
// successful one stops the old host only after the swap and starts the
// new one; a host carried over is neither stopped nor restarted.
func TestRestartSwapsMountsWithTheRuntime(t *testing.T) {
	s := startServer(t, nil)
	old := &fakeMount{body: "old"}
	s.canvasPaths = true
	s.rt.Load().canvas = old
	s.rt.Load().startMounts(nil)
	ctx := context.Background()

	fresh := &fakeMount{body: "new"}
	bad := RuntimeConfig{Auth: Auth{Mode: AuthToken}, Canvas: fresh} // token mode without a token
	if err := s.Restart(ctx, bad); err == nil {
		t.Fatal("restart with an invalid auth succeeded")
	}
	if got := getBody(t, s); got != "old" {
		t.Fatalf("after a failed restart the canvas serves %q, want the old host", got)
	}
	if old.stops.Load() != 0 || fresh.stops.Load() != 1 || fresh.starts.Load() != 0 {
		t.Fatalf("failed restart: old stops=%d, new starts=%d stops=%d; want 0, 0, 1", old.stops.Load(), fresh.starts.Load(), fresh.stops.Load())
	}

	good := RuntimeConfig{Auth: Auth{Mode: AuthToken, Token: testToken}, Canvas: old}
	if err := s.Restart(ctx, good); err != nil {
		t.Fatal(err)
	}
	if old.stops.Load() != 0 || old.starts.Load() != 1 {
		t.Fatalf("carried-over host: starts=%d stops=%d, want 1, 0", old.starts.Load(), old.stops.Load())
	}

	next := &fakeMount{body: "next"}
	good.Canvas = next
	if err := s.Restart(ctx, good); err != nil {
		t.Fatal(err)
	}
	if got := getBody(t, s); got != "next" {
		t.Fatalf("after a restart the canvas serves %q, want the new host", got)
	}
	if old.stops.Load() != 1 || next.starts.Load() != 1 || next.stops.Load() != 0 {
		t.Fatalf("restart: old stops=%d, new starts=%d stops=%d; want 1, 1, 0", old.stops.Load(), next.starts.Load(), next.stops.Load())
	}
}
