//go:build linux

package ports

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// noProc points the /proc reader at an empty directory, as on a system
// without /proc mounted, so the lsof fallback is what runs.
func noProc(t *testing.T) {
	t.Helper()
	old := procRoot
	procRoot = t.TempDir()
	t.Cleanup(func() { procRoot = old })
}

// Our own listeners on 127.0.0.1:0 and [::1]:0 are found from /proc with
// lsof off PATH: pid, address, command, command line and user.
func TestFindListenersOwnProcess(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err != nil {
				t.Skipf("no %s here: %v", host, err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			ls, err := Listeners(context.Background(), port)
			if err != nil {
				t.Fatal(err)
			}
			want := net.JoinHostPort(host, strconv.Itoa(port))
			if len(ls) != 1 || ls[0].PID != os.Getpid() || ls[0].Address != want || ls[0].Command != "ports.test" ||
				ls[0].User != currentUser(t) || !strings.HasPrefix(ls[0].CommandLine, os.Args[0]) {
				t.Errorf("Listeners = %+v, want pid %d on %s", ls, os.Getpid(), want)
			}
		})
	}
}

// A fake /proc stands in for what cannot be staged here as root: a socket
// whose owner's fd directory we may not read (another user's process).
func TestFindListenersHidden(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	write("net/tcp", header+
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0 100 0 0 10 0\n"+
		"   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 200 1 0 100 0 0 10 0\n")
	// No tcp6: IPv6 disabled is not an error.
	write("4242/comm", "fakegw\n")
	os.MkdirAll(filepath.Join(root, "4242", "fd"), 0o755)
	os.Symlink("socket:[100]", filepath.Join(root, "4242", "fd", "3"))
	os.Symlink("pipe:[7]", filepath.Join(root, "4242", "fd", "4"))
	os.MkdirAll(filepath.Join(root, "self"), 0o755)
	old := procRoot
	procRoot = root
	t.Cleanup(func() { procRoot = old })

	ls, hidden, err := findListeners(context.Background(), 8080)
	nobody := userName(65534)
	if err != nil || !reflect.DeepEqual(ls, []Listener{{PID: 4242, Command: "fakegw", Address: "127.0.0.1:8080"}}) ||
		!reflect.DeepEqual(hidden, []HiddenListener{{Address: "*:8080", User: nobody}}) {
		t.Fatalf("findListeners = %+v, %+v, %v", ls, hidden, err)
	}
	// --force refuses before signalling anything: it could not free the port.
	_, err = portTargets(context.Background(), 8080)
	want := "port 8080 is held by a process of user " + nobody + " (*:8080) that this user cannot see or signal; " +
		NoDetailsFix + ", or choose another port with --port"
	if err == nil || err.Error() != want {
		t.Errorf("portTargets: %v\nwant %s", err, want)
	}
	// Only the hidden socket: busy, without details, and the owner's user.
	os.Remove(filepath.Join(root, "4242", "fd", "3"))
	r := Inspect(context.Background(), 8080)
	if r.Status != StatusBusy || len(r.Listeners) != 0 || !reflect.DeepEqual(r.Hints, []string{HintNoDetails}) ||
		!strings.Contains(r.Text(), "- pid ? "+nobody+": (not visible to this user) (*:8080)\n") {
		t.Errorf("Inspect = %+v\n%s", r, r.Text())
	}
}

// BenchmarkListenersProc is one lookup of a port's owner from /proc (both
// socket tables and every process's fds), what --force repeats every
// pollInterval while it waits.
func BenchmarkListenersProc(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for b.Loop() {
		if ls, _, err := findListeners(context.Background(), port); err != nil || len(ls) != 1 {
			b.Fatalf("%v %v", ls, err)
		}
	}
}
