package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/supervise"
)

// launchctlRunner plays launchctl for the CLI's launchd path (no launchd
// runs on Linux): print exits 113 "Could not find service" for a job that is
// not loaded and reports a running job otherwise, bootout unloads at once,
// and bootstrap of a plist that contains refuse fails the way launchd
// answers a plist it will not load ("Bootstrap failed: 5: Input/output
// error"). The full launchctl model is supervise's fakeLaunchd.
type launchctlRunner struct {
	loaded bool
	refuse string
	calls  []string
}

func (r *launchctlRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	r.calls = append(r.calls, strings.Join(append([]string{name}, args...), " "))
	if name != "launchctl" || len(args) == 0 {
		return supervise.Output{}, nil
	}
	switch args[0] {
	case "print":
		if !r.loaded {
			return supervise.Output{Code: 113, Stderr: "Could not find service \"com.clawdbot.citest\" in domain for uid: 501"}, nil
		}
		return supervise.Output{Stdout: "gui/501/com.clawdbot.citest = {\n\tstate = running\n\tpid = 4242\n\truns = 1\n}\n"}, nil
	case "bootout":
		r.loaded = false
	case "bootstrap":
		if b, _ := os.ReadFile(args[len(args)-1]); r.refuse != "" && strings.Contains(string(b), r.refuse) {
			return supervise.Output{Code: 5, Stderr: "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors."}, nil
		}
		r.loaded = true
	}
	return supervise.Output{}, nil
}

func (r *launchctlRunner) count(prefix string) (n int) {
	for _, c := range r.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// A launchd install that fails at bootstrap says what was put back, as a
// systemd one does: the first error line names launchctl's refusal, where
// to read launchd's reason and the command to rerun (with the profile); the config
// patch and the plist are as they were (none on a first install; the
// previous one, byte for byte and loaded again, on an update).
func TestGatewayInstallLaunchdRestoresWhenBootstrapFails(t *testing.T) {
	for _, update := range []bool{false, true} {
		name := map[bool]string{false: "first install", true: "update"}[update]
		t.Run(name, func(t *testing.T) {
			env, out, _ := serviceTestEnv(t)
			writeLocalConfig(t, env, "citest")
			cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
			lr := &launchctlRunner{}
			env.Platform, env.ServiceRunner = supervise.Launchd, lr
			env.ServiceManager = func(pl supervise.Platform) (supervise.Manager, error) {
				if pl != supervise.Launchd {
					t.Errorf("manager asked for %s", pl)
				}
				return &supervise.LaunchdManager{Runner: lr, UID: 501}, nil
			}
			plist := filepath.Join(env.Home, "Library", "LaunchAgents", "com.clawdbot.citest.plist")
			var previous []byte
			if update {
				if code := Main([]string{"--profile", "citest", "gateway", "install"}, env); code != 0 {
					t.Fatalf("first install exit %d: %s", code, out)
				}
				var err error
				if previous, err = os.ReadFile(plist); err != nil {
					t.Fatal(err)
				}
				out.Reset()
			}
			before, _ := os.ReadFile(cfg)
			lr.refuse, lr.calls = "19555", nil // launchd refuses the new plist, not the previous one
			if code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "19555", "--token", "t-1"}, env); code != ExitFailure {
				t.Fatalf("exit %d: %s", code, out)
			}
			text := out.String()
			for _, w := range []string{
				"Restored " + cfg,
				"Restored the previous state of " + plist,
				"Gateway install failed: launchctl refused to bootstrap the service (Bootstrap failed: 5: Input/output error); see launchd's reason with \"log show --last 5m",
				"then rerun: clawdbot --profile citest gateway install --port 19555",
				"(--verbose shows the launchctl command that failed)",
			} {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "Try re-running the command as root") || strings.Contains(text, "did not load it again") {
				t.Errorf("launchctl's second line belongs in --verbose:\n%s", text)
			}
			if after, _ := os.ReadFile(cfg); string(after) != string(before) {
				t.Errorf("config not restored:\n%s", after)
			}
			got, err := os.ReadFile(plist)
			switch {
			case !update && !os.IsNotExist(err):
				t.Errorf("a failed first install left the plist: %v", err)
			case update && string(got) != string(previous):
				t.Errorf("previous plist not restored byte for byte:\n%s", got)
			}
			if update && (!lr.loaded || !strings.Contains(text, "Started the previous service again")) {
				t.Errorf("previous job not loaded again (loaded=%v):\n%s", lr.loaded, text)
			}
			if !update && lr.loaded {
				t.Error("a job is loaded after a failed first install")
			}
			// Bootstraps: the refused one, and on an update the previous
			// plist's again.
			if n, want := lr.count("launchctl bootstrap"), map[bool]int{false: 1, true: 2}[update]; n != want {
				t.Errorf("%d bootstraps, want %d: %q", n, want, lr.calls)
			}
		})
	}
}
