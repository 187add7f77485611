package ports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// takeoverEnv gives the test its own lock directory and config path.
func takeoverEnv(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	return filepath.Join(t.TempDir(), "clawdbot.json")
}

func freeTestPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TakeOver ends this profile's foreground gateway (the lock holder) on the
// port it asks for, or on another one, SIGKILLing one that ignores SIGTERM,
// then holds the lock itself.
func TestTakeOverOwnGateway(t *testing.T) {
	requireLookup(t)
	old := gatewayGrace
	gatewayGrace = 300 * time.Millisecond // the stubborn case needs no 6 s
	t.Cleanup(func() { gatewayGrace = old })
	for _, tc := range []struct {
		name, mode string
		samePort   bool
	}{
		{"same port", "gateway", true},
		{"another port", "gateway", false},
		{"ignores SIGTERM", "stubborn-gateway", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := takeoverEnv(t)
			h := startHelper(t, tc.mode, "PORTS_TEST_CONFIG="+cfg)
			if h.port == 0 {
				t.Fatalf("helper: %s", h.line)
			}
			port := h.port
			if !tc.samePort {
				port = freeTestPort(t)
			}
			var log logBuf
			lock, killed, err := TakeOver(context.Background(), port, cfg, os.Getenv, log.logf)
			if err != nil {
				t.Fatalf("TakeOver: %v\n%s", err, log.String())
			}
			defer lock.Release()
			if lock == nil || len(killed) != 1 || killed[0].PID != h.cmd.Process.Pid {
				t.Fatalf("lock %v, killed %+v", lock, killed)
			}
			if !h.exited(t) {
				t.Fatal("the old gateway still runs")
			}
			info, err := ReadLock(LockPath(cfg, os.Getenv))
			if err != nil || info.PID != os.Getpid() {
				t.Errorf("lock file %+v, %v: want ours", info, err)
			}
			k := killed[0]
			where := fmt.Sprintf("on port %d", port)
			if !tc.samePort {
				where = "(this profile's running gateway)"
			}
			want := fmt.Sprintf("force: killed pid %d (%s) %s; user %s: %s", k.PID, k.Command, where, currentUser(t), k.CommandLine)
			if !strings.Contains(log.String(), want) {
				t.Errorf("log:\n%s\nwant line %q", log.String(), want)
			}
			if esc := strings.Contains(log.String(), "force: escalated to SIGKILL"); esc != (tc.mode == "stubborn-gateway") {
				t.Errorf("escalation logged = %v:\n%s", esc, log.String())
			}
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(h.port))
			if err != nil {
				t.Fatalf("old gateway's port not free: %v", err)
			}
			ln.Close()
		})
	}
}

// A gateway that a service manager runs is refused with its stop command:
// nothing is signalled and the lock stays where it is. CLAWDBOT_SERVICE_MARKER
// in its environment is what the service definitions set.
func TestTakeOverRefusesSupervised(t *testing.T) {
	requireLookup(t)
	cfg := takeoverEnv(t)
	h := startHelper(t, "gateway", "PORTS_TEST_CONFIG="+cfg, "CLAWDBOT_SERVICE_MARKER=clawdbot", "CLAWDBOT_PROFILE=work")
	for _, port := range []int{h.port, freeTestPort(t)} {
		lock, _, err := TakeOver(context.Background(), port, cfg, os.Getenv, nil)
		held := fmt.Sprintf("pid %d (clawdbot gateway, profile work, supervised: %s -test.run=^$), which a service manager "+
			"would restart if killed; stop it with 'clawdbot --profile work gateway stop' instead of --force", h.cmd.Process.Pid, h.cmd.Path)
		want := "this profile's gateway runs as " + held
		if port == h.port {
			want = fmt.Sprintf("port %d is held by %s", port, held)
		}
		if lock != nil || err == nil || err.Error() != want {
			t.Errorf("port %d: lock %v, err %v\nwant %s", port, lock, err, want)
		}
	}
	if h.exited(t) {
		t.Fatal("a supervised gateway was killed")
	}
	if _, err := AcquireLock(cfg, os.Getenv); !errors.Is(err, ErrLocked) {
		t.Errorf("the lock changed hands: %v", err)
	}
}

// With nothing in the way, TakeOver just takes the lock.
func TestTakeOverNothingToDo(t *testing.T) {
	cfg := takeoverEnv(t)
	port := freeTestPort(t)
	var log logBuf
	lock, killed, err := TakeOver(context.Background(), port, cfg, os.Getenv, log.logf)
	if err != nil || lock == nil || len(killed) != 0 || log.String() != fmt.Sprintf("force: no listeners on port %d", port) {
		t.Fatalf("lock %v, killed %v, err %v, log %q", lock, killed, err, log.String())
	}
	lock.Release()
}
