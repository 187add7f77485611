package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
)

func init() {
	Register(&Command{Path: "setup", Summary: "create the profile's state dir, config (with a gateway token) and workspace", Run: runSetup})
	RegisterGroup("config", "show and check the profile's config file")
	Register(&Command{Path: "config path", Summary: "print the active profile's config file path", Run: runConfigPath})
	Register(&Command{Path: "config validate", Summary: "check the config file; print problems with line:column", Run: runConfigValidate})
}

// setupReport is the --json output of setup.
type setupReport struct {
	Profile     string   `json:"profile"`
	StateDir    string   `json:"stateDir"`
	ConfigPath  string   `json:"configPath"`
	Workspace   string   `json:"workspace"`
	SessionsDir string   `json:"sessionsDir"`
	Created     []string `json:"created"`       // directories and files created
	ConfigKeys  []string `json:"configChanges"` // keys written into the config
	Backup      string   `json:"backup,omitempty"`
	Changed     bool     `json:"changed"`
}

// runSetup makes a profile ready to run a gateway (doc/supervision.md §9): the
// state dir (0700), a config (0600) with gateway.mode=local, a loopback bind,
// token auth with a fresh token and the workspace, the workspace itself and
// the sessions dir. It is idempotent: it only adds what is missing; an
// existing config is edited in place (profiles.PatchText keeps the user's
// comments and formatting) and saved with profiles.Save, which keeps a .bak.
func runSetup(env *Env, args []string) int {
	fs := env.FlagSet("setup", "setup [--workspace DIR] [--json]")
	workspaceFlag := fs.String("workspace", "", "agent workspace directory (default ~/clawd[-<profile>])")
	asJSON := fs.Bool("json", false, "print a JSON report")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	p, err := env.ResolveProfile(0)
	if err != nil {
		return env.Errorf("%v", err)
	}
	rep := setupReport{Profile: p.DisplayName(), StateDir: p.StateDir, ConfigPath: p.ConfigPath, Created: []string{}, ConfigKeys: []string{}}
	var lines []string
	say := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }

	// 1. State dir.
	created, err := ensureDir(p.StateDir)
	if err != nil {
		return env.Errorf("cannot create the state dir: %v", err)
	}
	if created {
		rep.Created = append(rep.Created, p.StateDir)
		say("Created state dir: %s", p.StateDir)
	} else {
		say("State dir OK: %s", p.StateDir)
		if w := looseDirWarning(p.StateDir); w != "" {
			fmt.Fprintln(env.Stderr, w)
		}
	}

	// 2. Config.
	snap, err := profiles.LoadEnv(p.ConfigPath, env.Getenv)
	if err != nil {
		return env.Errorf("%v", err)
	}
	// A file without a value (created empty, or only comments) is filled
	// in like a missing one; its comments stay.
	emptyDoc := snap.IsEmptyDocument()
	raw := snap.Raw
	if emptyDoc {
		snap = &profiles.Snapshot{Path: p.ConfigPath, Config: &profiles.Config{}, Valid: true}
	}
	if !snap.Valid {
		printIssues(env, snap)
		return env.Errorf("%s is invalid; fix it (or run '%s') and re-run '%s'",
			p.ConfigPath, env.Hint("clawdbot config validate"), env.Hint("clawdbot setup"))
	}
	for _, w := range snap.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	workspace := p.WorkspaceFor(snap.Config)
	if *workspaceFlag != "" {
		workspace = absPath(*workspaceFlag, p.Home)
	}
	// --workspace only changes the config when it names another directory
	// than the configured one (compared after ~ expansion).
	forceWorkspace := *workspaceFlag != "" && workspace != p.WorkspaceFor(snap.Config)
	patch, keys, tokenNote, err := setupPatch(snap, workspace, forceWorkspace, env.Getenv)
	if err != nil {
		return env.Errorf("%v", err)
	}
	if len(keys) > 0 {
		base := raw
		if !snap.Exists && !emptyDoc {
			base = []byte("{}")
		}
		// Splice into the user's text: comments, order and quoting of
		// everything setup does not set are kept (profiles.PatchText).
		out, err := profiles.PatchText(base, patch)
		if err != nil {
			return env.Errorf("cannot update %s: %v", p.ConfigPath, err)
		}
		// Never write something our own loader would reject.
		if check := profiles.ParseConfig(p.ConfigPath, out, env.Getenv); !check.Valid {
			return env.Errorf("internal: the updated config would be invalid: %v", check.Err())
		}
		if err := profiles.Save(p.ConfigPath, out); err != nil {
			return env.Errorf("%v", err)
		}
		rep.ConfigKeys = keys
		if snap.Exists || emptyDoc {
			rep.Backup = p.ConfigPath + ".bak"
			say("Updated %s: set %s (previous version: %s)", p.ConfigPath, strings.Join(keys, ", "), rep.Backup)
		} else {
			rep.Created = append(rep.Created, p.ConfigPath)
			say("Wrote %s", p.ConfigPath)
		}
	} else {
		say("Config OK: %s", p.ConfigPath)
	}
	if tokenNote != "" {
		say("%s", tokenNote)
	}

	// 3. Workspace and sessions dir.
	rep.Workspace = workspace
	rep.SessionsDir = p.SessionsDir("")
	for _, d := range []struct{ label, path string }{{"Workspace", workspace}, {"Sessions", rep.SessionsDir}} {
		created, err := ensureDir(d.path)
		if err != nil {
			return env.Errorf("cannot create the %s dir: %v", strings.ToLower(d.label), err)
		}
		if created {
			rep.Created = append(rep.Created, d.path)
			say("Created %s dir: %s", strings.ToLower(d.label), d.path)
		} else {
			say("%s OK: %s", d.label, d.path)
		}
	}

	rep.Changed = len(rep.Created) > 0 || len(rep.ConfigKeys) > 0
	if *asJSON {
		out, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "Profile: %s\n", rep.Profile)
	for _, l := range lines {
		fmt.Fprintln(env.Stdout, l)
	}
	if rep.Changed {
		fmt.Fprintf(env.Stdout, "Next: run the gateway with '%s' or install it as a service with '%s'.\n",
			env.Hint("clawdbot gateway"), env.Hint("clawdbot gateway install"))
	} else {
		fmt.Fprintln(env.Stdout, "Nothing to do: already set up.")
	}
	return ExitOK
}

