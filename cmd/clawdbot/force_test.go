//go:build !windows

// The --force test drives the real binary: `make run` twice (a second
// foreground gateway of the same profile with --force ends the first and
// serves on its port), with lsof off PATH on Linux, where the port's
// owner comes from /proc; and the refusal of a gateway that a service
// manager runs. POSIX only because it stops gateways with SIGTERM.
package main_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gwProc is one running `clawdbot gateway`.
type gwProc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

func startGw(t *testing.T, bin string, env []string, args ...string) *gwProc {
	t.Helper()
	g := &gwProc{cmd: exec.Command(bin, append([]string{"gateway"}, args...)...), out: &syncBuffer{}, exited: make(chan struct{})}
	g.cmd.Env = env
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.cmd.Wait(); close(g.exited) }()
	t.Cleanup(func() {
		g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.exited:
		case <-time.After(10 * time.Second):
			g.cmd.Process.Kill()
			<-g.exited
		}
	})
	return g
}

// waitFor polls cond with backoff until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for wait := 10 * time.Millisecond; !cond(); wait = min(2*wait, 200*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(wait)
	}
}

func (g *gwProc) gone() bool {
	select {
	case <-g.exited:
		return true
	default:
		return false
	}
}

func TestForceTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "clawdbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	u, err := user.Current()
	if err != nil {
		t.Skip("no current user")
	}
	newEnv := func(t *testing.T, extra ...string) []string {
		home := filepath.Join(t.TempDir(), "home")
		os.MkdirAll(home, 0o700)
		env := append(cleanEnv(home), "XDG_RUNTIME_DIR="+filepath.Join(home, "run"))
		if runtime.GOOS == "linux" {
			// No lsof: the port's owner comes from /proc.
			var kept []string
			for _, kv := range env {
				if !strings.HasPrefix(kv, "PATH=") {
					kept = append(kept, kv)
				}
			}
			env = append(kept, "PATH="+t.TempDir())
		}
		return append(env, extra...)
	}
	const token = "force-token-0123456789abcdef"
	listening := func(g *gwProc, port string) func() bool {
		return func() bool { return strings.Contains(g.out.String(), "gateway listening on ws://127.0.0.1:"+port) }
	}

	t.Run("same profile twice", func(t *testing.T) {
		env := newEnv(t)
		port := freePort(t)
		args := []string{"--allow-unconfigured", "--port", port, "--token", token}
		first := startGw(t, bin, env, args...)
		waitFor(t, 15*time.Second, "the first gateway to listen", listening(first, port))

		second := startGw(t, bin, env, append(args, "--force")...)
		waitFor(t, 20*time.Second, "the second gateway to listen", func() bool { return listening(second, port)() || second.gone() })
		out := second.out.String()
		if second.gone() {
			t.Fatalf("--force exited:\n%s", out)
		}
		waitFor(t, 5*time.Second, "the first gateway to exit", first.gone)
		want := fmt.Sprintf("force: killed pid %d (clawdbot) on port %s; user %s: %s gateway --allow-unconfigured --port %s --token ***",
			first.cmd.Process.Pid, port, u.Username, bin, port)
		if !strings.Contains(out, want) || strings.Contains(out, token) {
			t.Errorf("--force output:\n%s\nwant the line %q and no token", out, want)
		}
		// gateway status names the new owner, lsof or not.
		st := exec.Command(bin, "gateway", "status", "--json", "--no-probe")
		st.Env = append(env, "CLAWDBOT_GATEWAY_PORT="+port)
		b, _ := st.Output()
		var r struct {
			Port struct {
				Status    string `json:"status"`
				Listeners []struct {
					PID  int    `json:"pid"`
					User string `json:"user"`
					Kind string `json:"kind"`
				} `json:"listeners"`
			} `json:"port"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.Port.Status != "busy" || len(r.Port.Listeners) != 1 ||
			r.Port.Listeners[0].PID != second.cmd.Process.Pid || r.Port.Listeners[0].User != u.Username || r.Port.Listeners[0].Kind != "gateway" {
			t.Errorf("gateway status port = %+v (%v)\n%s", r.Port, err, b)
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("nothing serves after --force: %v", err)
		}
		c.Close()
	})

	t.Run("same profile on another port", func(t *testing.T) {
		env := newEnv(t)
		port1, port2 := freePort(t), freePort(t)
		first := startGw(t, bin, env, "--allow-unconfigured", "--port", port1, "--token", token)
		waitFor(t, 15*time.Second, "the first gateway to listen", listening(first, port1))
		second := startGw(t, bin, env, "--allow-unconfigured", "--port", port2, "--token", token, "--force")
		waitFor(t, 20*time.Second, "the second gateway to listen", func() bool { return listening(second, port2)() || second.gone() })
		if second.gone() {
			t.Fatalf("--force exited:\n%s", second.out.String())
		}
		waitFor(t, 5*time.Second, "the first gateway to exit", first.gone)
		want := fmt.Sprintf("force: killed pid %d (clawdbot) (this profile's running gateway); user %s:", first.cmd.Process.Pid, u.Username)
		if !strings.Contains(second.out.String(), want) {
			t.Errorf("--force output:\n%s\nwant %q", second.out.String(), want)
		}
	})

	t.Run("supervised gateway refused", func(t *testing.T) {
		// CLAWDBOT_SERVICE_MARKER is what the service definitions set.
		port := freePort(t)
		args := []string{"--allow-unconfigured", "--port", port, "--token", token}
		env := newEnv(t)
		first := startGw(t, bin, append(env, "CLAWDBOT_SERVICE_MARKER=clawdbot"), args...)
		waitFor(t, 15*time.Second, "the supervised gateway to listen", listening(first, port))
		second := startGw(t, bin, env, append(args, "--force")...)
		waitFor(t, 15*time.Second, "--force to give up", second.gone)
		want := fmt.Sprintf("error: port %s is held by pid %d (clawdbot gateway, supervised: ", port, first.cmd.Process.Pid)
		out := second.out.String()
		if code := second.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(out, want) ||
			!strings.Contains(out, "which a service manager would restart if killed; stop it with 'clawdbot gateway stop' instead of --force") {
			t.Errorf("exit %d, output:\n%s\nwant it to start with %q", code, out, want)
		}
		if first.gone() {
			t.Fatal("--force killed a supervised gateway")
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("the supervised gateway stopped serving: %v", err)
		}
		c.Close()
	})
}
