package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/profiles"
)

// Test-only commands. Their paths start with "zz" so they cannot collide with
// real commands registered by other files of this package.
func init() {
	Register(&Command{Path: "zzecho", Summary: "test: echo globals, flags and args", Hidden: true, Run: func(env *Env, args []string) int {
		fs := env.FlagSet("zzecho", "zzecho [--dev] [--n N] [args]")
		dev := fs.Bool("dev", false, "the command's own --dev")
		n := fs.Int("n", 0, "a number")
		if code, ok := env.Parse(fs, args, -1); !ok {
			return code
		}
		fmt.Fprintf(env.Stdout, "globalDev=%v profile=%q name=%q cmdDev=%v n=%d args=%q noColor=%v\n",
			env.Dev, env.ProfileFlag, env.ProfileName(), *dev, *n, fs.Args(), env.NoColor)
		return ExitOK
	}})
	Register(&Command{Path: "zzgroup sub", Summary: "test: a command inside a group", Run: func(env *Env, args []string) int {
		fmt.Fprintf(env.Stdout, "sub args=%q\n", args)
		return ExitOK
	}})
	Register(&Command{Path: "zzpanic", Hidden: true, Run: func(env *Env, args []string) int { panic("boom") }})
}

// testEnv is an Env on buffers with a map environment and home.
func testEnv(home string, vars map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	all := map[string]string{"HOME": home}
	for k, v := range vars {
		all[k] = v
	}
	return &Env{
		Stdout: &out, Stderr: &errb, Home: home,
		Getenv: func(k string) string { return all[k] },
	}, &out, &errb
}

