package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/profiles"
)

// The first screen names the auth mode and its source (never the secret),
// the call command with the user's profile flags and whatever else the CLI
// would need to find this gateway, and how to stop it.
func TestGatewayFirstScreen(t *testing.T) {
	const cfgToken = "config-token-0123456789"
	tests := []struct {
		name   string
		global []string // global flags: --dev, --profile
		config string   // "" = none
		vars   map[string]string
		flags  GatewayFlags
		bind   string
		want   []string
		not    []string
	}{
		{name: "make run: dev, unconfigured", global: []string{"--dev"}, flags: GatewayFlags{AllowUnconfigured: true},
			want: []string{"Auth:  none: any local client may connect (loopback only; 'clawdbot --dev setup' adds a token)\n",
				"UI:    http://127.0.0.1:19001/\n", "Try:   clawdbot --dev gateway call health\n", "Stop:  Ctrl-C\n"}},
		{name: "token from config", global: []string{"--profile", "work"}, config: `{gateway: {mode: "local", auth: {token: "` + cfgToken + `"}}}`,
			want: []string{"Auth:  token (gateway.auth.token in ", "Try:   clawdbot --profile work gateway call health\n"},
			not:  []string{cfgToken}},
		{name: "token from env", vars: map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "env-token-0123456789"}, config: `{gateway: {mode: "local"}}`,
			want: []string{"Auth:  token (CLAWDBOT_GATEWAY_TOKEN)\n", "UI:    http://127.0.0.1:18789/ (the page asks for the gateway token once)\n", "Try:   clawdbot gateway call health\n"}},
		{name: "control ui under a base path", config: `{gateway: {mode: "local", auth: {token: "` + cfgToken + `"}, controlUi: {basePath: "/cb"}}}`,
			want: []string{"UI:    http://127.0.0.1:18789/cb/ (the page asks"}, not: []string{cfgToken}},
		{name: "control ui off", config: `{gateway: {mode: "local", auth: {token: "` + cfgToken + `"}, controlUi: {enabled: false}}}`,
			not: []string{"UI:"}},
		{name: "token only on the command line", flags: GatewayFlags{Token: "flag-token-0123456789", AllowUnconfigured: true},
			want: []string{"Auth:  token (--token)\n", "Try:   clawdbot gateway call health --token <the token given to this gateway>\n"},
			not:  []string{"flag-token"}},
		{name: "password on the command line", flags: GatewayFlags{Password: "pw-0123456789", AllowUnconfigured: true},
			want: []string{"Auth:  password (--password)\n", "--password <the password given to this gateway>\n"}},
		{name: "--port the config does not have", global: []string{"--dev"}, flags: GatewayFlags{Port: 19555, AllowUnconfigured: true},
			want: []string{"Try:   clawdbot --dev gateway call health --url ws://127.0.0.1:19555\n"}},
		{name: "lan bind is reached on loopback", config: `{gateway: {mode: "local", auth: {token: "` + cfgToken + `"}}}`, bind: "0.0.0.0",
			want: []string{"Try:   clawdbot gateway call health\n"}},
		{name: "run by a service", vars: map[string]string{"CLAWDBOT_SERVICE_MARKER": "clawdbot"}, global: []string{"--profile", "work"}, flags: GatewayFlags{AllowUnconfigured: true},
			want: []string{"Stop:  clawdbot --profile work gateway stop (it runs as a service)\n"}, not: []string{"Ctrl-C"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			env, _, _ := testEnv(home, tt.vars)
			if _, _, ok := parseGlobal(append(tt.global, "x"), env); !ok {
				t.Fatal("global flags")
			}
			prof, err := env.ResolveProfile(tt.flags.Port)
			if err != nil {
				t.Fatal(err)
			}
			cfg := &profiles.Config{}
			if tt.config != "" {
				os.MkdirAll(filepath.Dir(prof.ConfigPath), 0o700)
				os.WriteFile(prof.ConfigPath, []byte(tt.config), 0o600)
				snap, err := profiles.LoadEnv(prof.ConfigPath, env.Getenv)
				if err != nil || !snap.Valid {
					t.Fatalf("config: %v %v", err, snap.Err())
				}
				cfg = snap.Config
			}
			rc, host, err := GatewayRuntime(env, prof, cfg, tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			if tt.bind != "" {
				host = tt.bind
			}
			var out bytes.Buffer
			b := newGatewayBanner(env, prof, cfg, tt.flags, rc.Auth, host)
			b.write(&out, &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: prof.Ports.Gateway})
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("first screen lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range append(tt.not, "Dashboard") {
				if strings.Contains(out.String(), n) {
					t.Errorf("first screen has %q:\n%s", n, out.String())
				}
			}
			if rc.Auth.Mode == gateway.AuthNone && !strings.Contains(out.String(), "Auth:  none") {
				t.Errorf("auth none not named:\n%s", out.String())
			}
		})
	}
}

// gateway status --url names only the URL it probed: the config's bind and
// port say nothing about it. And no Dashboard line while there is no UI.
func TestGatewayStatusTextURLAndNoDashboard(t *testing.T) {
	f := newStatusFixture(t)
	other := freeLoopbackPort(t)
	url := "ws://127.0.0.1:" + strconv.Itoa(other)
	Main([]string{"gateway", "status", "--url", url, "--timeout", "500"}, f.env)
	var target string
	for _, l := range strings.Split(f.out.String(), "\n") {
		if strings.HasPrefix(l, "Probe target") {
			target = l
		}
	}
	if !strings.HasSuffix(target, url+" (--url)") || strings.Contains(target, strconv.Itoa(f.port)) {
		t.Errorf("probe target line %q, want only %s (--url):\n%s", target, url, f.out)
	}
	f.out.Reset()
	Main([]string{"gateway", "status", "--timeout", "500"}, f.env)
	if strings.Contains("\n"+f.out.String(), "\nDashboard") {
		t.Errorf("Dashboard line without a browser UI:\n%s", f.out)
	}
	if !strings.Contains(f.out.String(), "port "+strconv.Itoa(f.port)) {
		t.Errorf("without --url the probe target names the config's port:\n%s", f.out)
	}
}
