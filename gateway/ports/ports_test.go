package ports

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the process that holds a port: with
// PORTS_TEST_HELPER set it listens on 127.0.0.1:0, prints the port and
// waits to be killed. "stubborn" ignores SIGTERM to force the SIGKILL path;
// "lock" only holds the single-instance lock for PORTS_TEST_CONFIG;
// "gateway" holds that lock and listens, as a foreground gateway does
// ("stubborn-gateway" also ignores SIGTERM).
func TestMain(m *testing.M) {
	mode := os.Getenv("PORTS_TEST_HELPER")
	if mode == "" {
		os.Exit(m.Run())
	}
	if strings.HasPrefix(mode, "stubborn") {
		signal.Ignore(syscall.SIGTERM)
	}
	if mode == "lock" || strings.HasSuffix(mode, "gateway") {
		l, err := AcquireLock(os.Getenv("PORTS_TEST_CONFIG"), os.Getenv)
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		defer l.Release()
		if mode == "lock" {
			fmt.Println("LOCKED")
			select {}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(0)
		}
		c.Close()
	}
}

type helper struct {
	cmd  *exec.Cmd
	port int
	line string
	done chan error
}

// startHelper re-executes the test binary as a port holder.
func startHelper(t *testing.T, mode string, env ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"PORTS_TEST_HELPER=" + mode}, env...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, done: make(chan error, 1)}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper: %v", err)
	}
	h.line = strings.TrimSpace(line)
	h.port, _ = strconv.Atoi(h.line)
	go func() { h.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-h.done
	})
	return h
}

func (h *helper) exited(t *testing.T) bool {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err
		return true
	case <-time.After(3 * time.Second):
		return false
	}
}

// currentUser is the login name the lookups should report for our own
// processes.
func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Skip("no current user")
	}
	return u.Username
}

// requireLookup skips where listeners can only be found with lsof and it
// is missing. Linux reads /proc and needs nothing.
func requireLookup(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "linux" {
		return
	}
	if _, err := exec.LookPath("lsof"); err != nil {
		t.Skip("lsof not installed")
	}
}

type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// The helper is found from /proc with lsof off PATH (Linux), and through
// lsof, the path macOS takes (on Linux: with /proc hidden).
func TestListenersFindsRealProcess(t *testing.T) {
	t.Run("proc", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("/proc socket tables are Linux only")
		}
		t.Setenv("PATH", t.TempDir())
		testListenersFindsRealProcess(t)
	})
	t.Run("lsof", func(t *testing.T) {
		if _, err := exec.LookPath("lsof"); err != nil {
			t.Skip("lsof not installed")
		}
		noProc(t)
		testListenersFindsRealProcess(t)
	})
}

func testListenersFindsRealProcess(t *testing.T) {
	h := startHelper(t, "plain", "CLAWDBOT_PROFILE=work")
	ls, err := Listeners(context.Background(), h.port)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 {
		t.Fatalf("Listeners = %+v, want the helper", ls)
	}
	l := ls[0]
	if l.PID != h.cmd.Process.Pid || l.Address != "127.0.0.1:"+h.line || l.Profile != "work" ||
		!strings.Contains(l.CommandLine, "-test.run=^$") || l.User == "" || l.Kind != KindUnknown {
		t.Errorf("listener = %+v", l)
	}
	r := Inspect(context.Background(), h.port)
	if r.Status != StatusBusy || !reflect.DeepEqual(r.Hints, []string{HintUnknown}) {
		t.Errorf("Inspect = %+v", r)
	}
	if !strings.HasPrefix(r.Text(), fmt.Sprintf("Port %d is already in use.\n- pid %d ", h.port, l.PID)) {
		t.Errorf("Text = %q", r.Text())
	}
}

func TestInspectFreeAndProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	// Without lsof (and, on Linux, without a /proc to read), our own
	// listener can only be seen by the bind probe.
	t.Setenv("PATH", t.TempDir())
	noProc(t)
	r := Inspect(context.Background(), port)
	if r.Status != StatusBusy || !reflect.DeepEqual(r.Hints, []string{HintNoDetails}) {
		t.Errorf("busy port without lsof: %+v", r)
	}
	ln.Close()
	r = Inspect(context.Background(), port)
	if r.Status != StatusFree || r.Text() != fmt.Sprintf("Port %d is free.\n", port) {
		t.Errorf("free port: %+v %q", r, r.Text())
	}
}

func TestForceFreeKillsHolder(t *testing.T) {
	requireLookup(t)
	if runtime.GOOS == "linux" {
		t.Setenv("PATH", t.TempDir()) // /proc is enough: no lsof
	}
	for _, mode := range []string{"plain", "stubborn"} {
		t.Run(mode, func(t *testing.T) {
			h := startHelper(t, mode)
			var log logBuf
			killed, err := ForceFree(context.Background(), h.port, log.logf)
			if err != nil {
				t.Fatalf("ForceFree: %v\n%s", err, log.String())
			}
			if len(killed) != 1 || killed[0].PID != h.cmd.Process.Pid {
				t.Errorf("killed = %+v", killed)
			}
			if !h.exited(t) {
				t.Fatal("helper still running")
			}
			k := killed[0]
			if k.Command == "" || k.User != currentUser(t) || !strings.Contains(k.CommandLine, "-test.run=^$") {
				t.Errorf("killed %+v: want its command, user and command line", k)
			}
			want := fmt.Sprintf("force: killed pid %d (%s) on port %d; user %s: %s", h.cmd.Process.Pid, k.Command, h.port, k.User, k.CommandLine)
			if !strings.Contains(log.String(), want) || !strings.Contains(log.String(), "force: waited ") {
				t.Errorf("log:\n%s\nwant line %q", log.String(), want)
			}
			esc := strings.Contains(log.String(), "force: escalated to SIGKILL while freeing port "+strconv.Itoa(h.port))
			if esc != (mode == "stubborn") {
				t.Errorf("escalation logged = %v for %s:\n%s", esc, mode, log.String())
			}
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(h.port))
			if err != nil {
				t.Fatalf("port not free after ForceFree: %v", err)
			}
			ln.Close()
		})
	}
}

