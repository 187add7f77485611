//go:build !windows

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// openPTY returns both ends of a new pseudo-terminal: doctor asks before
// repairing only when stdin is a terminal, and a pty is a real one (the
// terminal driver answers for it, as for a login shell's stdin).
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	return ptmx, tty
}

// A pty is a terminal; /dev/null, a pipe and a buffer are not.
func TestIsTerminal(t *testing.T) {
	_, tty := openPTY(t)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		name string
		s    any
		want bool
	}{
		{"pty", tty, true},
		{"/dev/null", devnull, false},
		{"pipe", r, false},
		{"buffer", strings.NewReader(""), false},
	} {
		if got := isTerminal(tc.s); got != tc.want {
			t.Errorf("isTerminal(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// --fix on a terminal repairs without --yes (the user is there and asked
// for it), where the same command with /dev/null as stdin only reports
// (TestDoctorPromptPolicyWithoutTTY).
func TestDoctorFixOnATerminalRepairsWithoutYes(t *testing.T) {
	f := newStatusFixture(t)
	cfg := fmt.Sprintf(`{"gateway": {"mode": "local", "port": %d}}`, f.port)
	if err := os.WriteFile(f.prof.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, tty := openPTY(t)
	f.env.Stdin = tty
	Main([]string{"doctor", "--fix", "--timeout", "500"}, f.env)
	b, _ := os.ReadFile(f.prof.ConfigPath)
	if !strings.Contains(string(b), `"token"`) || strings.Contains(f.out.String(), "Not repairing") {
		t.Errorf("doctor --fix on a terminal did not repair:\n%s", f.out)
	}
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
