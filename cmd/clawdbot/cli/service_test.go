package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/supervise"
)

// recRunner records argv and answers "success" to everything except
// `systemctl show`, which reports a loaded, enabled, running unit once the
// unit file exists. It stands in for systemctl where the test is about the
// CLI's output; the real manager runs in TestGatewayServiceInSystemdUserSandbox.
type recRunner struct{ calls []string }

func (r *recRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	argv := strings.Join(append([]string{name}, args...), " ")
	r.calls = append(r.calls, argv)
	if strings.Contains(argv, " show ") {
		return supervise.Output{Stdout: "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nMainPID=42\nNRestarts=0\n"}, nil
	}
	if strings.HasPrefix(argv, "loginctl show-user") {
		return supervise.Output{Stdout: "no\n"}, nil
	}
	return supervise.Output{}, nil
}

func serviceTestEnv(t *testing.T) (*Env, *bytes.Buffer, *recRunner) {
	t.Helper()
	home := t.TempDir()
	bin := filepath.Join(t.TempDir(), "clawdbot")
	os.WriteFile(bin, []byte("x"), 0o755)
	var out bytes.Buffer
	vars := map[string]string{"USER": "alice"}
	env := &Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return vars[k] }, Home: home,
		Executable: bin, ProfileFlag: "citest", Context: context.Background()}
	rr := &recRunner{}
	env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
		return &supervise.SystemdManager{Runner: rr}, nil
	}
	env.ServiceRunner, env.Platform = rr, supervise.Systemd
	// The port is free unless a test says otherwise: the real one may be
	// taken by whatever else runs on this machine.
	oldI := inspectPort
	inspectPort = func(_ context.Context, port int) ports.Report {
		return ports.Report{Port: port, Status: ports.StatusFree}
	}
	t.Cleanup(func() { inspectPort = oldI })
	return env, &out, rr
}

