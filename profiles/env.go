package profiles

import (
	"encoding/json"
	"sort"
	"strings"
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
// The gateway calls it at start, before anything reads the environment, and
// on every reload (a reload never unsets a variable an earlier config set:
// the process cannot tell it from one that was there before). ${VAR}
// references in the config already see these entries without ApplyEnv (see
// ParseConfig).
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