func TestForceFreeNoListeners(t *testing.T) {
	requireLookup(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var log logBuf
	if _, err := ForceFree(context.Background(), port, log.logf); err != nil {
		t.Fatal(err)
	}
	if log.String() != fmt.Sprintf("force: no listeners on port %d", port) {
		t.Errorf("log = %q", log.String())
	}
}

func TestForceFreeRefusesSupervised(t *testing.T) {
	requireLookup(t)
	h := startHelper(t, "plain", "CLAWDBOT_SERVICE_MARKER=clawdbot", "CLAWDBOT_PROFILE=rescue")
	_, err := ForceFree(context.Background(), h.port, nil)
	want := fmt.Sprintf("port %d is held by pid %d (clawdbot gateway, profile rescue, supervised: %s -test.run=^$), which a service "+
		"manager would restart if killed; stop it with 'clawdbot --profile rescue gateway stop' instead of --force",
		h.port, h.cmd.Process.Pid, h.cmd.Path)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if h.exited(t) {
		t.Error("a supervised holder was killed")
	}
}

// Where lsof is the only way to find listeners (no /proc), --force
// without it fails with the original's words.
func TestForceFreeWithoutLsof(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	noProc(t)
	_, err := ForceFree(context.Background(), 1, nil)
	if err == nil || err.Error() != "lsof not found; required for --force" || !errors.Is(err, ErrNoLsof) {
		t.Errorf("err = %v", err)
	}
}

func TestClassifyAndDescribe(t *testing.T) {
	gw := Listener{PID: 4242, Command: "clawdbot", CommandLine: "/usr/bin/clawdbot gateway", Profile: "dev", ServiceMarker: "clawdbot"}
	gw.Kind = Classify(gw)
	byHand := Classified(Listener{PID: 77, Command: "clawdbot", CommandLine: "/usr/bin/clawdbot --profile rescue gateway"})
	ssh := Listener{PID: 7, Command: "ssh", CommandLine: "ssh -N -L 18789:127.0.0.1:18789 host"}
	ssh.Kind = Classify(ssh)
	other := Listener{PID: 9, Command: "nginx", CommandLine: "nginx: master"}
	other.Kind = Classify(other)
	marked := Listener{PID: 5, Command: "node", ServiceMarker: "clawdbot"}
	if gw.Kind != KindGateway || ssh.Kind != KindSSH || other.Kind != KindUnknown || Classify(marked) != KindGateway {
		t.Fatalf("kinds: %s %s %s %s", gw.Kind, ssh.Kind, other.Kind, Classify(marked))
	}
	tests := []struct {
		ls   []Listener
		want string
	}{
		{[]Listener{gw}, "port 18789 is held by pid 4242 (clawdbot gateway, profile dev, supervised: /usr/bin/clawdbot gateway); stop it with 'clawdbot --dev gateway stop' or take it over with --force"},
		{[]Listener{{PID: 1, Kind: KindGateway, Command: "clawdbot", ServiceMarker: "clawdbot"}}, "port 18789 is held by pid 1 (clawdbot gateway, supervised); stop it with 'clawdbot gateway stop' or take it over with --force"},
		// Started by hand: the service commands cannot stop it, and its
		// profile comes from its arguments.
		{[]Listener{byHand}, "port 18789 is held by pid 77 (clawdbot gateway, profile rescue: /usr/bin/clawdbot --profile rescue gateway); stop it (Ctrl+C where it runs, or 'kill 77') or take it over with --force"},
		{[]Listener{ssh}, "port 18789 is held by pid 7 (ssh tunnel: ssh -N -L 18789:127.0.0.1:18789 host); close the tunnel, use a different local port in -L, or choose another port with --port"},
		{[]Listener{other}, "port 18789 is held by pid 9 (nginx: master); stop it, take it over with --force, or choose another port with --port"},
		{[]Listener{gw, other}, "port 18789 is held by pids 4242 (clawdbot gateway, profile dev, supervised: /usr/bin/clawdbot gateway), 9 (nginx: master); stop it, take it over with --force, or choose another port with --port"},
		{nil, "port 18789 is in use but process details are unavailable (" + NoDetailsFix + "); free it or choose another port with --port"},
	}
	for _, tt := range tests {
		if got := DescribeHolder(18789, tt.ls); got != tt.want {
			t.Errorf("DescribeHolder:\n got %s\nwant %s", got, tt.want)
		}
	}
	if got := hints([]Listener{gw, ssh}); !reflect.DeepEqual(got, []string{HintGateway, HintSSH, HintMultiple}) {
		t.Errorf("hints = %q", got)
	}
	for p, want := range map[string]string{"": "clawdbot gateway stop", "Default": "clawdbot gateway stop",
		"dev": "clawdbot --dev gateway stop", "work": "clawdbot --profile work gateway stop"} {
		if got := StopCommand(p); got != want {
			t.Errorf("StopCommand(%q) = %q", p, got)
		}
	}
}

func TestLock(t *testing.T) {
	rt := t.TempDir()
	env := map[string]string{"XDG_RUNTIME_DIR": rt}
	getenv := func(k string) string { return env[k] }
	cfg := "/home/u/.clawdbot/clawdbot.json"
	path := LockPath(cfg, getenv)
	if want := filepath.Join(rt, "clawdbot-"+strconv.Itoa(os.Getuid()), "gateway."); !strings.HasPrefix(path, want) ||
		len(filepath.Base(path)) != len("gateway.12345678.lock") {
		t.Fatalf("LockPath = %s", path)
	}
	if LockPath("/other/clawdbot.json", getenv) == path {
		t.Fatal("different configs must get different locks")
	}

	l, err := AcquireLock(cfg, getenv)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ReadLock(path)
	if err != nil || info.PID != os.Getpid() || info.ConfigPath != cfg || info.CreatedAt == "" || !OwnerAlive(info) {
		t.Fatalf("lock content %+v, %v", info, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("lock mode %v", st.Mode())
	}
	// A second acquisition (another open file description) is refused.
	// The holder (this test process) was not started by a service
	// manager: 'gateway stop' cannot reach it, so the fix is Ctrl+C/kill.
	if _, err := AcquireLock(cfg, getenv); !errors.Is(err, ErrLocked) ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) ||
		!strings.Contains(err.Error(), fmt.Sprintf("started by hand: stop it with Ctrl+C where it runs, or 'kill %d'", os.Getpid())) ||
		strings.Contains(err.Error(), "gateway stop") {
		t.Errorf("second AcquireLock: %v", err)
	}
	// The bypass.
	env["CLAWDBOT_ALLOW_MULTI_GATEWAY"] = "1"
	if b, err := AcquireLock(cfg, getenv); err != nil || b.Release() != nil {
		t.Errorf("bypass: %v", err)
	}
	delete(env, "CLAWDBOT_ALLOW_MULTI_GATEWAY")
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := AcquireLock(cfg, getenv)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
}

// A lock left by a process that died (kill -9, no cleanup) must not block
// the next gateway; a live holder in another process must.
func TestLockAcrossProcesses(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	cfg := filepath.Join(t.TempDir(), "clawdbot.json")
	h := startHelper(t, "lock", "PORTS_TEST_CONFIG="+cfg)
	if h.line != "LOCKED" {
		t.Fatalf("helper: %s", h.line)
	}
	_, err := AcquireLock(cfg, os.Getenv)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", h.cmd.Process.Pid)) {
		t.Fatalf("live holder: %v", err)
	}
	h.cmd.Process.Kill()
	<-h.done
	h.done <- nil
	info, err := ReadLock(LockPath(cfg, os.Getenv))
	if err != nil {
		t.Fatalf("stale file should remain: %v", err)
	}
	if OwnerAlive(info) {
		t.Error("dead owner reported alive")
	}
	l, err := AcquireLock(cfg, os.Getenv)
	if err != nil {
		t.Fatalf("stale lock blocked: %v", err)
	}
	l.Release()
}

