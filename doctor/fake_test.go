package doctor_test

// fakeManager stands in for launchctl, systemctl, loginctl and journalctl:
// launchd cannot run on Linux at all, and these fixture tests must not touch
// the host's systemd (the real-systemd path is covered by the sandbox test in
// cmd/clawdbot/cli). It keeps just enough state (which units are loaded,
// enabled, running) to answer the Status queries the way the real tools do,
// and records every argv.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/supervise"
)

type fakeManager struct {
	mu      sync.Mutex
	home    string
	pid     int // MainPID reported for running units
	running map[string]bool
	loaded  map[string]bool // launchd: bootstrapped; systemd: enabled
	linger  string          // loginctl answer ("yes"/"no"; "" = logind unreachable)
	calls   []string
	// statusFails makes status queries fail like a missing user bus.
	statusFails bool
	// fail makes a command whose "name args…" starts with a key exit 1
	// with the value as its stderr (a systemctl restart that fails, say).
	fail map[string]string
	// hang makes a command whose "name args…" starts with a key block
	// until its context ends (a hung systemctl).
	hang []string
	// stuck makes a command whose "name args…" starts with a key block
	// until unstuck is closed, ignoring its context: a child that does not
	// die when killed (uninterruptible sleep on a dead bus or NFS home).
	stuck   []string
	unstuck chan struct{}
}

func newFakeManager(home string) *fakeManager {
	return &fakeManager{home: home, pid: os.Getpid(), running: map[string]bool{}, loaded: map[string]bool{}, linger: "yes"}
}

func (f *fakeManager) Run(ctx context.Context, name string, args ...string) (supervise.Output, error) {
	f.mu.Lock()
	line := name + " " + strings.Join(args, " ")
	f.calls = append(f.calls, line)
	for _, h := range f.stuck {
		if strings.HasPrefix(line, h) {
			f.mu.Unlock()
			<-f.unstuck
			return supervise.Output{}, fmt.Errorf("%s: stuck", line)
		}
	}
	for _, h := range f.hang {
		if strings.HasPrefix(line, h) {
			f.mu.Unlock()
			<-ctx.Done()
			return supervise.Output{}, fmt.Errorf("%s: %w", line, ctx.Err())
		}
	}
	defer f.mu.Unlock()
	for prefix, msg := range f.fail {
		if strings.HasPrefix(line, prefix) {
			return supervise.Output{Code: 1, Stderr: msg}, nil
		}
	}
	ok := supervise.Output{}
	switch name {
	case "loginctl":
		if f.linger == "" {
			return supervise.Output{Code: 1, Stderr: "Failed to connect to bus: Host is down"}, nil
		}
		return supervise.Output{Stdout: f.linger + "\n"}, nil
	case "journalctl":
		return supervise.Output{Code: 1, Stderr: "No journal files were found."}, nil
	case "launchctl":
		return f.launchctl(args)
	case "systemctl":
		if len(args) > 0 && args[0] == "--user" {
			args = args[1:]
		}
		return f.systemctl(args)
	}
	return ok, fmt.Errorf("%s: executable file not found in $PATH", name)
}

func (f *fakeManager) launchctl(args []string) (supervise.Output, error) {
	label := func(target string) string { return target[strings.LastIndex(target, "/")+1:] }
	switch args[0] {
	case "print":
		l := label(args[1])
		if f.statusFails {
			return supervise.Output{}, fmt.Errorf("launchctl: signal: killed")
		}
		if !f.loaded[l] {
			return supervise.Output{Code: 113, Stderr: "Could not find service \"" + l + "\" in domain for port"}, nil
		}
		state, pid := "not running", ""
		if f.running[l] {
			state, pid = "running", "\tpid = "+strconv.Itoa(f.pid)+"\n"
		}
		return supervise.Output{Stdout: args[1] + " = {\n\tactive count = 1\n\tstate = " + state + "\n" + pid + "\truns = 1\n}\n"}, nil
	case "bootstrap":
		l := strings.TrimSuffix(filepath.Base(args[2]), ".plist")
		f.loaded[l], f.running[l] = true, true // RunAtLoad
	case "bootout":
		l := label(args[1])
		f.loaded[l], f.running[l] = false, false
	case "kickstart":
		f.running[label(args[len(args)-1])] = true
	}
	return supervise.Output{}, nil
}

func (f *fakeManager) systemctl(args []string) (supervise.Output, error) {
	switch args[0] {
	case "show":
		if f.statusFails {
			return supervise.Output{Code: 1, Stderr: "Failed to connect to bus: No medium found"}, nil
		}
		u := args[1]
		load := "not-found"
		if _, err := os.Stat(filepath.Join(f.home, ".config", "systemd", "user", u)); err == nil {
			load = "loaded"
		}
		active, sub, pid, ufs := "inactive", "dead", 0, "disabled"
		if f.running[u] {
			active, sub, pid = "active", "running", f.pid
		}
		if f.loaded[u] {
			ufs = "enabled"
		}
		return supervise.Output{Stdout: fmt.Sprintf("LoadState=%s\nUnitFileState=%s\nActiveState=%s\nSubState=%s\nMainPID=%d\nNRestarts=0\nExecMainCode=0\nExecMainStatus=0\n",
			load, ufs, active, sub, pid)}, nil
	case "enable":
		f.loaded[args[len(args)-1]] = true
	case "disable":
		u := args[len(args)-1]
		f.loaded[u] = false
		if args[1] == "--now" {
			f.running[u] = false
		}
	case "start", "restart":
		f.running[args[1]] = true
	case "stop":
		f.running[args[1]] = false
	}
	return supervise.Output{}, nil
}

func (f *fakeManager) called(prefix string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startGateway runs a real gateway on 127.0.0.1:port with token auth.
func startGateway(t testing.TB, stateDir string, port int, token string) *gateway.Server {
	t.Helper()
	s, err := gateway.New(gateway.Options{
		Addr: "127.0.0.1:" + strconv.Itoa(port), StateDir: stateDir, ConfigPath: filepath.Join(stateDir, "clawdbot.json"),
		Version: "test", Runtime: gateway.RuntimeConfig{Auth: gateway.Auth{Mode: "token", Token: token}},
	})
	if err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}
