//go:build linux

package notify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen binds a real unixgram socket as a stand-in for systemd's notify
// socket and points NOTIFY_SOCKET at it. The directory comes from
// os.MkdirTemp with a short name because sun_path is limited to 108 bytes
// and t.TempDir() names can exceed that.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

func recv(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no datagram received: %v", err)
	}
	return string(buf[:n])
}

func TestSendsSdNotifyDatagrams(t *testing.T) {
	conn := listen(t)
	tests := []struct {
		name string
		call func() error
		want func(string) bool
	}{
		{"ready", Ready, func(s string) bool { return s == "READY=1" }},
		{"stopping", Stopping, func(s string) bool { return s == "STOPPING=1" }},
		{"status", func() error { return Status("serving on 127.0.0.1:18789\nsecond line") },
			func(s string) bool { return s == "STATUS=serving on 127.0.0.1:18789 second line" }},
		{"reloading", Reloading, func(s string) bool {
			lines := strings.Split(s, "\n")
			if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
				return false
			}
			us, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
			return err == nil && us > 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := recv(t, conn); !tt.want(got) {
				t.Errorf("%s sent %q", tt.name, got)
			}
		})
	}
}

func TestNoSocketIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	for _, f := range []func() error{Ready, Reloading, Stopping} {
		if err := f(); err != nil {
			t.Errorf("without NOTIFY_SOCKET: %v", err)
		}
	}
}

func TestUnreachableSocketIsAnError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "missing.sock"))
	if err := Ready(); err == nil || !strings.Contains(err.Error(), "sd_notify ready") {
		t.Errorf("Ready to a missing socket: err = %v, want an sd_notify error", err)
	}
}

func TestHookSeesEveryState(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	var got []string
	SetHook(func(s State, status string) { got = append(got, s.String()+":"+status) })
	t.Cleanup(func() { SetHook(nil) })
	_ = Ready()
	_ = Reloading()
	_ = Status("x")
	_ = Stopping()
	want := "ready: reloading: status:x stopping:"
	if strings.Join(got, " ") != want {
		t.Errorf("hook saw %q, want %q", strings.Join(got, " "), want)
	}
}

// A supervisor that stops reading must not block the gateway forever.
func TestFullSocketTimesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the send timeout")
	}
	listen(t) // never read
	var err error
	start := time.Now()
	for i := 0; i < 1000 && err == nil; i++ {
		err = Status("x")
	}
	if err == nil {
		t.Fatal("1000 unread datagrams were all accepted; expected the queue to fill")
	}
	if d := time.Since(start); d > 3*sendTimeout {
		t.Errorf("blocked for %v", d)
	}
}