func TestMainDispatch(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		code    int
		stdout  string // substring
		stderr  string // substring
		noStdio bool   // stdout must be empty
	}{
		{name: "--dev", args: []string{"--dev", "zzecho"}, stdout: `globalDev=true profile="" name="dev" cmdDev=false`},
		{name: "--profile NAME", args: []string{"--profile", "rescue", "zzecho"}, stdout: `globalDev=false profile="rescue" name="rescue"`},
		{name: "--profile=NAME", args: []string{"--profile=x", "zzecho"}, stdout: `profile="x" name="x"`},
		{name: "--profile value is trimmed", args: []string{"--profile", " work ", "zzecho"}, stdout: `profile="work"`},
		{name: "env profile shows in ProfileName", args: []string{"zzecho"}, env: map[string]string{"CLAWDBOT_PROFILE": "work"}, stdout: `profile="" name="work"`},
		{name: "--profile dev then --dev tolerated", args: []string{"--profile", "dev", "--dev", "zzecho"}, stdout: `globalDev=true profile="" name="dev"`},
		{name: "--dev then --profile", args: []string{"--dev", "--profile", "x", "zzecho"}, code: 2, stderr: "error: Cannot combine --dev with --profile", noStdio: true},
		{name: "--profile then --dev", args: []string{"--profile", "x", "--dev", "zzecho"}, code: 2, stderr: "error: Cannot combine --dev with --profile", noStdio: true},
		{name: "--dev then --profile dev", args: []string{"--dev", "--profile=dev", "zzecho"}, code: 2, stderr: "Cannot combine --dev with --profile"},
		{name: "invalid name", args: []string{"--profile", "a/b", "zzecho"}, code: 2, stderr: `error: Invalid --profile (use letters, numbers, "_", "-" only)`},
		{name: "invalid name with space", args: []string{"--profile=my profile", "zzecho"}, code: 2, stderr: "Invalid --profile"},
		{name: "name too long", args: []string{"--profile", strings.Repeat("a", 65), "zzecho"}, code: 2, stderr: "Invalid --profile"},
		{name: "missing value", args: []string{"--profile"}, code: 2, stderr: "error: --profile requires a value"},
		{name: "flag as value", args: []string{"--profile", "--dev", "zzecho"}, code: 2, stderr: "--profile requires a value"},
		{name: "empty value", args: []string{"--profile=", "zzecho"}, code: 2, stderr: "--profile requires a value"},
		{name: "unknown command", args: []string{"nope"}, code: 2, stderr: "error: unknown command \"nope\"\nhint: see 'clawdbot --help'\n", noStdio: true},
		{name: "unknown command hint keeps profile", args: []string{"--profile", "work", "nope", "--x"}, code: 2, stderr: `hint: see 'clawdbot --profile work --help'`},
		{name: "unknown global flag", args: []string{"--bogus", "zzecho"}, code: 2, stderr: "unknown global flag --bogus"},
		{name: "unknown command flag", args: []string{"zzecho", "--bogus"}, code: 2, stderr: "error: zzecho: unknown flag: --bogus\nhint: see 'clawdbot zzecho --help'\n", noStdio: true},
		{name: "bad command flag value", args: []string{"zzecho", "--n", "x"}, code: 2, stderr: `invalid argument "x"`},
		{name: "flags after the command are the command's", args: []string{"zzecho", "--dev", "--n", "3", "a", "b"}, stdout: `globalDev=false profile="" name="" cmdDev=true n=3 args=["a" "b"]`},
		{name: "profile flag after the command is not global", args: []string{"zzecho", "--profile", "x"}, code: 2, stderr: "unknown flag: --profile"},
		{name: "root --help", args: []string{"--help"}, stdout: "Usage: clawdbot [--dev | --profile NAME] <command>"},
		{name: "root -h", args: []string{"-h"}, stdout: "Global flags"},
		{name: "no args prints help", args: nil, stdout: "Commands:"},
		{name: "help lists groups", args: []string{"--help"}, stdout: "zzgroup      (sub)"},
		{name: "help hides hidden commands", args: []string{"help"}, stdout: "version"},
		{name: "command --help", args: []string{"zzecho", "--help"}, stdout: "Usage: clawdbot zzecho [--dev] [--n N] [args]"},
		{name: "command -h", args: []string{"zzecho", "-h"}, stdout: "--n int"},
		{name: "help command", args: []string{"help", "zzecho"}, stdout: "Usage: clawdbot zzecho"},
		{name: "help unknown", args: []string{"help", "nope"}, code: 2, stderr: `unknown command "nope"`},
		{name: "bare group prints its help", args: []string{"zzgroup"}, stdout: "zzgroup sub"},
		{name: "group --help", args: []string{"zzgroup", "--help"}, stdout: "Usage: clawdbot zzgroup <command>"},
		{name: "help group", args: []string{"help", "zzgroup"}, stdout: "zzgroup sub"},
		{name: "unknown subcommand", args: []string{"zzgroup", "nope"}, code: 2, stderr: "error: unknown command \"zzgroup nope\"\nhint: see 'clawdbot zzgroup --help'"},
		{name: "subcommand gets the rest", args: []string{"--dev", "zzgroup", "sub", "a", "--x"}, stdout: `sub args=["a" "--x"]`},
		{name: "-- ends global flags", args: []string{"--dev", "--", "zzecho", "z"}, stdout: `globalDev=true profile="" name="dev" cmdDev=false n=0 args=["z"]`},
		{name: "flag after -- is not a command", args: []string{"--", "--x"}, code: 2, stderr: `unknown command "--x"`},
		{name: "--no-color tolerated", args: []string{"--no-color", "zzecho"}, stdout: "noColor=true"},
		{name: "-V", args: []string{"-V"}, stdout: Version + "\n"},
		{name: "version", args: []string{"version"}, stdout: "clawdbot " + Version + " (commit "},
		{name: "version has go version", args: []string{"version"}, stdout: runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"},
		{name: "version takes no args", args: []string{"version", "x"}, code: 2, stderr: `unexpected argument "x"`},
		{name: "panic is an internal error", args: []string{"zzpanic"}, code: 1, stderr: "error: internal error: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out, errb := testEnv(t.TempDir(), tt.env)
			code := Main(tt.args, env)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errb)
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout %q does not contain %q", out, tt.stdout)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errb, tt.stderr)
			}
			if tt.noStdio && out.Len() > 0 {
				t.Errorf("stdout should be empty, got %q", out)
			}
			if tt.code == ExitOK && errb.Len() > 0 {
				t.Errorf("unexpected stderr on success: %q", errb)
			}
			if n := strings.Count(out.String(), "Usage:"); n > 1 {
				t.Errorf("usage printed %d times:\n%s", n, out)
			}
		})
	}
}

