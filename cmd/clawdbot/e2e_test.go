//go:build !windows

// The end-to-end test drives the real binary against a real gateway process:
// build, start `clawdbot gateway` in a temp HOME on a free loopback port,
// talk to it with `gateway call`, `health`, `status` and `logs` (including a
// followed tail), stop it with SIGTERM, and check the gateway-down output.
// POSIX only because it stops the gateway with SIGTERM.
package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type e2e struct {
	t    *testing.T
	bin  string
	home string
	port string
	env  []string
}

// cleanEnv is the process environment without CLAWDBOT_* variables, so the
// developer's own profile never leaks into the test.
func cleanEnv(home string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CLAWDBOT_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME="+home)
}

func (e *e2e) run(extraEnv []string, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(append([]string(nil), e.env...), extraEnv...)
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), er.String(), code
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	e := &e2e{t: t, bin: filepath.Join(dir, "clawdbot"), home: filepath.Join(dir, "home"), port: freePort(t)}
	os.MkdirAll(e.home, 0o700)
	e.env = append(cleanEnv(e.home), "CLAWDBOT_GATEWAY_PORT="+e.port)
	build := exec.Command("go", "build", "-o", e.bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	const token = "e2e-token-0123456789abcdef"
	gw := exec.Command(e.bin, "gateway", "--allow-unconfigured", "--port", e.port, "--token", token)
	gw.Env = e.env
	var gwOut syncBuffer
	gw.Stdout, gw.Stderr = &gwOut, &gwOut
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- gw.Wait() }()
	t.Cleanup(func() {
		if gw.ProcessState == nil {
			gw.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+e.port)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway did not listen on %s:\n%s", e.port, gwOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	withToken := []string{"CLAWDBOT_GATEWAY_TOKEN=" + token}

	// The first screen, after "listening": the auth mode and where its
	// secret came from, the one command that reaches this gateway (the
	// token was given only on its command line, so the command says to
	// pass it), the Control UI's address (never with the secret in it)
	// and how to stop.
	t.Run("first screen", func(t *testing.T) {
		want := "Auth:  token (--token)\nUI:    http://127.0.0.1:" + e.port + "/ (the page asks for the gateway token once)\nTry:   clawdbot gateway call health --token <the token given to this gateway>\nStop:  Ctrl-C\n"
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(gwOut.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("no first screen %q in:\n%s", want, gwOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		out := gwOut.String()
		if l := strings.Index(out, "gateway listening on ws://127.0.0.1:"+e.port); l < 0 || l > strings.Index(out, want) {
			t.Errorf("first screen not after the listening line:\n%s", out)
		}
		if strings.Contains(out, token) {
			t.Errorf("the first screen shows the gateway token:\n%s", out)
		}
	})

	t.Run("gateway call health", func(t *testing.T) {
		out, errs, code := e.run(nil, "gateway", "call", "health", "--token", token)
		if code != 0 || !strings.HasPrefix(out, "Gateway call: health\n{\n  \"ok\": true,") {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(out, "Gateway call: health\n")), &res); err != nil || res["defaultAgentId"] != "main" {
			t.Errorf("result %v (%v)", res, err)
		}
		// The device token from hello-ok was stored in this profile.
		if b, err := os.ReadFile(filepath.Join(e.home, ".clawdbot", "identity", "device-auth.json")); err != nil || !strings.Contains(string(b), `"operator"`) {
			t.Errorf("device-auth.json: %s %v", b, err)
		}
	})
	t.Run("gateway call --json from env token", func(t *testing.T) {
		out, errs, code := e.run(withToken, "gateway", "call", "health", "--json")
		var res map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res["ok"] != true {
			t.Errorf("exit %d stdout %q stderr %q", code, out, errs)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		_, errs, code := e.run(withToken, "gateway", "call", "no.such.method")
		if code != 1 || errs != "error: Gateway call failed: unknown method: no.such.method\n" {
			t.Errorf("exit %d stderr %q", code, errs)
		}
	})
	t.Run("wrong token with a fresh device", func(t *testing.T) {
		fresh := filepath.Join(dir, "fresh")
		os.MkdirAll(fresh, 0o700)
		_, errs, code := e.run([]string{"HOME=" + fresh}, "gateway", "call", "health", "--token", "wrong")
		if code != 1 || !strings.HasPrefix(errs, "error: Gateway call failed: gateway closed (1008): unauthorized: gateway token mismatch") ||
			!strings.Contains(errs, "Gateway target: ws://127.0.0.1:"+e.port) || !strings.Contains(errs, "hint: run 'clawdbot doctor'") {
			t.Errorf("exit %d stderr %q", code, errs)
		}
	})
	t.Run("health", func(t *testing.T) {
		out, errs, code := e.run(withToken, "health")
		if code != 0 || !strings.Contains(out, "Agents: main (default)\n") || !strings.Contains(out, "Heartbeat interval: ") {
			t.Errorf("exit %d stdout %q stderr %q", code, out, errs)
		}
		out, _, code = e.run(withToken, "gateway", "health")
		if code != 0 || !regexp.MustCompile(`^Gateway Health\nOK \(\d+ms\)\n`).MatchString(out) {
			t.Errorf("gateway health: exit %d %q", code, out)
		}
	})
	t.Run("status", func(t *testing.T) {
		out, errs, code := e.run(withToken, "status", "--json")
		var r struct {
			Gateway struct {
				URL       string `json:"url"`
				Reachable bool   `json:"reachable"`
				Latency   *int   `json:"connectLatencyMs"`
			} `json:"gateway"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || !r.Gateway.Reachable || r.Gateway.Latency == nil ||
			r.Gateway.URL != "ws://127.0.0.1:"+e.port {
			t.Errorf("exit %d stdout %s stderr %s", code, out, errs)
		}
	})
	logFile := filepath.Join(e.home, ".clawdbot", "logs", "gateway-"+time.Now().Format("2006-01-02")+".log")
	t.Run("logs", func(t *testing.T) {
		out, errs, code := e.run(withToken, "logs", "--limit", "20", "--plain")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) < 2 || lines[0] != "Log file: "+logFile {
			t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
		}
		line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) \S`)
		for _, l := range lines[1:] {
			if !line.MatchString(l) {
				t.Errorf("log line not `time level …`: %q", l)
			}
		}
		if st, err := os.Stat(logFile); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("log file mode: %v %v", st, err)
		}

		// Two lines: the start writes at least that many at info (the CLI's
		// own connects log at debug).
		out, _, code = e.run(withToken, "logs", "--json", "--limit", "2")
		recs := strings.Split(strings.TrimSpace(out), "\n")
		var meta, first map[string]any
		if code != 0 || len(recs) != 3 || json.Unmarshal([]byte(recs[0]), &meta) != nil || json.Unmarshal([]byte(recs[1]), &first) != nil ||
			meta["type"] != "meta" || meta["file"] != logFile || first["type"] != "log" || first["raw"] == "" {
			t.Errorf("logs --json: exit %d\n%s", code, out)
		}
	})
	t.Run("logs --follow", func(t *testing.T) {
		cmd := exec.Command(e.bin, "logs", "--follow", "--interval", "100", "--limit", "5", "--plain")
		cmd.Env = append(append([]string(nil), e.env...), withToken...)
		stdout, _ := cmd.StdoutPipe()
		var errb syncBuffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The follower polls; something else must give it new lines to
		// print. One-shot CLI connects no longer do (they log at debug, so
		// a polling follower does not fill the log it shows): unauthorized
		// SIGUSR1s do, one warning each.
		stopTraffic := make(chan struct{})
		defer close(stopTraffic)
		go func() {
			for {
				select {
				case <-stopTraffic:
					return
				case <-time.After(100 * time.Millisecond):
					gw.Process.Signal(syscall.SIGUSR1)
				}
			}
		}()
		sc := bufio.NewScanner(stdout)
		n := 0
		headers := 0
		stopAt := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Log file: ") {
				headers++
			}
			if n++; n >= 12 {
				break
			}
		}
		stopAt.Stop()
		cmd.Process.Signal(syscall.SIGINT)
		go func() {
			for sc.Scan() {
			}
		}()
		err := cmd.Wait()
		if n < 12 || headers != 1 || err != nil {
			t.Errorf("follow: %d lines, %d headers, exit %v, stderr %q", n, headers, err, errb.String())
		}
	})

	gw.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("gateway exit after SIGTERM: %v\n%s", err, gwOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("gateway did not stop on SIGTERM:\n%s", gwOut.String())
	}

	t.Run("gateway down", func(t *testing.T) {
		out, errs, code := e.run(withToken, "gateway", "call", "health")
		want := "error: Gateway call failed: gateway not reachable at ws://127.0.0.1:" + e.port + ": connection refused\nhint: run 'clawdbot doctor'\n"
		if code != 1 || out != "" || errs != want {
			t.Errorf("exit %d stdout %q stderr %q, want %q", code, out, errs, want)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
