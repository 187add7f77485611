package profiles

import (
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
)

// EnvVars are the environment entries the config declares, as the original
// collects them (its config/env-vars.ts): every non-empty string in
// env.vars, then every non-empty string directly under env except the
// shellEnv and vars keys, which win on a name conflict. Values are after
// ${VAR} substitution. Names that cannot be environment variables (empty,
// containing '=' or NUL) are left out. A nil config has none.
func (c *Config) EnvVars() map[string]string {
	out := map[string]string{}
	if c == nil {
		return out
	}
	if raw, ok := c.Env["vars"]; ok {
		var vars map[string]any
		if json.Unmarshal(raw, &vars) == nil {
			for k, v := range vars {
				if s, ok := v.(string); ok && s != "" && validEnvName(k) {
					out[k] = s
				}
			}
		}
	}
	for k, raw := range c.Env {
		if k == "shellEnv" || k == "vars" || !validEnvName(k) {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) != "" {
			out[k] = s
		}
	}
	return out
}

func validEnvName(k string) bool { return k != "" && !strings.ContainsAny(k, "=\x00") }

// ApplyEnv exports the config's EnvVars into the process environment
// through setenv, the way the original does on every config load: a
// variable that getenv already has (non-empty after trimming) is kept, so
// the real environment (the shell, the service definition) always wins and
// the config only fills gaps. It returns the names it set, sorted, and the
// first setenv error (the other variables are still applied).
//
// It is a one-shot: the gateway uses a ConfigEnv instead, which also
// follows later reloads. ${VAR} references in the config already see these
// entries without ApplyEnv (see ParseConfig).
func ApplyEnv(cfg *Config, getenv func(string) string, setenv func(key, value string) error) ([]string, error) {
	var set []string
	var first error
	for k, v := range cfg.EnvVars() {
		if getenv != nil && strings.TrimSpace(getenv(k)) != "" {
			continue
		}
		if err := setenv(k, v); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		set = append(set, k)
	}
	sort.Strings(set)
	return set, first
}

// configEnvFallback returns getenv with the document's own env entries
// (read before substitution) as fallback, so `${OPENAI_API_KEY}` may refer
// to env.vars.OPENAI_API_KEY as in the original, which applies config env
// to the process before it substitutes.
func configEnvFallback(root *node, getenv func(string) string) func(string) string {
	envNode := root.get("env")
	if envNode == nil || envNode.kind != kindObject {
		return getenv
	}
	vars := map[string]string{}
	if vn := envNode.get("vars"); vn != nil && vn.kind == kindObject {
		for _, m := range vn.members {
			if m.val.kind == kindString && m.val.str != "" && validEnvName(m.key) {
				vars[m.key] = m.val.str
			}
		}
	}
	for _, m := range envNode.members {
		if m.key == "shellEnv" || m.key == "vars" || !validEnvName(m.key) {
			continue
		}
		if m.val.kind == kindString && strings.TrimSpace(m.val.str) != "" {
			vars[m.key] = m.val.str
		}
	}
	if len(vars) == 0 {
		return getenv
	}
	return func(k string) string {
		if v := getenv(k); strings.TrimSpace(v) != "" {
			return v
		}
		return vars[k]
	}
}

// EnvServiceConfigVars is set in a service definition to the names
// (comma-separated) of the variables the definition copied from the
// config's env section when it was installed. Those stay the config's: a
// ConfigEnv treats them as its own, so a later edit of env.vars changes or
// removes them in the running gateway instead of losing to the stale copy
// in the unit or plist.
const EnvServiceConfigVars = "CLAWDBOT_SERVICE_CONFIG_ENV"

// ConfigEnv keeps the process environment in step with the config's env
// section (EnvVars) across reloads. It remembers what it set: a variable
// the process had before start (the shell, the service definition) always
// wins and is never changed or unset, while one ConfigEnv set follows the
// config: a new value replaces it, and removing it from the config unsets
// it. The gateway applies it at start, before anything reads the
// environment, and after every good config load (reload or restart).
type ConfigEnv struct {
	getenv   func(string) string
	setenv   func(key, value string) error
	unsetenv func(key string) error

	mu    sync.Mutex
	owned map[string]bool
}

// NewConfigEnv returns a ConfigEnv over the given environment functions
// (os.Getenv, os.Setenv, os.Unsetenv in the real process). The variables
// named in EnvServiceConfigVars count as set by the config from the start.
// A nil unsetenv sets a removed variable to "" instead, which every reader
// of the config's env treats as unset.
func NewConfigEnv(getenv func(string) string, setenv func(key, value string) error, unsetenv func(key string) error) *ConfigEnv {
	if unsetenv == nil {
		unsetenv = func(k string) error { return setenv(k, "") }
	}
	e := &ConfigEnv{getenv: getenv, setenv: setenv, unsetenv: unsetenv, owned: map[string]bool{}}
	for _, k := range strings.Split(getenv(EnvServiceConfigVars), ",") {
		if k = strings.TrimSpace(k); validEnvName(k) {
			e.owned[k] = true
		}
	}
	return e
}

// Apply makes the environment match cfg's env entries: it sets the ones the
// process does not have (or that it set itself, when their value changed)
// and unsets the ones it set that cfg no longer has. It returns the names
// it set and unset, sorted, and the first error (the other variables are
// still applied).
func (e *ConfigEnv) Apply(cfg *Config) (set, unset []string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	want := cfg.EnvVars()
	keep := func(e2 error) {
		if err == nil {
			err = e2
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		v := want[k]
		cur := e.getenv(k)
		if e.owned[k] {
			if cur == v {
				continue
			}
		} else if strings.TrimSpace(cur) != "" {
			continue // the real environment wins
		}
		if e2 := e.setenv(k, v); e2 != nil {
			keep(e2)
			continue
		}
		e.owned[k] = true
		set = append(set, k)
	}
	for _, k := range slices.Sorted(maps.Keys(e.owned)) {
		if _, ok := want[k]; ok {
			continue
		}
		if e2 := e.unsetenv(k); e2 != nil {
			keep(e2)
			continue
		}
		delete(e.owned, k)
		unset = append(unset, k)
	}
	return set, unset, err
}