func TestMainNilEnvFields(t *testing.T) {
	// A bare Env (no streams, no Getenv) must not crash the dispatcher.
	if code := Main([]string{"zzecho"}, &Env{}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
}

func TestVersionJSON(t *testing.T) {
	env, out, _ := testEnv(t.TempDir(), nil)
	if code := Main([]string{"version", "--json"}, env); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var b BuildInfo
	if err := json.Unmarshal(out.Bytes(), &b); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out)
	}
	if b.Version != Version || b.Go != runtime.Version() || b.OS != runtime.GOOS || b.Arch != runtime.GOARCH {
		t.Errorf("build info %+v", b)
	}
	// -ldflags -X sets these package variables; emulate it.
	oldV, oldC := Version, Commit
	t.Cleanup(func() { Version, Commit = oldV, oldC })
	Version, Commit = "2026.1.24", "abc1234"
	if got := Build(); got.Version != "2026.1.24" || got.Commit != "abc1234" {
		t.Errorf("Build() = %+v", got)
	}
}

func TestEnvHint(t *testing.T) {
	tests := []struct {
		env  Env
		vars map[string]string
		want string
	}{
		{Env{}, nil, "clawdbot doctor --fix"},
		{Env{Dev: true}, nil, "clawdbot --dev doctor --fix"},
		{Env{ProfileFlag: "rescue"}, nil, "clawdbot --profile rescue doctor --fix"},
		{Env{}, map[string]string{"CLAWDBOT_PROFILE": "work"}, "clawdbot --profile work doctor --fix"},
		{Env{ProfileFlag: "rescue"}, map[string]string{"CLAWDBOT_PROFILE": "work"}, "clawdbot --profile rescue doctor --fix"},
		{Env{}, map[string]string{"CLAWDBOT_PROFILE": "default"}, "clawdbot doctor --fix"},
	}
	for _, tt := range tests {
		e := tt.env
		e.Getenv = func(k string) string { return tt.vars[k] }
		if got := e.Hint("clawdbot doctor --fix"); got != tt.want {
			t.Errorf("%+v %v: Hint = %q, want %q", tt.env, tt.vars, got, tt.want)
		}
	}
	if got := FormatHint("work", "npx clawdbot status"); got != "npx clawdbot --profile work status" {
		t.Errorf("FormatHint = %q", got)
	}
}

