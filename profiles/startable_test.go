package profiles

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheckStartable(t *testing.T) {
	const path = "/h/.clawdbot-work/clawdbot.json"
	parse := func(s string) *Snapshot { return ParseConfig(path, []byte(s), nil) }
	missing := &Snapshot{Path: path, Config: &Config{}, Valid: true}
	tests := []struct {
		name   string
		snap   *Snapshot
		cfg    *Config
		opts   StartCheck
		reason StartReason // "" = starts
		msg    []string    // substrings of Error()
		fix    string      // substring of Fix
	}{
		{name: "local with token", snap: parse(`{gateway: {mode: 'local', auth: {token: 't'}}}`)},
		{name: "local loopback without auth", snap: parse(`{gateway: {mode: 'local'}}`)},
		{name: "missing", snap: missing, reason: StartConfigMissing,
			msg: []string{"Missing config " + path, "Run 'clawdbot --profile work setup'", "--allow-unconfigured"}, fix: "clawdbot --profile work setup"},
		{name: "missing allowed", snap: missing, opts: StartCheck{AllowUnconfigured: true}},
		{name: "missing, service ignores allow", snap: missing, opts: StartCheck{AllowUnconfigured: true, Service: true}, reason: StartConfigMissing},
		{name: "service hint has no --allow-unconfigured", snap: missing, opts: StartCheck{Service: true}, reason: StartConfigMissing},
		{name: "no snapshot, no config", reason: StartConfigMissing},
		{name: "empty file", snap: parse("// todo\n"), reason: StartConfigInvalid, msg: []string{"invalid config", "JSON5 parse failed", "'clawdbot --profile work config validate'"}},
		{name: "wrong type", snap: parse(`{gateway: {mode: 'local', port: 'x'}}`), reason: StartConfigInvalid, msg: []string{path + ":1:33: gateway.port"}},
		{name: "mode unset", snap: parse(`{gateway: {port: 1}}`), reason: StartModeNotLocal,
			msg: []string{"Gateway start blocked: set gateway.mode=local (current: unset) or pass --allow-unconfigured."}, fix: "clawdbot --profile work setup"},
		{name: "mode remote, service", snap: parse(`{gateway: {mode: 'remote'}}`), opts: StartCheck{Service: true}, reason: StartModeNotLocal,
			msg: []string{"(current: remote) in " + path}, fix: `set gateway.mode to "local"`},
		{name: "mode unset allowed", snap: parse(`{}`), opts: StartCheck{AllowUnconfigured: true}},
		{name: "config without snapshot is checked too", cfg: &Config{}, reason: StartModeNotLocal},
		{name: "token mode without token", snap: parse(`{gateway: {mode: 'local', auth: {mode: 'token'}}}`), reason: StartAuthNoSecret,
			msg: []string{"gateway auth mode is token but no token is set"}},
		{name: "token from env", snap: parse(`{gateway: {mode: 'local', auth: {mode: 'token'}}}`), opts: StartCheck{Getenv: envMap(map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "t"})}},
		{name: "token from config env.vars", snap: parse(`{env: {vars: {CLAWDBOT_GATEWAY_TOKEN: 't'}}, gateway: {mode: 'local', auth: {mode: 'token'}}}`)},
		{name: "token from flag", snap: parse(`{gateway: {mode: 'local', auth: {mode: 'token'}}}`), opts: StartCheck{Token: "t"}},
		{name: "password flag without password", snap: parse(`{gateway: {mode: 'local'}}`), opts: StartCheck{AuthMode: "password"}, reason: StartAuthNoSecret,
			msg: []string{"no password is set"}},
		{name: "unknown --auth", snap: parse(`{gateway: {mode: 'local'}}`), opts: StartCheck{AuthMode: "none"}, reason: StartAuthModeUnknown,
			msg: []string{`invalid --auth "none" (use token or password)`}},
		{name: "unknown resolved mode", cfg: &Config{Gateway: GatewayConfig{Mode: "local"}}, opts: StartCheck{Auth: &ResolvedAuth{Mode: "magic"}}, reason: StartAuthModeUnknown,
			msg: []string{`unknown gateway auth mode "magic"`}},
		{name: "lan without auth", snap: parse(`{gateway: {mode: 'local', bind: 'lan'}}`), opts: StartCheck{Port: 18789}, reason: StartBindWithoutAuth,
			msg: []string{"refusing to bind gateway to 0.0.0.0:18789 without auth"}},
		{name: "lan with token", snap: parse(`{gateway: {mode: 'local', bind: 'lan', auth: {token: 't'}}}`)},
		{name: "--bind lan without auth", snap: parse(`{gateway: {mode: 'local'}}`), opts: StartCheck{Bind: "lan"}, reason: StartBindWithoutAuth},
		{name: "invalid --bind", snap: parse(`{gateway: {mode: 'local'}}`), opts: StartCheck{Bind: "moon"}, reason: StartBindInvalid},
		// The listener's real host decides, not the new config's bind: a
		// restart keeps the [::] listener of a LAN gateway.
		{name: "real host is LAN, config says loopback", snap: parse(`{gateway: {mode: 'local', bind: 'loopback'}}`),
			opts: StartCheck{Host: "::", Port: 18789}, reason: StartBindWithoutAuth, msg: []string{"[::]:18789"}},
		{name: "real host is loopback, config says lan", snap: parse(`{gateway: {mode: 'local', bind: 'lan'}}`), opts: StartCheck{Host: "127.0.0.1"}},
		{name: "resolved auth from the gateway", cfg: &Config{Gateway: GatewayConfig{Mode: "local"}},
			opts: StartCheck{Auth: &ResolvedAuth{Mode: AuthNone}, Host: "0.0.0.0"}, reason: StartBindWithoutAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Snapshot = tt.snap
			tt.opts.Profile = "work"
			err := CheckStartable(tt.cfg, tt.opts)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			var se *StartError
			if !errors.As(err, &se) || se.Reason != tt.reason {
				t.Fatalf("err = %#v, want a *StartError %s", err, tt.reason)
			}
			if !errors.Is(err, ErrNotStartable) || se.ExitCode() != 78 {
				t.Errorf("errors.Is(ErrNotStartable)=%v exit=%d", errors.Is(err, ErrNotStartable), se.ExitCode())
			}
			if strings.Contains(err.Error(), "\n") || se.Fix == "" {
				t.Errorf("message %q / fix %q: want one line and a fix", err, se.Fix)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q lacks %q", err, m)
				}
			}
			if tt.opts.Service && strings.Contains(err.Error(), "allow-unconfigured") {
				t.Errorf("service message offers --allow-unconfigured: %q", err)
			}
			if !strings.Contains(se.Fix, tt.fix) {
				t.Errorf("fix %q lacks %q", se.Fix, tt.fix)
			}
		})
	}
}

