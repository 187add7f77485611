package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	home := t.TempDir()
	j := func(p ...string) string { return filepath.Join(append([]string{home}, p...)...) }
	defaultServices := ServiceNames{"com.clawdbot.gateway", "clawdbot-gateway.service", "Clawdbot Gateway"}

	// Config files for the port-precedence cases.
	cfgDir := t.TempDir()
	writeCfg := func(name, content string) string {
		p := filepath.Join(cfgDir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	port20000 := writeCfg("port.json", `{gateway: {port: 20000}}`)
	portButBadEnum := writeCfg("enum.json", `{gateway: {port: 20001, bind: 'nowhere'}}`)
	syntaxErr := writeCfg("syntax.json", `{gateway: {port: 20002,,}}`)
	portZero := writeCfg("zero.json", `{gateway: {port: 0}}`)

	tests := []struct {
		name string
		in   Input
		env  map[string]string
		want Profile // only the fields set are compared (see below)
		err  string
	}{
		{
			name: "default",
			want: Profile{Name: "", StateDir: j(".clawdbot"), ConfigPath: j(".clawdbot", "clawdbot.json"), Workspace: j("clawd"),
				CredentialsDir: j(".clawdbot", "credentials"),
				Ports:          Ports{18789, PortFromDefault, 18791, 18792, 18793, 18800, 18899}, Services: defaultServices},
		},
		{
			name: "--dev",
			in:   Input{Dev: true},
			want: Profile{Name: "dev", StateDir: j(".clawdbot-dev"), ConfigPath: j(".clawdbot-dev", "clawdbot.json"), Workspace: j("clawd-dev"),
				CredentialsDir: j(".clawdbot-dev", "credentials"),
				Ports:          Ports{19001, PortFromDefault, 19003, 19004, 19005, 19012, 19111},
				Services:       ServiceNames{"com.clawdbot.dev", "clawdbot-gateway-dev.service", "Clawdbot Gateway (dev)"}},
		},
		{
			name: "--profile rescue",
			in:   Input{ProfileFlag: "rescue"},
			want: Profile{Name: "rescue", StateDir: j(".clawdbot-rescue"), ConfigPath: j(".clawdbot-rescue", "clawdbot.json"), Workspace: j("clawd-rescue"),
				CredentialsDir: j(".clawdbot-rescue", "credentials"),
				Ports:          Ports{18789, PortFromDefault, 18791, 18792, 18793, 18800, 18899},
				Services:       ServiceNames{"com.clawdbot.rescue", "clawdbot-gateway-rescue.service", "Clawdbot Gateway (rescue)"}},
		},
		{
			name: "--profile keeps case and is trimmed",
			in:   Input{ProfileFlag: " Work_2 "},
			want: Profile{Name: "Work_2", StateDir: j(".clawdbot-Work_2"), Workspace: j("clawd-Work_2"),
				Services: ServiceNames{"com.clawdbot.Work_2", "clawdbot-gateway-Work_2.service", "Clawdbot Gateway (Work_2)"}},
		},
		{
			name: "--profile default is the default profile",
			in:   Input{ProfileFlag: "DEFAULT"},
			want: Profile{Name: "", StateDir: j(".clawdbot"), Workspace: j("clawd"), Services: defaultServices},
		},
		{
			name: "--profile dev --dev tolerated",
			in:   Input{ProfileFlag: "dev", Dev: true},
			want: Profile{Name: "dev", StateDir: j(".clawdbot-dev"), Ports: Ports{19001, PortFromDefault, 19003, 19004, 19005, 19012, 19111}},
		},
		{
			// Unlike the original, an env-only profile moves state and config too (doc/supervision.md §1.3).
			name: "env-only CLAWDBOT_PROFILE moves everything",
			env:  map[string]string{"CLAWDBOT_PROFILE": "work"},
			want: Profile{Name: "work", StateDir: j(".clawdbot-work"), ConfigPath: j(".clawdbot-work", "clawdbot.json"), Workspace: j("clawd-work"),
				CredentialsDir: j(".clawdbot-work", "credentials"),
				Services:       ServiceNames{"com.clawdbot.work", "clawdbot-gateway-work.service", "Clawdbot Gateway (work)"}},
		},
		{
			name: "env CLAWDBOT_PROFILE=dev gets the dev port",
			env:  map[string]string{"CLAWDBOT_PROFILE": "dev"},
			want: Profile{Name: "dev", Ports: Ports{19001, PortFromDefault, 19003, 19004, 19005, 19012, 19111}},
		},
		{
			name: "flag beats env profile",
			in:   Input{ProfileFlag: "rescue"},
			env:  map[string]string{"CLAWDBOT_PROFILE": "work"},
			want: Profile{Name: "rescue", StateDir: j(".clawdbot-rescue")},
		},
		{
			name: "--dev beats env profile",
			in:   Input{Dev: true},
			env:  map[string]string{"CLAWDBOT_PROFILE": "work"},
			want: Profile{Name: "dev", StateDir: j(".clawdbot-dev")},
		},
		{
			name: "explicit state dir wins, config follows it, workspace stays per profile",
			in:   Input{ProfileFlag: "rescue"},
			env:  map[string]string{"CLAWDBOT_STATE_DIR": " ~/custom-state "},
			want: Profile{Name: "rescue", StateDir: j("custom-state"), ConfigPath: j("custom-state", "clawdbot.json"), Workspace: j("clawd-rescue"),
				CredentialsDir: j("custom-state", "credentials")},
		},
		{
			name: "explicit config path and oauth dir",
			env:  map[string]string{"CLAWDBOT_CONFIG_PATH": "~/etc/c.json", "CLAWDBOT_OAUTH_DIR": "~/creds"},
			want: Profile{StateDir: j(".clawdbot"), ConfigPath: j("etc", "c.json"), CredentialsDir: j("creds")},
		},
		{
			name: "home from HOME when Input.Home is empty",
			in:   Input{Home: "-"},
			env:  map[string]string{"HOME": home},
			want: Profile{StateDir: j(".clawdbot")},
		},
		{name: "no home", in: Input{Home: "-"}, err: "cannot find the home directory"},
		{name: "invalid flag name", in: Input{ProfileFlag: "a/b"}, err: `invalid --profile "a/b"`},
		{name: "flag name starting with dash", in: Input{ProfileFlag: "-x"}, err: `invalid --profile`},
		{name: "flag name too long", in: Input{ProfileFlag: strings.Repeat("a", 65)}, err: `invalid --profile`},
		{name: "invalid env name", env: map[string]string{"CLAWDBOT_PROFILE": "my profile"}, err: `invalid CLAWDBOT_PROFILE="my profile"`},
		{name: "dev with another profile", in: Input{Dev: true, ProfileFlag: "rescue"}, err: "Cannot combine --dev with --profile"},

		// Port precedence: --port > CLAWDBOT_GATEWAY_PORT > gateway.port > default.
		{
			name: "port flag beats env and config",
			in:   Input{PortFlag: 30000},
			env:  map[string]string{"CLAWDBOT_GATEWAY_PORT": "31000", "CLAWDBOT_CONFIG_PATH": port20000},
			want: Profile{Ports: Ports{30000, PortFromFlag, 30002, 30003, 30004, 30011, 30110}},
		},
		{
			name: "env port beats config",
			env:  map[string]string{"CLAWDBOT_GATEWAY_PORT": " 31000 ", "CLAWDBOT_CONFIG_PATH": port20000},
			want: Profile{Ports: Ports{31000, PortFromEnv, 31002, 31003, 31004, 31011, 31110}},
		},
		{
			name: "config port beats the dev default",
			in:   Input{Dev: true},
			env:  map[string]string{"CLAWDBOT_CONFIG_PATH": port20000},
			want: Profile{Name: "dev", Ports: Ports{20000, PortFromConfig, 20002, 20003, 20004, 20011, 20110}},
		},
		{
			name: "config invalid elsewhere still gives its port",
			env:  map[string]string{"CLAWDBOT_CONFIG_PATH": portButBadEnum},
			want: Profile{Ports: Ports{20001, PortFromConfig, 20003, 20004, 20005, 20012, 20111}},
		},
		{
			name: "unparsable config falls back to the default",
			env:  map[string]string{"CLAWDBOT_CONFIG_PATH": syntaxErr},
			want: Profile{Ports: Ports{18789, PortFromDefault, 18791, 18792, 18793, 18800, 18899}},
		},
		{
			name: "config port 0 is ignored",
			env:  map[string]string{"CLAWDBOT_CONFIG_PATH": portZero},
			want: Profile{Ports: Ports{18789, PortFromDefault, 18791, 18792, 18793, 18800, 18899}},
		},
		{name: "bad env port", env: map[string]string{"CLAWDBOT_GATEWAY_PORT": "abc"}, err: `invalid CLAWDBOT_GATEWAY_PORT="abc"`},
		{name: "env port zero", env: map[string]string{"CLAWDBOT_GATEWAY_PORT": "0"}, err: `invalid CLAWDBOT_GATEWAY_PORT="0"`},
		{name: "env port too big", env: map[string]string{"CLAWDBOT_GATEWAY_PORT": "65536"}, err: `invalid CLAWDBOT_GATEWAY_PORT="65536"`},
		{name: "bad flag port", in: Input{PortFlag: 70000}, err: "invalid --port 70000"},
		{name: "negative flag port", in: Input{PortFlag: -1}, err: "invalid --port -1"},
		{
			name: "derived ports fall back near the top",
			in:   Input{PortFlag: 65530},
			want: Profile{Ports: Ports{65530, PortFromFlag, 65532, 65533, 65534, 18800, 18899}},
		},

		// Service-name overrides (doc/supervision.md §2.1).
		{
			name: "service name overrides",
			in:   Input{ProfileFlag: "work"},
			env: map[string]string{"CLAWDBOT_LAUNCHD_LABEL": "org.example.gw", "CLAWDBOT_SYSTEMD_UNIT": " my-gw ",
				"CLAWDBOT_WINDOWS_TASK_NAME": "My GW"},
			want: Profile{Name: "work", Services: ServiceNames{"org.example.gw", "my-gw.service", "My GW"}},
		},
		{
			name: "systemd override keeps an existing suffix",
			env:  map[string]string{"CLAWDBOT_SYSTEMD_UNIT": "x.service"},
			want: Profile{Services: ServiceNames{"com.clawdbot.gateway", "x.service", "Clawdbot Gateway"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			switch in.Home {
			case "":
				in.Home = home
			case "-":
				in.Home = ""
			}
			in.Getenv = envMap(tt.env)
			got, err := Resolve(in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Home != home {
				t.Errorf("Home = %q", got.Home)
			}
			// Compare every field the case sets.
			if got.Name != tt.want.Name {
				t.Errorf("Name = %q, want %q", got.Name, tt.want.Name)
			}
			cmp := func(field, g, w string) {
				if w != "" && g != w {
					t.Errorf("%s = %q, want %q", field, g, w)
				}
			}
			cmp("StateDir", got.StateDir, tt.want.StateDir)
			cmp("ConfigPath", got.ConfigPath, tt.want.ConfigPath)
			cmp("Workspace", got.Workspace, tt.want.Workspace)
			cmp("CredentialsDir", got.CredentialsDir, tt.want.CredentialsDir)
			if tt.want.Ports != (Ports{}) && got.Ports != tt.want.Ports {
				t.Errorf("Ports = %+v, want %+v", got.Ports, tt.want.Ports)
			}
			if tt.want.Services != (ServiceNames{}) && got.Services != tt.want.Services {
				t.Errorf("Services = %+v, want %+v", got.Services, tt.want.Services)
			}
			if got.ConfigPath == "" || got.StateDir == "" || got.Workspace == "" || got.Ports.Gateway == 0 {
				t.Errorf("incomplete profile %+v", got)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "rescue": true, "Work_2": true, "a-b": true, "9lives": true, strings.Repeat("x", 64): true,
		"": false, "-a": false, "_a": false, "a b": false, "a.b": false, "a/b": false, "é": false,
		strings.Repeat("x", 65): false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestValidNameMatchesPattern pins the plain-code ValidName to the pattern
// it replaced, on the inputs where the two could part: case folding outside
// ASCII, rune (not byte) lengths, invalid UTF-8, surrounding space.
func TestValidNameMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`(?i)^[a-z0-9][a-z0-9_-]{0,63}$`)
	for _, name := range []string{
		"\u212A", "a\u212A", "\u017Fx", "\u0130", "\u0131", "ß", "K-9", " a ", "\ta\n", "a\n", "a\x00",
		"\xff", "a\xff", "a-", "a_", "0", "-", "_", "Z" + strings.Repeat("\u212A", 63), "Z" + strings.Repeat("\u212A", 64),
		strings.Repeat("é", 3), "a\u00A0", "\u00A0a", strings.Repeat("y", 63) + "-",
	} {
		if got, want := ValidName(name), re.MatchString(strings.TrimSpace(name)); got != want {
			t.Errorf("ValidName(%q) = %v, the pattern says %v", name, got, want)
		}
	}
}

// TestClawdbotEndMatchesPattern pins the plain-code command matcher of
// FormatHint to the pattern it replaced: runners, spacing, near misses.
func TestClawdbotEndMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^(\s*(?:(?:pnpm|npm|bunx|npx)\s+)?clawdbot)(?:\s|$)`)
	for _, cmd := range []string{
		"clawdbot", "clawdbot gateway", "  clawdbot\tdoctor", "clawdbots", "clawdbot-x", "xclawdbot",
		"npx clawdbot", "npx  clawdbot login", "npxclawdbot", "npx", "npx ", "pnpm clawdbot\n", "bunx\fclawdbot",
		"npm clawdbotx", "npm run clawdbot", "yarn clawdbot", "\vclawdbot", "clawdbot\v", "\u00A0clawdbot",
		"pnpmclawdbot", "npm clawdbot\r", "", " ", "Clawdbot", "npx npx clawdbot",
	} {
		want := -1
		if m := re.FindStringSubmatchIndex(cmd); m != nil {
			want = m[3]
		}
		if got := clawdbotEnd(cmd); got != want {
			t.Errorf("clawdbotEnd(%q) = %d, the pattern says %d", cmd, got, want)
		}
	}
}

func TestProfileDirsAndEnv(t *testing.T) {
	p, err := Resolve(Input{ProfileFlag: "rescue", Home: "/h", Getenv: envMap(nil)})
	if err != nil {
		t.Fatal(err)
	}
	sd := filepath.Join("/h", ".clawdbot-rescue")
	for got, want := range map[string]string{
		p.LogDir():         filepath.Join(sd, "logs"),
		p.IdentityDir():    filepath.Join(sd, "identity"),
		p.DevicesDir():     filepath.Join(sd, "devices"),
		p.SessionsDir(""):  filepath.Join(sd, "agents", "main", "sessions"),
		p.SessionsDir("x"): filepath.Join(sd, "agents", "x", "sessions"),
		p.DisplayName():    "rescue",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	wantEnv := []string{"CLAWDBOT_PROFILE=rescue", "CLAWDBOT_STATE_DIR=" + sd, "CLAWDBOT_CONFIG_PATH=" + filepath.Join(sd, "clawdbot.json")}
	if got := p.EnvVars(); !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("EnvVars = %q, want %q", got, wantEnv)
	}
	// The env a service carries resolves to the same profile.
	env := map[string]string{}
	for _, kv := range p.EnvVars() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	again, err := Resolve(Input{Home: "/h", Getenv: envMap(env)})
	if err != nil || again.StateDir != p.StateDir || again.ConfigPath != p.ConfigPath || again.Services != p.Services || again.Workspace != p.Workspace {
		t.Errorf("round trip through EnvVars: %+v, %v", again, err)
	}

	def, _ := Resolve(Input{Home: "/h", Getenv: envMap(nil)})
	if got := def.EnvVars(); len(got) != 2 || strings.HasPrefix(got[0], "CLAWDBOT_PROFILE=") {
		t.Errorf("default EnvVars = %q", got)
	}
	if def.DisplayName() != "default" || def.IsDev() || !def.IsDefault() {
		t.Errorf("default profile predicates wrong")
	}
	if got := def.WorkspaceFor(&Config{Agents: AgentsConfig{Defaults: AgentDefaults{Workspace: "~/ws"}}}); got != filepath.Join("/h", "ws") {
		t.Errorf("WorkspaceFor = %q", got)
	}
	if got := def.WorkspaceFor(nil); got != def.Workspace {
		t.Errorf("WorkspaceFor(nil) = %q", got)
	}
}

func TestFormatHint(t *testing.T) {
	tests := []struct{ profile, cmd, want string }{
		{"", "clawdbot doctor --fix", "clawdbot doctor --fix"},
		{"default", "clawdbot doctor", "clawdbot doctor"},
		{"work", "clawdbot doctor --fix", "clawdbot --profile work doctor --fix"},
		{"dev", "clawdbot gateway stop", "clawdbot --dev gateway stop"},
		{"DEV", "clawdbot gateway stop", "clawdbot --dev gateway stop"},
		{"work", "clawdbot", "clawdbot --profile work"},
		{"work", "npx clawdbot gateway install", "npx clawdbot --profile work gateway install"},
		{"work", "pnpm  clawdbot status", "pnpm  clawdbot --profile work status"},
		{"work", "clawdbot --profile work doctor", "clawdbot --profile work doctor"},
		{"work", "clawdbot --profile=other doctor", "clawdbot --profile=other doctor"},
		{"work", "clawdbot --dev doctor", "clawdbot --dev doctor"},
		// A --dev after the command word is the gateway's own flag, not the profile.
		{"work", "clawdbot gateway --dev", "clawdbot --profile work gateway --dev"},
		{"work", "systemctl --user restart x", "systemctl --user restart x"},
		{"work", "clawdbotx doctor", "clawdbotx doctor"},
		{"bad name", "clawdbot doctor", "clawdbot doctor"},
	}
	for _, tt := range tests {
		if got := FormatHint(tt.profile, tt.cmd); got != tt.want {
			t.Errorf("FormatHint(%q, %q) = %q, want %q", tt.profile, tt.cmd, got, tt.want)
		}
	}
	p := Profile{Name: "rescue"}
	if got := p.Hint("clawdbot gateway install"); got != "clawdbot --profile rescue gateway install" {
		t.Errorf("Profile.Hint = %q", got)
	}
}