var hexToken = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestSetupFresh(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		state, ws string // relative to home
	}{
		{"default", []string{"setup"}, ".clawdbot", "clawd"},
		{"dev", []string{"--dev", "setup"}, ".clawdbot-dev", "clawd-dev"},
		{"rescue", []string{"--profile", "rescue", "setup"}, ".clawdbot-rescue", "clawd-rescue"},
		{"workspace flag", []string{"setup", "--workspace", "~/elsewhere"}, ".clawdbot", "elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			env, out, errb := testEnv(home, nil)
			if code := Main(tt.args, env); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errb)
			}
			state := filepath.Join(home, tt.state)
			cfgPath := filepath.Join(state, "clawdbot.json")
			ws := filepath.Join(home, tt.ws)
			for _, want := range []string{"Created state dir: " + state, "Wrote " + cfgPath, "Created workspace dir: " + ws, "Generated a gateway token"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			snap, err := profiles.Load(cfgPath)
			if err != nil || !snap.Valid {
				t.Fatalf("config not valid: %v %v", err, snap.Issues)
			}
			c := snap.Config
			if c.Gateway.Mode != "local" || c.Gateway.Bind != "loopback" || c.Gateway.Auth.Mode != "token" ||
				!hexToken.MatchString(c.Gateway.Auth.Token) || c.Agents.Defaults.Workspace != ws {
				t.Errorf("config = %+v", c)
			}
			if len(snap.Warnings) > 0 {
				t.Errorf("warnings on a fresh config: %v", snap.Warnings)
			}
			for _, d := range []string{state, ws, filepath.Join(state, "agents", "main", "sessions")} {
				st, err := os.Stat(d)
				if err != nil || !st.IsDir() {
					t.Errorf("%s not created", d)
				} else if runtime.GOOS != "windows" && st.Mode().Perm() != 0o700 {
					t.Errorf("%s mode %o", d, st.Mode().Perm())
				}
			}
			if st, _ := os.Stat(cfgPath); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
				t.Errorf("config mode %o", st.Mode().Perm())
			}
			before, _ := os.ReadFile(cfgPath)
			stBefore, _ := os.Stat(cfgPath)

			// Second run: nothing changes and it says so.
			env2, out2, errb2 := testEnv(home, nil)
			if code := Main(tt.args, env2); code != ExitOK {
				t.Fatalf("second run exit %d: %s", code, errb2)
			}
			for _, want := range []string{"State dir OK: " + state, "Config OK: " + cfgPath, "Workspace OK: " + ws, "Sessions OK: ", "Nothing to do"} {
				if !strings.Contains(out2.String(), want) {
					t.Errorf("second run output lacks %q:\n%s", want, out2)
				}
			}
			after, _ := os.ReadFile(cfgPath)
			stAfter, _ := os.Stat(cfgPath)
			if !bytes.Equal(before, after) || !stAfter.ModTime().Equal(stBefore.ModTime()) {
				t.Errorf("second run rewrote the config")
			}
			if _, err := os.Stat(cfgPath + ".bak"); !os.IsNotExist(err) {
				t.Errorf("second run made a .bak")
			}
		})
	}
}