func TestEnvVarsAndApplyEnv(t *testing.T) {
	snap := ParseConfig("c.json", []byte(`{
  env: {
    shellEnv: {enabled: true},
    vars: {A: 'from-vars', B: 'from-vars', EMPTY: '', 'BAD=NAME': 'x'},
    B: 'top-level wins',
    C: 'top',
    D: '   ',
    N: 5,
  },
  gateway: {mode: 'local', auth: {token: '${A}'}},
}`), envMap(nil))
	if !snap.Valid {
		t.Fatalf("invalid: %v", snap.Issues)
	}
	want := map[string]string{"A": "from-vars", "B": "top-level wins", "C": "top"}
	if got := snap.Config.EnvVars(); !reflect.DeepEqual(got, want) {
		t.Errorf("EnvVars = %v, want %v", got, want)
	}
	// ${A} sees env.vars.A when the process lacks A.
	if tok := snap.Config.Gateway.Auth.Token; tok != "from-vars" {
		t.Errorf("token = %q, want the config's env.vars value", tok)
	}
	// The process environment wins, for substitution and for ApplyEnv.
	procEnv := map[string]string{"A": "from-process", "C": "  "}
	snap2 := ParseConfig("c.json", snap.Raw, envMap(procEnv))
	if tok := snap2.Config.Gateway.Auth.Token; tok != "from-process" {
		t.Errorf("token = %q, want the process value", tok)
	}
	set, err := ApplyEnv(snap.Config, envMap(procEnv), func(k, v string) error { procEnv[k] = v; return nil })
	if err != nil || !reflect.DeepEqual(set, []string{"B", "C"}) {
		t.Errorf("ApplyEnv set %v (%v), want [B C]", set, err)
	}
	if procEnv["A"] != "from-process" || procEnv["B"] != "top-level wins" || procEnv["C"] != "top" {
		t.Errorf("env after ApplyEnv: %v", procEnv)
	}
	if set, _ := ApplyEnv(nil, nil, func(string, string) error { t.Fatal("setenv called"); return nil }); len(set) != 0 {
		t.Errorf("nil config set %v", set)
	}
}

func TestUnknownKeys(t *testing.T) {
	snap := ParseConfig("c.json", []byte("{\n  gateway: {prot: 1, mode: 'local', mode: 'local'},\n  workspace: '~/w',\n  meta: {},\n}"), nil)
	got := snap.UnknownKeys()
	var lines []string
	for _, is := range got {
		lines = append(lines, is.String())
	}
	want := []string{
		"c.json:2:13: gateway.prot: unknown key (ignored; did you mean gateway.port?)",
		"c.json:3:3: workspace: unknown key (ignored; did you mean agents.defaults.workspace?)",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("UnknownKeys = %q\nwant %q", lines, want)
	}
	if len(snap.Warnings) != 3 {
		t.Errorf("warnings = %v, want the duplicate key too", snap.Warnings)
	}
	if (*Snapshot)(nil).UnknownKeys() != nil {
		t.Error("nil snapshot has unknown keys")
	}
}
