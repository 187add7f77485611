package profiles

import (
	"reflect"
	"testing"
)

// fakeEnv is a process environment as a map (the real one is shared by
// every test in the binary).
type fakeEnv map[string]string

func (e fakeEnv) get(k string) string         { return e[k] }
func (e fakeEnv) set(k, v string) error       { e[k] = v; return nil }
func (e fakeEnv) unset(k string) error        { delete(e, k); return nil }
func (e fakeEnv) has(k string) (string, bool) { v, ok := e[k]; return v, ok }
func cfgEnv(t *testing.T, src string) *Config {
	t.Helper()
	snap := ParseConfig("c.json", []byte(src), nil)
	if !snap.Valid {
		t.Fatalf("invalid config: %v", snap.Issues)
	}
	return snap.Config
}

// ConfigEnv follows env.vars across reloads: the variables the process had
// before start always win and are never touched; the ones it set change
// with the config and are unset when the config drops them.
func TestConfigEnvFollowsReloads(t *testing.T) {
	env := fakeEnv{"SHELL_VAR": "from-shell", "PATH": "/bin"}
	ce := NewConfigEnv(env.get, env.set, env.unset)
	steps := []struct {
		name      string
		cfg       string
		set, uset []string
		want      fakeEnv
	}{
		{"start", `{env: {vars: {SHELL_VAR: 'cfg', A: '1', B: '2'}}}`, []string{"A", "B"}, nil,
			fakeEnv{"SHELL_VAR": "from-shell", "PATH": "/bin", "A": "1", "B": "2"}},
		{"same again", `{env: {vars: {SHELL_VAR: 'cfg', A: '1', B: '2'}}}`, nil, nil,
			fakeEnv{"SHELL_VAR": "from-shell", "PATH": "/bin", "A": "1", "B": "2"}},
		{"A changed, B removed, SHELL_VAR removed", `{env: {vars: {A: 'one'}}}`, []string{"A"}, []string{"B"},
			fakeEnv{"SHELL_VAR": "from-shell", "PATH": "/bin", "A": "one"}},
		{"env section gone", `{}`, nil, []string{"A"},
			fakeEnv{"SHELL_VAR": "from-shell", "PATH": "/bin"}},
		{"B back, top-level entry", `{env: {B: 'x'}}`, []string{"B"}, nil,
			fakeEnv{"SHELL_VAR": "from-shell", "PATH": "/bin", "B": "x"}},
	}
	for _, s := range steps {
		set, unset, err := ce.Apply(cfgEnv(t, s.cfg))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !reflect.DeepEqual(set, s.set) || !reflect.DeepEqual(unset, s.uset) {
			t.Errorf("%s: set %v unset %v, want %v %v", s.name, set, unset, s.set, s.uset)
		}
		if !reflect.DeepEqual(env, s.want) {
			t.Errorf("%s: env = %v, want %v", s.name, env, s.want)
		}
	}
}

// The variables a service definition copied from the config (named in
// CLAWDBOT_SERVICE_CONFIG_ENV) stay the config's: an edit of env.vars
// replaces the stale copy, a removal unsets it; the others from the
// definition still win.
func TestConfigEnvServiceCopies(t *testing.T) {
	env := fakeEnv{EnvServiceConfigVars: "REGION, LANGUAGE", "REGION": "eu", "LANGUAGE": "de", "OTHER": "unit"}
	ce := NewConfigEnv(env.get, env.set, nil)
	set, unset, err := ce.Apply(cfgEnv(t, `{env: {vars: {REGION: 'us', OTHER: 'cfg'}}}`))
	if err != nil || !reflect.DeepEqual(set, []string{"REGION"}) || !reflect.DeepEqual(unset, []string{"LANGUAGE"}) {
		t.Fatalf("set %v unset %v (%v)", set, unset, err)
	}
	if env["REGION"] != "us" || env["OTHER"] != "unit" {
		t.Errorf("env = %v", env)
	}
	// Without an unsetenv, a removed variable is emptied, which every
	// reader of the config's env treats as unset.
	if v, ok := env.has("LANGUAGE"); !ok || v != "" {
		t.Errorf("LANGUAGE = %q, %v; want emptied", v, ok)
	}
}