func TestSetupExistingConfig(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		vars     map[string]string
		code     int
		stdout   []string
		stderr   string
		check    func(t *testing.T, c *profiles.Config, parsed map[string]any)
		untouchd bool // the file must stay byte-identical
	}{
		{
			name:   "adds a token, keeps user values and unknown sections",
			config: "// mine\n{\n  gateway: {mode: 'remote', port: 20000},\n  models: {providers: {x: {}}},\n}\n",
			stdout: []string{"Updated ", "set gateway.auth.mode, gateway.auth.token, agents.defaults.workspace", "previous version: "},
			check: func(t *testing.T, c *profiles.Config, parsed map[string]any) {
				if c.Gateway.Mode != "remote" || c.Gateway.Port != 20000 || c.Gateway.Bind != "" || !hexToken.MatchString(c.Gateway.Auth.Token) {
					t.Errorf("config = %+v", c.Gateway)
				}
				if _, ok := parsed["models"]; !ok {
					t.Errorf("models section dropped")
				}
			},
		},
		{
			name:     "env token is not copied into the config",
			config:   `{gateway: {mode: 'local'}, agents: {defaults: {workspace: '~/ws-x'}}}`,
			vars:     map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "from-env"},
			stdout:   []string{"Config OK: ", "Auth OK: token from CLAWDBOT_GATEWAY_TOKEN", "Created workspace dir: "},
			untouchd: true,
		},
		{
			name:     "password mode is left alone",
			config:   `{gateway: {mode: 'local', auth: {mode: 'password', password: 'pw'}}, agents: {defaults: {workspace: '~/ws-y'}}}`,
			stdout:   []string{"Config OK: ", "Auth OK: password mode (password from config)"},
			untouchd: true,
		},
		{
			name:   "token mode without a token gets one",
			config: `{gateway: {mode: 'local', auth: {mode: 'token'}}, agents: {defaults: {workspace: '~/ws-z'}}}`,
			stdout: []string{"set gateway.auth.token (previous"},
			check: func(t *testing.T, c *profiles.Config, _ map[string]any) {
				if c.Gateway.Auth.Mode != "token" || !hexToken.MatchString(c.Gateway.Auth.Token) {
					t.Errorf("auth = %+v", c.Gateway.Auth)
				}
			},
		},
		{
			name:     "wrong type is reported with line:column",
			config:   "{\n  gateway: {\n    port: 'abc',\n  },\n}\n",
			code:     1,
			stderr:   `clawdbot.json:3:11: gateway.port: expected integer, got string "abc"`,
			untouchd: true,
		},
		{
			name:     "syntax error is reported with line:column",
			config:   "{\n  gateway: {mode: 'local'\n  agents: {},\n}\n",
			code:     1,
			stderr:   `clawdbot.json:3:3: syntax error: expected ',' or '}'`,
			untouchd: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			state := filepath.Join(home, ".clawdbot")
			cfgPath := filepath.Join(state, "clawdbot.json")
			os.MkdirAll(state, 0o700)
			os.WriteFile(cfgPath, []byte(tt.config), 0o600)
			env, out, errb := testEnv(home, tt.vars)
			code := Main([]string{"setup"}, env)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.code, out, errb)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errb)
			}
			got, _ := os.ReadFile(cfgPath)
			if tt.untouchd {
				if string(got) != tt.config {
					t.Errorf("config rewritten:\n%s", got)
				}
				if _, err := os.Stat(cfgPath + ".bak"); !os.IsNotExist(err) {
					t.Errorf(".bak written for an untouched config")
				}
			}
			if tt.check != nil {
				snap, err := profiles.Load(cfgPath)
				if err != nil || !snap.Valid {
					t.Fatalf("result invalid: %v %v", err, snap.Issues)
				}
				tt.check(t, snap.Config, snap.Parsed)
				if bak, _ := os.ReadFile(cfgPath + ".bak"); string(bak) != tt.config {
					t.Errorf(".bak = %q, want the original", bak)
				}
			}
		})
	}
}

func TestSetupWorkspaceFlag(t *testing.T) {
	home := t.TempDir()
	cfgPath := filepath.Join(home, ".clawdbot", "clawdbot.json")
	os.MkdirAll(filepath.Dir(cfgPath), 0o700)
	orig := `{gateway: {mode: 'local', auth: {token: 't'}}, agents: {defaults: {workspace: '~/ws'}}}`
	os.WriteFile(cfgPath, []byte(orig), 0o600)

	// The same directory spelled differently changes nothing.
	env, out, errb := testEnv(home, nil)
	if code := Main([]string{"setup", "--workspace", filepath.Join(home, "ws")}, env); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if b, _ := os.ReadFile(cfgPath); string(b) != orig || !strings.Contains(out.String(), "Config OK") {
		t.Errorf("config rewritten for the same workspace:\n%s\n%s", b, out)
	}

	// Another directory is written into the config and created.
	env, out, errb = testEnv(home, nil)
	if code := Main([]string{"setup", "--workspace", "~/other"}, env); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	snap, _ := profiles.Load(cfgPath)
	if snap.Config.Agents.Defaults.Workspace != filepath.Join(home, "other") || snap.Config.Gateway.Auth.Token != "t" {
		t.Errorf("config after --workspace: %+v", snap.Config)
	}
	if st, err := os.Stat(filepath.Join(home, "other")); err != nil || !st.IsDir() {
		t.Errorf("workspace not created")
	}
	if !strings.Contains(out.String(), "set agents.defaults.workspace") {
		t.Errorf("output: %s", out)
	}
}

