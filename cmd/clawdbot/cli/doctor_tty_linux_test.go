//go:build linux

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY returns both ends of a new pseudo-terminal: doctor asks before
// repairing only when stdin is a terminal, and a pty is a real one.
func openPTY(t *testing.T) (ptmx, pts *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("ptsname: %v", e)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptmx, pts
}

// On a terminal, doctor shows its findings and asks. The report must start
// with its header (profile and config path) like the non-interactive one,
// and after "y" show the repairs below the findings instead of the whole
// report a second time.
func TestDoctorPromptOnATerminal(t *testing.T) {
	for _, answer := range []string{"n", "y"} {
		t.Run(answer, func(t *testing.T) {
			f := newStatusFixture(t)
			// No token: the token repair is on offer.
			cfg := fmt.Sprintf(`{"gateway": {"mode": "local", "port": %d}}`, f.port)
			if err := os.WriteFile(filepath.Join(f.prof.StateDir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			ptmx, pts := openPTY(t)
			if _, err := ptmx.WriteString(answer + "\n"); err != nil {
				t.Fatal(err)
			}
			f.env.Stdin = pts
			Main([]string{"doctor", "--timeout", "500"}, f.env)
			out := f.out.String()
			if !strings.HasPrefix(out, "Clawdbot doctor: profile default, config "+f.prof.ConfigPath+"\n") {
				t.Errorf("report does not start with its header:\n%s", out)
			}
			if n := strings.Count(out, "Clawdbot doctor: profile"); n > 1 {
				t.Errorf("header printed %d times:\n%s", n, out)
			}
			if !strings.Contains(out, "Apply ") {
				t.Fatalf("no prompt:\n%s", out)
			}
			if n := strings.Count(out, "[gateway-token-missing]"); n != 1 {
				t.Errorf("the token finding is shown %d times, want once:\n%s", n, out)
			}
			if got := strings.Contains(out, "Repairs:"); got != (answer == "y") {
				t.Errorf("answer %s: repairs shown = %v:\n%s", answer, got, out)
			}
		})
	}
}

// On a terminal without --force, a repair that needs --force (a unit
// without our marker) is not offered as "Apply 1 repair(s)?": answering y
// would only skip it. doctor says what --force would do instead.
func TestDoctorPromptDoesNotOfferForceOnlyRepairs(t *testing.T) {
	f := newStatusFixture(t)
	f.install(t, f.port)
	spec := filepath.Join(f.home, ".config", "systemd", "user", "clawdbot-gateway.service")
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, "SERVICE_MARKER") {
			kept = append(kept, strings.Replace(l, "RestartSec=5", "RestartSec=120", 1))
		}
	}
	os.WriteFile(spec, []byte(strings.Join(kept, "\n")), 0o644)
	ptmx, pts := openPTY(t)
	ptmx.WriteString("y\n")
	f.env.Stdin = pts
	Main([]string{"doctor", "--timeout", "300"}, f.env)
	out := f.out.String()
	if strings.Contains(out, "Apply ") {
		t.Errorf("prompted for a repair that needs --force:\n%s", out)
	}
	if !strings.Contains(out, "need --force") {
		t.Errorf("does not say the repair needs --force:\n%s", out)
	}
	if after, _ := os.ReadFile(spec); !strings.Contains(string(after), "RestartSec=120") {
		t.Errorf("unit rewritten without --force")
	}
}