func TestOwnerAliveDetectsPidReuse(t *testing.T) {
	st, err := processStartTime(os.Getpid())
	if err != nil {
		t.Skip("no /proc start time on this OS")
	}
	if !OwnerAlive(LockInfo{PID: os.Getpid(), StartTime: st}) {
		t.Error("self not alive")
	}
	if OwnerAlive(LockInfo{PID: os.Getpid(), StartTime: st + 1}) {
		t.Error("a different start time must mean a different process")
	}
}

func TestRedactCommandLine(t *testing.T) {
	for in, want := range map[string]string{
		"clawdbot gateway --token s3cret --port 1":   "clawdbot gateway --token *** --port 1",
		"clawdbot gateway --password=hunter2":        "clawdbot gateway --password=***",
		"clawdbot gateway --token":                   "clawdbot gateway --token",
		"clawdbot  gateway   --port 1":               "clawdbot  gateway   --port 1",
		"clawdbot --token a --password b gateway":    "clawdbot --token *** --password *** gateway",
		"/usr/bin/ssh -N -L 18789:127.0.0.1:18789 h": "/usr/bin/ssh -N -L 18789:127.0.0.1:18789 h",
	} {
		if got := redactCommandLine(in); got != want {
			t.Errorf("redactCommandLine(%q) = %q, want %q", in, got, want)
		}
	}
	l := Classified(Listener{PID: 3, Command: "clawdbot", CommandLine: "/bin/clawdbot gateway --token s3cret"})
	if got := DescribeHolder(1, []Listener{l}); strings.Contains(got, "s3cret") {
		t.Errorf("DescribeHolder leaks the token: %s", got)
	}
}