func TestSetupJSON(t *testing.T) {
	home := t.TempDir()
	env, out, errb := testEnv(home, nil)
	if code := Main([]string{"--profile", "rescue", "setup", "--json"}, env); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var rep setupReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Profile != "rescue" || !rep.Changed || len(rep.Created) != 4 || rep.ConfigPath != filepath.Join(home, ".clawdbot-rescue", "clawdbot.json") {
		t.Errorf("report %+v", rep)
	}
}

func TestConfigCommands(t *testing.T) {
	home := t.TempDir()
	cfgPath := filepath.Join(home, ".clawdbot-work", "clawdbot.json")

	env, out, _ := testEnv(home, nil)
	if code := Main([]string{"--profile", "work", "config", "path"}, env); code != ExitOK || out.String() != cfgPath+"\n" {
		t.Errorf("config path: %d %q", code, out)
	}

	env, out, _ = testEnv(home, nil)
	if code := Main([]string{"--profile", "work", "config", "validate"}, env); code != ExitOK || !strings.Contains(out.String(), "No config at") ||
		!strings.Contains(out.String(), "clawdbot --profile work setup") {
		t.Errorf("validate missing: %d %q", code, out)
	}

	os.MkdirAll(filepath.Dir(cfgPath), 0o700)
	os.WriteFile(cfgPath, []byte("{gateway: {bind: 'lan', prot: 1}}"), 0o600)
	env, out, errb := testEnv(home, nil)
	if code := Main([]string{"--profile", "work", "config", "validate"}, env); code != ExitOK ||
		!strings.Contains(out.String(), "Config OK") || !strings.Contains(errb.String(), "warning: "+cfgPath+":1:25: gateway.prot: unknown key") {
		t.Errorf("validate with warning: %d %q %q", code, out, errb)
	}

	os.WriteFile(cfgPath, []byte("{gateway: {bind: 'moon'}}"), 0o600)
	env, out, errb = testEnv(home, map[string]string{"CLAWDBOT_PROFILE": "work"})
	if code := Main([]string{"config", "validate"}, env); code != ExitFailure ||
		!strings.Contains(errb.String(), "error: "+cfgPath+`:1:18: gateway.bind: invalid value "moon"`) {
		t.Errorf("validate invalid: %d %q %q", code, out, errb)
	}

	env, out, _ = testEnv(home, map[string]string{"CLAWDBOT_PROFILE": "work"})
	if code := Main([]string{"config", "validate", "--json"}, env); code != ExitFailure {
		t.Errorf("validate --json exit %d", code)
	}
	var rep struct {
		Valid  bool             `json:"valid"`
		Issues []profiles.Issue `json:"issues"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Valid || len(rep.Issues) != 1 || rep.Issues[0].Line != 1 || rep.Issues[0].Column != 18 {
		t.Errorf("validate --json: %v %+v", err, rep)
	}
}

func TestGatewayConfigErrorsNameTheProfile(t *testing.T) {
	home := t.TempDir()
	env, _, errb := testEnv(home, nil)
	if code := Main([]string{"--profile", "rescue", "gateway"}, env); code != ExitConfig ||
		!strings.Contains(errb.String(), "Run 'clawdbot --profile rescue setup'") {
		t.Fatalf("exit %d, stderr %q: want 78 and the profile's setup command", code, errb)
	}
	cfg := filepath.Join(home, ".clawdbot-dev", "clawdbot.json")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte(`{gateway: {port: "x"}}`), 0o600)
	env, _, errb = testEnv(home, nil)
	if code := Main([]string{"--dev", "gateway"}, env); code != ExitConfig ||
		!strings.Contains(errb.String(), cfg+":1:18: gateway.port") || !strings.Contains(errb.String(), "'clawdbot --dev config validate'") {
		t.Fatalf("exit %d, stderr %q: want 78, the key path with line:column and the dev hint", code, errb)
	}
}