// writeLocalConfig leaves the profile's config as `clawdbot setup` would:
// gateway.mode=local, which the gateway needs to start.
func writeLocalConfig(t *testing.T, env *Env, profile string) {
	t.Helper()
	dir := filepath.Join(env.Home, ".clawdbot-"+profile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clawdbot.json"), []byte(`{"gateway": {"mode": "local"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestGatewayInstallJSONAndIdempotence(t *testing.T) {
	env, out, rr := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--token", "tok-123", "--json"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var a serviceJSON
	if err := json.Unmarshal(out.Bytes(), &a); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !a.OK || a.Action != "install" || a.Result != "installed" || a.Service == nil || a.Service.Label != "systemd" ||
		!a.Service.Loaded || a.Service.LoadedText != "enabled" || a.Service.NotLoadedText != "disabled" {
		t.Fatalf("install json: %s", out)
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "loginctl enable-linger alice") {
		t.Errorf("warnings = %q, want the linger command", a.Warnings)
	}
	unit := filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")
	body, err := os.ReadFile(unit)
	if err != nil || strings.Contains(string(body), "tok-123") {
		t.Fatalf("unit %v; must exist and not hold the token:\n%s", err, body)
	}
	cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
	fi, err := os.Stat(cfg)
	cb, _ := os.ReadFile(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(string(cb), `"tok-123"`) {
		t.Fatalf("config %v mode %v:\n%s", err, fi, cb)
	}
	if !strings.Contains(strings.Join(rr.calls, "\n"), "systemctl --user enable clawdbot-gateway-citest.service") {
		t.Errorf("calls: %q", rr.calls)
	}

	out.Reset()
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env); code != 0 {
		t.Fatalf("second install exit %d: %s", code, out)
	}
	json.Unmarshal(out.Bytes(), &a)
	if a.Result != "unchanged" {
		t.Errorf("second install result = %q", a.Result)
	}
}

// A service for a profile whose gateway cannot start would exit 78 at once
// and leave an enabled, failed unit behind; install says what to fix first
// and writes nothing.
func TestGatewayInstallRefusesAConfigTheGatewayWouldRefuse(t *testing.T) {
	tests := []struct {
		name   string
		config string // "" = no config file
		want   []string
	}{
		{"no config (setup not run)", "", []string{"Missing config", "clawdbot --profile citest setup"}},
		{"syntax error", `{"gateway": {"mode": "local",}`, []string{"invalid config", "clawdbot --profile citest config validate"}},
		{"empty file", "// todo\n", []string{"JSON5 parse failed", "clawdbot --profile citest config validate"}},
		{"wrong type", `{"gateway": {"mode": "local", "port": "abc"}}`, []string{"gateway.port", "clawdbot --profile citest config validate"}},
		{"mode unset", `{"gateway": {"port": 18800}}`, []string{"set gateway.mode=local (current: unset)", "clawdbot --profile citest setup"}},
		{"mode remote", `{"gateway": {"mode": "remote"}}`, []string{"(current: remote)", `"local"`}},
		{"password mode without password", `{"gateway": {"mode": "local", "auth": {"mode": "password"}}}`, []string{"no password is set", "gateway.auth.password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, out, rr := serviceTestEnv(t)
			cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
			if tc.config != "" {
				os.MkdirAll(filepath.Dir(cfg), 0o700)
				os.WriteFile(cfg, []byte(tc.config), 0o600)
			}
			code := Main([]string{"--profile", "citest", "gateway", "install", "--token", "tok-1"}, env)
			if code != ExitFailure {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			unit := filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")
			if _, err := os.Stat(unit); err == nil {
				t.Errorf("unit written although the gateway could not start")
			}
			if len(rr.calls) != 0 {
				t.Errorf("systemctl was called: %q", rr.calls)
			}
			if b, _ := os.ReadFile(cfg); strings.Contains(string(b), "tok-1") {
				t.Errorf("config changed before the install was refused:\n%s", b)
			}
		})
	}
	// --json carries the same error and hint.
	env, out, _ := serviceTestEnv(t)
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env); code != ExitFailure {
		t.Fatalf("exit %d", code)
	}
	var a serviceJSON
	if err := json.Unmarshal(out.Bytes(), &a); err != nil || a.OK || len(a.Hints) == 0 || a.Hints[0] != "clawdbot --profile citest setup" {
		t.Fatalf("json %v: %s", err, out)
	}
}

func TestGatewayInstallRefusesForeignUnit(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	unit := filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")
	os.MkdirAll(filepath.Dir(unit), 0o755)
	os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/other\n"), 0o644)
	code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env)
	var a serviceJSON
	json.Unmarshal(out.Bytes(), &a)
	if code != ExitFailure || a.OK || !strings.Contains(a.Error, "not written by clawdbot") ||
		len(a.Hints) == 0 || !strings.Contains(a.Hints[0], "--force") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// With no service installed, start and restart cannot do what was asked:
// exit 1, naming install with the profile. Stop has nothing to stop: as
// the original, "Gateway service disabled." and exit 0; a hand-started
// gateway of the profile is named with how to stop it.
func TestGatewayLifecycleNotInstalled(t *testing.T) {
	for _, tc := range []struct {
		action string
		code   int
		want   []string
	}{
		{"start", ExitFailure, []string{"Gateway start failed: no gateway service is installed for profile citest", "'clawdbot --profile citest gateway install'"}},
		{"restart", ExitFailure, []string{"Gateway restart failed", "'clawdbot --profile citest gateway install'"}},
		{"stop", ExitOK, []string{"Gateway service disabled.", "started by hand still runs (pid 4242)", "kill 4242"}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			env, out, _ := serviceTestEnv(t)
			env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
				return &supervise.SystemdManager{Runner: notFoundRunner{}}, nil
			}
			heldByHand(t, "clawdbot --profile citest gateway")
			if code := Main([]string{"--profile", "citest", "gateway", tc.action}, env); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// heldByHand makes every port look held by pid 4242 running cmdline, a
// gateway no service manager started (lsof cannot be made to report a
// chosen holder).
func heldByHand(t *testing.T, cmdline string) {
	t.Helper()
	old := inspectPort
	inspectPort = func(_ context.Context, port int) ports.Report {
		l := ports.Classified(ports.Listener{PID: 4242, Command: "clawdbot", CommandLine: cmdline, User: "alice"})
		return ports.Report{Port: port, Status: ports.StatusBusy, Listeners: []ports.Listener{l}, Hints: []string{ports.HintGateway}}
	}
	t.Cleanup(func() { inspectPort = old })
}

// The README's order: `clawdbot gateway` in one shell, `gateway install`
// in another. Install notices the hand-started gateway of this profile on
// the port, names its pid and how to stop it, and writes nothing (no unit,
// no config change): an enabled unit that cannot bind would restart
// every 5 s.
func TestGatewayInstallRefusesAPortHeldByAHandStartedGateway(t *testing.T) {
	env, out, rr := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
	before, _ := os.ReadFile(cfg)
	heldByHand(t, "/usr/local/bin/clawdbot --profile citest gateway")
	code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "19555", "--token", "t-1"}, env)
	if code != ExitFailure {
		t.Fatalf("exit %d: %s", code, out)
	}
	first := strings.SplitN(out.String(), "\n", 2)[0]
	for _, w := range []string{"already holds port 19555 (pid 4242, started by hand)", "kill 4242", "rerun: clawdbot --profile citest gateway install --port 19555"} {
		if !strings.Contains(first, w) {
			t.Errorf("first line lacks %q: %s", w, first)
		}
	}
	unit := filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")
	if _, err := os.Stat(unit); !os.IsNotExist(err) {
		t.Errorf("unit written: %v", err)
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Errorf("config changed:\n%s", after)
	}
	for _, c := range rr.calls {
		if !strings.Contains(c, " show ") && !strings.HasPrefix(c, "loginctl") {
			t.Errorf("ran %q although install refused", c)
		}
	}
}

// Install checks the privileges and the manager before writing: --system
// as non-root and an unreachable user manager write nothing. The first
// line names the problem and the fix with the user's flags; the systemctl
// command line is detail (shown once with --verbose).
func TestGatewayInstallChecksBeforeWriting(t *testing.T) {
	t.Run("system as non-root", func(t *testing.T) {
		env, out, rr := serviceTestEnv(t)
		writeLocalConfig(t, env, "citest")
		old := serviceEUID
		serviceEUID = func() int { return 1000 }
		t.Cleanup(func() { serviceEUID = old })
		if code := Main([]string{"--profile", "citest", "gateway", "install", "--system", "--port", "19555"}, env); code != ExitFailure {
			t.Fatalf("exit %d: %s", code, out)
		}
		if !strings.Contains(out.String(), "needs root; rerun it with sudo: sudo clawdbot --profile citest gateway install --system --port 19555") {
			t.Errorf("output:\n%s", out)
		}
		if len(rr.calls) != 0 {
			t.Errorf("ran %q", rr.calls)
		}
	})
	for _, verbose := range []bool{false, true} {
		t.Run("no user manager, verbose="+strconv.FormatBool(verbose), func(t *testing.T) {
			env, out, _ := serviceTestEnv(t)
			writeLocalConfig(t, env, "citest")
			cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
			before, _ := os.ReadFile(cfg)
			env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
				return &supervise.SystemdManager{Runner: busDownRunner{}}, nil
			}
			inspectPort = func(_ context.Context, port int) ports.Report {
				return ports.Report{Port: port, Status: ports.StatusFree}
			}
			t.Cleanup(func() { inspectPort = ports.Inspect })
			args := []string{"--profile", "citest", "gateway", "install", "--port", "19555", "--token", "t-1"}
			if verbose {
				args = append(args, "--verbose")
			}
			if code := Main(args, env); code != ExitFailure {
				t.Fatalf("exit %d: %s", code, out)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			first := lines[0]
			for _, w := range []string{"Gateway install failed: the systemd user manager refused to query the service (Failed to connect to bus", "XDG_RUNTIME_DIR",
				"then rerun: clawdbot --profile citest gateway install --port 19555"} {
				if !strings.Contains(first, w) {
					t.Errorf("first line lacks %q: %s", w, first)
				}
			}
			if strings.Contains(first, "systemctl --user show") {
				t.Errorf("raw command line in the first line: %s", first)
			}
			if n := strings.Count(out.String(), "systemctl --user show"); (verbose && n != 1) || (!verbose && n != 0) {
				t.Errorf("raw command line printed %d times (verbose=%v):\n%s", n, verbose, out)
			}
			if after, _ := os.ReadFile(cfg); string(after) != string(before) {
				t.Errorf("config changed:\n%s", after)
			}
			if _, err := os.Stat(filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")); !os.IsNotExist(err) {
				t.Errorf("unit written: %v", err)
			}
		})
	}
}

// busDownRunner is systemctl without a reachable user bus.
type busDownRunner struct{}

func (busDownRunner) Run(context.Context, string, ...string) (supervise.Output, error) {
	return supervise.Output{Code: 1, Stderr: "Failed to connect to bus: No medium found"}, nil
}

// A step after writing fails (restart): the config patch and the unit are
// put back as they were.
func TestGatewayInstallRestoresConfigAndUnitWhenALaterStepFails(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
	before, _ := os.ReadFile(cfg)
	env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
		return &supervise.SystemdManager{Runner: failStartRunner{}}, nil
	}
	inspectPort = func(_ context.Context, port int) ports.Report {
		return ports.Report{Port: port, Status: ports.StatusFree}
	}
	t.Cleanup(func() { inspectPort = ports.Inspect })
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "19555", "--token", "t-1"}, env); code != ExitFailure {
		t.Fatalf("exit %d: %s", code, out)
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Errorf("config not restored:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")); !os.IsNotExist(err) {
		t.Errorf("unit left behind: %v", err)
	}
	if !strings.Contains(out.String(), "refused to start the service (Job for clawdbot-gateway-citest.service failed.)") {
		t.Errorf("output:\n%s", out)
	}
}