// setupPatch computes the merge patch that makes the config complete and the
// dotted keys it sets. It never overwrites a value the user chose, except
// agents.defaults.workspace when --workspace is given.
func setupPatch(snap *profiles.Snapshot, workspace string, workspaceForced bool, getenv func(string) string) (patch []byte, keys []string, tokenNote string, err error) {
	cfg := snap.Config
	var gateway, auth orderedObject
	if cfg.Gateway.Mode == "" {
		gateway = append(gateway, kv{"mode", "local"})
		keys = append(keys, "gateway.mode")
	}
	if !snap.Exists {
		gateway = append(gateway, kv{"bind", "loopback"})
		keys = append(keys, "gateway.bind")
	}
	resolved := cfg.ResolvedAuth(getenv)
	switch {
	case resolved.Mode == profiles.AuthPassword && resolved.Password != "":
		tokenNote = "Auth OK: password mode (password from " + resolved.PasswordSource + ")"
	case resolved.Mode == profiles.AuthPassword:
		// Explicit password mode without a password: the user has to pick it.
		tokenNote = "warning: gateway.auth.mode is password but no password is set; set gateway.auth.password or CLAWDBOT_GATEWAY_PASSWORD"
	case resolved.Token != "" && resolved.TokenSource == "env":
		// A config token would take precedence and silently change the
		// token clients already use, so keep using the env one.
		tokenNote = "Auth OK: token from CLAWDBOT_GATEWAY_TOKEN (not copied into the config)"
	case resolved.Token != "":
		tokenNote = "Auth OK: token in " + snap.Path
	default:
		tok, err := profiles.NewGatewayToken()
		if err != nil {
			return nil, nil, "", err
		}
		if cfg.Gateway.Auth.Mode == "" {
			auth = append(auth, kv{"mode", "token"})
			keys = append(keys, "gateway.auth.mode")
		}
		auth = append(auth, kv{"token", tok})
		keys = append(keys, "gateway.auth.token")
		tokenNote = "Generated a gateway token (gateway.auth.token in " + snap.Path + "); clients need it to connect"
	}
	if len(auth) > 0 {
		gateway = append(gateway, kv{"auth", auth})
	}
	var doc orderedObject
	if len(gateway) > 0 {
		doc = append(doc, kv{"gateway", gateway})
	}
	if cfg.Agents.Defaults.Workspace == "" || workspaceForced {
		doc = append(doc, kv{"agents", orderedObject{{"defaults", orderedObject{{"workspace", workspace}}}}})
		keys = append(keys, "agents.defaults.workspace")
	}
	if len(keys) == 0 {
		return nil, nil, tokenNote, nil
	}
	patch, err = json.Marshal(doc)
	return patch, keys, tokenNote, err
}

