package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// callTestEnv is an Env with a temp HOME and an empty environment.
func callTestEnv(t *testing.T, vars map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return vars[k]
	}
	return &Env{Stdout: &out, Stderr: &errb, Getenv: getenv, Environ: func() []string { return nil },
		Home: home, Context: context.Background()}, &out, &errb
}

// callClosedPort is a loopback port nothing listens on.
func callClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

func TestGatewayDownIsOneClearLine(t *testing.T) {
	port := callClosedPort(t)
	url := "ws://127.0.0.1:" + port
	cause := "gateway not reachable at " + url + ": connection refused"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"gateway call", []string{"gateway", "call", "health"}, "error: Gateway call failed: " + cause + "\nhint: run 'clawdbot doctor'\n"},
		{"health", []string{"health"}, "error: Health check failed: " + cause + "\nhint: run 'clawdbot doctor'\n"},
		{"gateway health", []string{"gateway", "health"}, "error: Health check failed: " + cause + "\nhint: run 'clawdbot doctor'\n"},
		{"logs", []string{"logs"}, "error: logs: " + cause + "\nhint: run 'clawdbot doctor'\n"},
		{"profile-aware hint", []string{"--profile", "work", "gateway", "call", "health"}, "error: Gateway call failed: " + cause + "\nhint: run 'clawdbot --profile work doctor'\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, out, errb := callTestEnv(t, map[string]string{"CLAWDBOT_GATEWAY_PORT": port})
			if code := Main(tc.args, env); code != ExitFailure {
				t.Errorf("exit %d, want 1", code)
			}
			if errb.String() != tc.want {
				t.Errorf("stderr\n got %q\nwant %q", errb.String(), tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

func TestStatusReportsAnUnreachableGatewayWithoutFailing(t *testing.T) {
	port := callClosedPort(t)
	env, out, _ := callTestEnv(t, map[string]string{"CLAWDBOT_GATEWAY_PORT": port})
	if code := Main([]string{"status", "--json"}, env); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		`"url": "ws://127.0.0.1:` + port + `"`, `"urlSource": "local loopback"`, `"reachable": false`,
		`"connectLatencyMs": null`, `"error": "gateway not reachable at ws://127.0.0.1:` + port + `: connection refused"`,
		`"config": "missing"`, `"mode": "local"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status --json lacks %s:\n%s", want, out.String())
		}
	}
}

func TestGatewayCallUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"gateway", "call"}, "missing <method>"},
		{[]string{"gateway", "call", "health", "--params", "{nope"}, "--params is not valid JSON"},
		{[]string{"gateway", "call", "a", "b"}, `unexpected argument "b"`},
		{[]string{"logs", "--limit", "0"}, "--limit 0 is out of range"},
	}
	for _, tc := range tests {
		env, _, errb := callTestEnv(t, nil)
		if code := Main(tc.args, env); code != ExitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d stderr %q, want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

func TestTargetPrecedence(t *testing.T) {
	env, _, _ := callTestEnv(t, map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "from-env"})
	cfg := `{"gateway":{"mode":"local","port":19999,"auth":{"token":"from-config","password":"pw-config"}}}`
	dir := filepath.Join(env.Home, ".clawdbot")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		flags           clientFlags
		url, src, token string
		password        string
	}{
		{"env token beats config", clientFlags{}, "ws://127.0.0.1:19999", "local loopback", "from-env", "pw-config"},
		{"flags beat everything", clientFlags{URL: "ws://h:1", Token: "flag", Password: "pw"}, "ws://h:1", "cli --url", "flag", "pw"},
	}
	for _, tc := range tests {
		tg, err := resolveGatewayTarget(env, tc.flags)
		if err != nil {
			t.Fatal(err)
		}
		if tg.URL != tc.url || tg.URLSource != tc.src || tg.Opts.Token != tc.token || tg.Opts.Password != tc.password ||
			tg.Opts.StateDir != dir || tg.Opts.ExplicitAuth != (tc.flags.Token != "" || tc.flags.Password != "") {
			t.Errorf("%s: %+v", tc.name, tg)
		}
	}
}
