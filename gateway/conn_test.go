package gateway

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The gateway hands coder/websocket 1 KiB buffers (smallBufHijacker);
// these tests push frames through both fallbacks: bytes already buffered
// by net/http at hijack time, and frames far larger than the buffers.

// TestUpgradeWithFrameInSameWrite sends the upgrade request and the
// connect frame in one write, so the frame is already in net/http's
// reader when the connection is hijacked.
func TestUpgradeWithFrameInSameWrite(t *testing.T) {
	s := startServer(t, nil)
	addr := s.Addr().String()
	r, err := rawDialWith(addr, clientFrame(connectFrame(testToken)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, p, err := r.next()
	if err != nil || !bytes.Contains(p, []byte(`"connect.challenge"`)) {
		t.Fatalf("first frame %q, %v; want the challenge", p, err)
	}
	for {
		_, p, err := r.next()
		if err != nil {
			t.Fatalf("no hello: %v", err)
		}
		if bytes.HasPrefix(p, []byte(`{"type":"res"`)) {
			if !bytes.Contains(p, []byte(`"ok":true`)) || !bytes.Contains(p, []byte(`"hello-ok"`)) {
				t.Fatalf("connect failed: %.300s", p)
			}
			return
		}
	}
}

// TestFramesLargerThanBuffers: a 200 KB request in, a >200 KB response
// out (a logs.tail; presence fields are bounded now), and a hello-ok
// bigger than the write buffer.
func TestFramesLargerThanBuffers(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "gateway.log")
	line := `{"msg":"` + strings.Repeat("y", 1000) + `"}` + "\n"
	if err := os.WriteFile(logFile, []byte(strings.Repeat(line, 300)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(o *Options) { o.LogFile = func() string { return logFile } })
	r, err := rawDial(s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := r.next(); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(connectFrame(testToken)); err != nil {
		t.Fatal(err)
	}
	hello := nextRes(t, r)
	if len(hello) <= wsWriteBufSize {
		t.Fatalf("hello-ok is %d bytes, want more than the %d-byte write buffer for this test", len(hello), wsWriteBufSize)
	}
	text := strings.Repeat("x", 200_000)
	req := `{"type":"req","id":"big","method":"system-event","params":{"text":"` + text + `","instanceId":"big-node","mode":"ui"}}`
	if err := r.Send([]byte(req)); err != nil {
		t.Fatal(err)
	}
	if res := nextRes(t, r); !bytes.Contains(res, []byte(`"ok":true`)) {
		t.Fatalf("system-event: %.300s", res)
	}
	if err := r.Send([]byte(`{"type":"req","id":"p","method":"logs.tail","params":{"maxBytes":1000000}}`)); err != nil {
		t.Fatal(err)
	}
	res := nextRes(t, r)
	if len(res) < 250_000 || !bytes.Contains(res, []byte(strings.Repeat("y", 1000))) {
		t.Fatalf("logs.tail response (%d bytes) lacks the 300 KB of lines: %.300s", len(res), res)
	}
}

// nextRes returns a copy of the next res frame, skipping events.
func nextRes(t *testing.T, r *rawWS) []byte {
	t.Helper()
	for {
		op, p, err := r.next()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if op == 0x8 {
			t.Fatalf("closed: %q", p)
		}
		if bytes.HasPrefix(p, []byte(`{"type":"res"`)) {
			return bytes.Clone(p)
		}
	}
}