// kv and orderedObject build a JSON object whose keys keep their order, so a
// fresh config reads gateway first, as a person would write it.
type kv struct {
	k string
	v any
}

type orderedObject []kv

// MarshalJSON writes the members in order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, err := json.Marshal(m.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		buf = append(append(append(buf, k...), ':'), v...)
	}
	return append(buf, '}'), nil
}

// ensureDir creates dir (and parents) with mode 0700 and reports whether it
// had to. A path that exists but is not a directory is an error.
func ensureDir(dir string) (bool, error) {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return false, fmt.Errorf("%s exists and is not a directory", dir)
		}
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	return true, nil
}

// looseDirWarning warns when the state dir (which holds tokens and keys) is
// open to other users. Setup does not chmod a directory it did not create;
// doctor offers that repair.
func looseDirWarning(dir string) string {
	if runtime.GOOS == "windows" {
		return ""
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %s is accessible by other users (mode %04o); it holds secrets: chmod 700 %s", dir, st.Mode().Perm(), dir)
}

// absPath expands a leading ~ and makes p absolute.
func absPath(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		p = filepath.Join(home, p[2:])
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// printIssues prints a snapshot's issues, one per line, to stderr.
func printIssues(env *Env, snap *profiles.Snapshot) {
	const max = 20
	for i, is := range snap.Issues {
		if i == max {
			fmt.Fprintf(env.Stderr, "... and %d more\n", len(snap.Issues)-max)
			break
		}
		fmt.Fprintf(env.Stderr, "error: %s\n", is)
	}
}

func runConfigPath(env *Env, args []string) int {
	fs := env.FlagSet("config path", "config path")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	p, err := env.ResolveProfile(0)
	if err != nil {
		return env.Errorf("%v", err)
	}
	fmt.Fprintln(env.Stdout, p.ConfigPath)
	return ExitOK
}

// runConfigValidate loads the config and prints every issue and warning
// with its line:column. Exit 0 when valid (warnings allowed), 1 otherwise.
func runConfigValidate(env *Env, args []string) int {
	fs := env.FlagSet("config validate", "config validate [--json]")
	asJSON := fs.Bool("json", false, "print a JSON report")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	p, err := env.ResolveProfile(0)
	if err != nil {
		return env.Errorf("%v", err)
	}
	snap, err := profiles.LoadEnv(p.ConfigPath, env.Getenv)
	if err != nil {
		return env.Errorf("%v", err)
	}
	code := ExitOK
	if !snap.Valid {
		code = ExitFailure
	}
	if *asJSON {
		out, _ := json.MarshalIndent(map[string]any{
			"path": snap.Path, "exists": snap.Exists, "valid": snap.Valid, "hash": snap.Hash,
			"issues": nonNil(snap.Issues), "warnings": nonNil(snap.Warnings),
		}, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
		return code
	}
	printIssues(env, snap)
	for _, w := range snap.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	switch {
	case !snap.Exists:
		fmt.Fprintf(env.Stdout, "No config at %s (create one with '%s')\n", p.ConfigPath, env.Hint("clawdbot setup"))
	case snap.Valid:
		fmt.Fprintf(env.Stdout, "Config OK: %s\n", p.ConfigPath)
	}
	return code
}

func nonNil(is []profiles.Issue) []profiles.Issue {
	if is == nil {
		return []profiles.Issue{}
	}
	return is
}