// failStartRunner is systemctl that knows no unit and fails every start.
type failStartRunner struct{}

func (failStartRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	argv := strings.Join(args, " ")
	switch {
	case strings.Contains(argv, "show"):
		return supervise.Output{Stdout: "LoadState=not-found\nUnitFileState=\nActiveState=inactive\n"}, nil
	case strings.Contains(argv, " start ") || strings.HasSuffix(argv, "start clawdbot-gateway-citest.service"):
		return supervise.Output{Code: 1, Stderr: "Job for clawdbot-gateway-citest.service failed."}, nil
	}
	return supervise.Output{}, nil
}

type notFoundRunner struct{}

func (notFoundRunner) Run(context.Context, string, ...string) (supervise.Output, error) {
	return supervise.Output{Stdout: "LoadState=not-found\nUnitFileState=\nActiveState=inactive\n"}, nil
}

// startRunner is systemctl for a unit that is installed but stopped until
// a `start` comes.
type startRunner struct{ started bool }

func (r *startRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	argv := strings.Join(append([]string{name}, args...), " ")
	switch {
	case strings.Contains(argv, " start "):
		r.started = true
	case strings.Contains(argv, " show ") && r.started:
		return supervise.Output{Stdout: "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nMainPID=42\n"}, nil
	case strings.Contains(argv, " show "):
		return supervise.Output{Stdout: "LoadState=loaded\nUnitFileState=enabled\nActiveState=failed\nSubState=failed\nMainPID=0\nExecMainStatus=78\n"}, nil
	}
	return supervise.Output{}, nil
}

