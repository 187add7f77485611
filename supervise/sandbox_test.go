//go:build linux

package supervise

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/supervise/sandboxtest"
)

// TestSystemdManagerAgainstRealSystemd installs our rendered Type=notify
// unit (running a fake gateway that sends READY=1) into a real user
// manager and checks Install, Status (PID, restarts after SIGKILL), Stop,
// Start and Uninstall.
func TestSystemdManagerAgainstRealSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a systemd user manager")
	}
	sb := sandboxtest.Start(t)
	bin := filepath.Join(t.TempDir(), "fakegateway")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/fakegateway").CombinedOutput(); err != nil {
		t.Fatalf("build fake gateway: %v\n%s", err, out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	s := testSpec(t, "sdtest", Systemd, ScopeUser)
	s.Program = bin
	s.Name = "clawdbot-gateway-sdtest.service"
	s.Args = []string{"gateway", "--port", itoa(port)}
	s.Env["HOME"] = sb["SYSTEMD_USER_SANDBOX_HOME"]
	s.Policy.RestartSec = 1 // keep the test quick; the policy is pinned by the golden files
	if s.DefinitionPath() != filepath.Join(sb["SYSTEMD_USER_SANDBOX_UNIT_DIR"], s.Name) {
		t.Fatalf("definition path %s is not in the sandbox unit dir", s.DefinitionPath())
	}
	m := &SystemdManager{Runner: ExecRunner{Env: []string{"HOME=" + sb["SYSTEMD_USER_SANDBOX_HOME"], "XDG_RUNTIME_DIR=" + sb["XDG_RUNTIME_DIR"]}}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() { m.Uninstall(context.Background(), s) })

	res, err := m.Install(ctx, s, InstallOptions{})
	if err != nil || res.Action != ActionInstalled {
		t.Fatalf("install: %+v %v", res, err)
	}
	// Type=notify: start returned only after READY=1, so it is active now.
	st, err := m.Status(ctx, s)
	if err != nil || !st.Installed || !st.Enabled || !st.Running || st.ActiveState != "active" || st.PID == 0 {
		t.Fatalf("status after install: %+v %v", st, err)
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+itoa(port)); err != nil {
		t.Fatalf("fake gateway not listening: %v", err)
	} else {
		c.Close()
	}

	syscall.Kill(st.PID, syscall.SIGKILL)
	var st2 Status
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		st2, _ = m.Status(ctx, s)
		if st2.Running && st2.PID != 0 && st2.PID != st.PID && st2.Restarts == st.Restarts+1 {
			break
		}
	}
	if !st2.Running || st2.PID == st.PID || st2.Restarts != st.Restarts+1 {
		t.Fatalf("no restart after SIGKILL: before %+v after %+v", st, st2)
	}

	if err := m.Stop(ctx, s); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.Status(ctx, s); st.Running || st.ActiveState != "inactive" || !st.Enabled {
		t.Fatalf("after stop: %+v", st)
	}
	if err := m.Start(ctx, s); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.Status(ctx, s); !st.Running {
		t.Fatalf("after start: %+v", st)
	}
	if r, err := m.Install(ctx, s, InstallOptions{}); err != nil || r.Action != ActionUnchanged {
		t.Fatalf("reinstall: %+v %v", r, err)
	}
	// Idempotence against the real systemctl: stop twice, start while
	// running, restart of a stopped unit starts it.
	for i := 0; i < 2; i++ {
		if err := m.Stop(ctx, s); err != nil {
			t.Fatalf("stop #%d: %v", i+1, err)
		}
	}
	if err := m.Restart(ctx, s); err != nil {
		t.Fatalf("restart of a stopped unit: %v", err)
	}
	if err := m.Start(ctx, s); err != nil {
		t.Fatalf("start while running: %v", err)
	}
	if st, _ := m.Status(ctx, s); !st.Running {
		t.Fatalf("after restart of a stopped unit: %+v", st)
	}
	ur, err := m.Uninstall(ctx, s)
	if err != nil || !ur.Removed || fileExists(s.DefinitionPath()) {
		t.Fatalf("uninstall: %+v %v", ur, err)
	}
	if st, _ := m.Status(ctx, s); st.Installed || st.Running || st.Enabled {
		t.Fatalf("after uninstall: %+v", st)
	}
	// Nothing installed: uninstall and stop are no-ops, start names the fix.
	if ur, err := m.Uninstall(ctx, s); err != nil || ur.Removed {
		t.Fatalf("second uninstall: %+v %v", ur, err)
	}
	if err := m.Stop(ctx, s); err != nil {
		t.Fatalf("stop after uninstall: %v", err)
	}
	if err := m.Start(ctx, s); err == nil || !strings.Contains(err.Error(), "clawdbot gateway install") {
		t.Fatalf("start after uninstall: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
