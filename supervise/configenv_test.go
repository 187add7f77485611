package supervise

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/profiles"
)

// testConfigEnv is a config env section with plain variables, secrets,
// ours and a value no definition can carry.
var testConfigEnv = map[string]string{
	"OLLAMA_HOST": "http://127.0.0.1:11434", "TZ": "Europe/Berlin", "LANG": "de_DE.UTF-8",
	"OPENAI_API_KEY": "sk-1", "GITHUB_TOKEN": "ghp", "DB_PASSWORD": "pw", "BASIC_AUTH": "u:p",
	"AWS_SECRET_ACCESS_KEY": "s", "GOOGLE_APPLICATION_CREDENTIALS": "/k.json",
	"HOME": "/elsewhere", "CLAWDBOT_STATE_DIR": "/other", "MULTI": "a\nb", "EMPTY": "",
}

// Only non-secret config variables go into a definition; secret-looking
// names, our own variables and uncarriable values are withheld.
func TestServiceEnv(t *testing.T) {
	kept, withheld := ServiceEnv(testConfigEnv)
	wantKept := map[string]string{"OLLAMA_HOST": "http://127.0.0.1:11434", "TZ": "Europe/Berlin", "LANG": "de_DE.UTF-8"}
	if !reflect.DeepEqual(kept, wantKept) {
		t.Errorf("kept = %v, want %v", kept, wantKept)
	}
	wantWithheld := []string{"AWS_SECRET_ACCESS_KEY", "BASIC_AUTH", "CLAWDBOT_STATE_DIR", "DB_PASSWORD", "GITHUB_TOKEN",
		"GOOGLE_APPLICATION_CREDENTIALS", "HOME", "MULTI", "OPENAI_API_KEY"}
	if !reflect.DeepEqual(withheld, wantWithheld) {
		t.Errorf("withheld = %v, want %v", withheld, wantWithheld)
	}
}

// envSpec is testSpec with the config env section.
func envSpec(t *testing.T, pl Platform, scope Scope) Spec {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clawdbot")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := Options{Platform: pl, Scope: scope, Version: "2026.1.24", ConfigEnv: testConfigEnv}
	if scope == ScopeSystem {
		opts.User = "alice"
	}
	s, err := SpecFor(testProfile(t, "default"), bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Program = testBinary
	return s
}

// With env.vars set, the definition carries the plain variables and names
// them in CLAWDBOT_SERVICE_CONFIG_ENV, never a secret, and our own values
// win (goldens testdata/render/*-env.*; without env.vars the goldens are
// the ones TestRenderGolden checks, unchanged).
func TestRenderGoldenWithConfigEnv(t *testing.T) {
	for _, c := range []struct {
		file  string
		pl    Platform
		scope Scope
	}{
		{"systemd-user-env.service", Systemd, ScopeUser},
		{"launchd-user-env.plist", Launchd, ScopeUser},
		{"windows-env.json", Windows, ScopeSystem},
	} {
		t.Run(c.file, func(t *testing.T) {
			s := envSpec(t, c.pl, c.scope)
			if s.Env[profiles.EnvServiceConfigVars] != "LANG,OLLAMA_HOST,TZ" || s.Env["TZ"] != "Europe/Berlin" || s.Env["HOME"] != "/home/alice" {
				t.Errorf("env = %v", s.Env)
			}
			got, err := Render(s)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.file, got)
			for _, secret := range []string{"sk-1", "ghp", "OPENAI_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "/other", "/elsewhere"} {
				if strings.Contains(string(got), secret) {
					t.Errorf("%s carries %q", c.file, secret)
				}
			}
			back, err := Parse(c.pl, got)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("Parse(Render(spec)) != spec\n got %+v\nwant %+v", back, s)
			}
		})
	}
}