// Re-running install over a stopped (or failed) service starts it; the
// message must say so instead of a bare "unchanged".
func TestGatewayInstallSaysWhenItStartedTheService(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	if code := Main([]string{"--profile", "citest", "gateway", "install"}, env); code != 0 {
		t.Fatalf("first install exit %d: %s", code, out)
	}
	r := &startRunner{}
	env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
		return &supervise.SystemdManager{Runner: r}, nil
	}
	out.Reset()
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var a serviceJSON
	json.Unmarshal(out.Bytes(), &a)
	if a.Result != "unchanged" || !strings.HasSuffix(a.Message, "(started)") {
		t.Errorf("result %q message %q, want unchanged ... (started)", a.Result, a.Message)
	}
}

// install --port records the port in the config, so health, logs, call and
// status (which follow the config) find the service; an explicit
// CLAWDBOT_GATEWAY_PORT outranks the config, so then it only warns.
func TestGatewayInstallPortGoesIntoTheConfig(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "19789"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	prof, err := env.ResolveProfile(0)
	if err != nil || prof.Ports.Gateway != 19789 || prof.Ports.GatewaySource != "config" {
		t.Fatalf("profile port after install: %+v %v\n%s", prof.Ports, err, out)
	}
	cb, _ := os.ReadFile(prof.ConfigPath)
	if !strings.Contains(out.String(), "Set gateway.port=19789 in "+prof.ConfigPath) || !strings.Contains(string(cb), `"mode": "local"`) {
		t.Errorf("output %q, config %s", out, cb)
	}

	env, out, _ = serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	vars := map[string]string{"USER": "alice", "CLAWDBOT_GATEWAY_PORT": "18999"}
	env.Getenv = func(k string) string { return vars[k] }
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "19789", "--json"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var a serviceJSON
	json.Unmarshal(out.Bytes(), &a)
	if !strings.Contains(strings.Join(a.Warnings, "\n"), "CLAWDBOT_GATEWAY_PORT=18999") {
		t.Errorf("warnings %q, want the env override named", a.Warnings)
	}
	if cb, _ := os.ReadFile(filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")); strings.Contains(string(cb), "19789") {
		t.Errorf("config changed although the env outranks it:\n%s", cb)
	}
}

// install --port/--token edit the user's JSON5 in place: comments, quoting
// and trailing commas stay, a .bak keeps the previous file.
func TestGatewayInstallKeepsTheUsersJSON5(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	before := "// hand-written\n{\n  gateway: {\n    mode: 'local', // keep\n    port: 18800,\n  },\n}\n"
	os.WriteFile(cfg, []byte(before), 0o600)
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "18801", "--token", "tok-1"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	b, _ := os.ReadFile(cfg)
	want := "// hand-written\n{\n  gateway: {\n    mode: 'local', // keep\n    port: 18801,\n    auth: {\n      token: 'tok-1',\n    },\n  },\n}\n"
	if string(b) != want {
		t.Errorf("config after install:\n%s\nwant:\n%s", b, want)
	}
	if _, err := os.Stat(cfg + ".bak"); err != nil {
		t.Errorf("no .bak: %v", err)
	}
}
