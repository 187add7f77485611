package supervise

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func codes(fs []Finding) []string {
	var c []string
	for _, f := range fs {
		c = append(c, f.Code)
	}
	return c
}

func TestAuditCleanInstallHasNoFindings(t *testing.T) {
	for _, pl := range []Platform{Launchd, Systemd, Windows} {
		s := testSpec(t, "dev", pl, ScopeUser)
		s.Program = "/bin/sh" // exists
		if got := Audit(s, s); len(got) != 0 {
			t.Errorf("%s: findings on an identical spec: %+v", pl, got)
		}
	}
}

func TestAuditDrift(t *testing.T) {
	want := testSpec(t, "dev", Systemd, ScopeUser)
	want.Program = "/bin/sh"
	cases := []struct {
		name  string
		edit  func(*Spec)
		codes []string
	}{
		{"no gateway arg", func(s *Spec) { s.Args = []string{"run"} }, []string{CodeCommandMissing, CodeArgsMismatch}},
		{"marker missing", func(s *Spec) { delete(s.Env, EnvMarker) }, []string{CodeMarkerMissing}},
		{"older version", func(s *Spec) { s.Env[EnvVersion] = "2026.1.9" }, []string{CodeVersionOld}},
		{"newer version is fine", func(s *Spec) { s.Env[EnvVersion] = "2026.2.1" }, nil},
		{"binary missing", func(s *Spec) { s.Program = "/nonexistent/clawdbot" }, []string{CodeBinaryMissing}},
		{"other binary", func(s *Spec) { s.Program = "/bin/true" }, []string{CodeBinaryMismatch}},
		{"bun", func(s *Spec) { s.Program = "/nonexistent/bun" }, []string{CodeRuntimeBun, CodeBinaryMissing}},
		{"nvm node", func(s *Spec) { s.Program = "/home/a/.nvm/versions/node/v22/bin/node" }, []string{CodeRuntimeVersionManager, CodeBinaryMissing}},
		{"port", func(s *Spec) { s.Env[EnvPort] = "1" }, []string{CodeEnvMismatch}},
		{"no PATH", func(s *Spec) { delete(s.Env, "PATH") }, []string{CodePathMissing}},
		{"PATH lacks dirs, has nvm", func(s *Spec) { s.Env["PATH"] = "/home/a/.nvm/current/bin:/usr/bin" }, []string{CodePathMissingDirs, CodePathNonMinimal}},
		{"no network-online", func(s *Spec) { s.Policy.NetworkOnline = false }, []string{CodeAfterNetworkOnline, CodeWantsNetworkOnline}},
		{"RestartSec", func(s *Spec) { s.Policy.RestartSec = 120 }, []string{CodeRestartSec}},
		{"WantedBy", func(s *Spec) { s.Policy.WantedBy = "multi-user.target" }, []string{CodeWantedBy}},
		{"not notify", func(s *Spec) { s.Policy.Notify = false }, []string{CodeNotifyType}},
		{"no restart", func(s *Spec) { s.Policy.KeepAlive = false }, []string{CodeRestartPolicy}},
		{"78 respawns", func(s *Spec) { s.Policy.PreventExitStatus = 0 }, []string{CodePreventExitStatus}},
		{"KillMode=process", func(s *Spec) { s.Policy.KillMode = "process" }, []string{CodeKillModeProcess}},
		{"KillMode=none", func(s *Spec) { s.Policy.KillMode = "none" }, []string{CodeKillModeProcess}},
		{"KillMode=mixed is fine", func(s *Spec) { s.Policy.KillMode = "mixed" }, nil},
		{"token in 0644 file", func(s *Spec) {
			s.Env["CLAWDBOT_GATEWAY_TOKEN"] = "x"
			s.File = FileInfo{Path: "/u", Mode: 0o644}
		}, []string{CodeSecretsReadable}},
		{"token in 0600 file", func(s *Spec) {
			s.Env["CLAWDBOT_GATEWAY_TOKEN"] = "x"
			s.File = FileInfo{Path: "/u", Mode: 0o600}
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst := want
			inst.Env = map[string]string{}
			for k, v := range want.Env {
				inst.Env[k] = v
			}
			c.edit(&inst)
			got := codes(Audit(inst, want))
			slices.Sort(got)
			exp := slices.Clone(c.codes)
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("codes = %v, want %v", got, exp)
			}
		})
	}
}

func TestAuditLaunchdPolicy(t *testing.T) {
	want := testSpec(t, "dev", Launchd, ScopeUser)
	want.Program = "/bin/sh"
	inst := want
	inst.Policy.RunAtLoad, inst.Policy.KeepAlive = false, false
	got := codes(Audit(inst, want))
	if !slices.Equal(got, []string{CodeLaunchdRunAtLoad, CodeLaunchdKeepAlive}) {
		t.Errorf("codes = %v", got)
	}
}

// The original's plist (doc/supervision.md §3.2) has no ThrottleInterval, and its unit
// has KillMode=process (doc/supervision.md §3.3): both are findings once read back from
// the files the original wrote.
func TestAuditOriginalDefinitionsFromFixtures(t *testing.T) {
	for _, c := range []struct {
		pl   Platform
		file string
		code string
	}{
		{Launchd, "com.clawdbot.work.plist", CodeLaunchdThrottle},
		{Systemd, "clawdbot-gateway-work.service", CodeKillModeProcess},
	} {
		t.Run(string(c.pl), func(t *testing.T) {
			inst, err := ReadInstalled(c.pl, filepath.Join("testdata", "original", c.file))
			if err != nil {
				t.Fatal(err)
			}
			want := testSpec(t, "work", c.pl, ScopeUser)
			if got := codes(Audit(inst, want)); !slices.Contains(got, c.code) {
				t.Errorf("codes = %v, want %s", got, c.code)
			}
			// Ours carries neither problem.
			want.Program = "/bin/sh"
			body, err := Render(want)
			if err != nil {
				t.Fatal(err)
			}
			mine, err := Parse(c.pl, body)
			if err != nil {
				t.Fatal(err)
			}
			if got := codes(Audit(mine, want)); slices.Contains(got, c.code) {
				t.Errorf("our own rendering is flagged %s: %v", c.code, got)
			}
		})
	}
}

func TestReadInstalledAndAuditOriginalUnit(t *testing.T) {
	// A unit as the original wrote it (doc/supervision.md §3.3), with its token in plain
	// text and default permissions.
	orig := `[Unit]
Description=Clawdbot Gateway (profile: dev, v2026.1.24)
After=network-online.target
Wants=network-online.target

[Service]
ExecStart="/usr/bin/node" "/usr/lib/node_modules/clawdbot/dist/entry.js" gateway --port 19001
Restart=always
RestartSec=5
KillMode=process
Environment=HOME=/home/alice
Environment=CLAWDBOT_PROFILE=dev
Environment=CLAWDBOT_GATEWAY_TOKEN=abc
Environment=CLAWDBOT_SERVICE_MARKER=clawdbot
Environment=CLAWDBOT_SERVICE_KIND=gateway
Environment=CLAWDBOT_SERVICE_VERSION=2026.1.24

[Install]
WantedBy=default.target
`
	path := filepath.Join(t.TempDir(), "clawdbot-gateway-dev.service")
	os.WriteFile(path, []byte(orig), 0o644)
	inst, err := ReadInstalled(Systemd, path)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Name != "clawdbot-gateway-dev.service" || inst.Program != "/usr/bin/node" || inst.Args[0] != "/usr/lib/node_modules/clawdbot/dist/entry.js" {
		t.Fatalf("parsed %+v", inst)
	}
	want := testSpec(t, "dev", Systemd, ScopeUser)
	got := codes(Audit(inst, want))
	for _, c := range []string{CodeSecretsReadable, CodeNotifyType, CodePathMissing, CodePreventExitStatus, CodeArgsMismatch, CodeKillModeProcess} {
		if !slices.Contains(got, c) {
			t.Errorf("missing %s in %v", c, got)
		}
	}
	if _, err := ReadInstalled(Systemd, path+".nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file err = %v", err)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"2026.1.9", "2026.1.24", -1}, {"2026.1.24", "2026.1.24", 0}, {"2026.2.0", "2026.1.24", 1}, {"", "1", -1}, {"v1.2", "1.2", 0}} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compare(%q,%q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestScanClassifies(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, ".config", "systemd", "user")
	os.MkdirAll(dir, 0o755)
	for _, p := range []string{"default", "rescue"} {
		s := testSpec(t, p, Systemd, ScopeUser)
		b, _ := RenderSystemd(s)
		os.WriteFile(filepath.Join(dir, s.Name), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "clawdbot-node.service"), []byte("[Service]\nExecStart=/usr/bin/clawdbot node\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "unrelated.service"), []byte("[Service]\nExecStart=/bin/true\n"), 0o644)
	// A later project name running clawdbot is legacy (doctor migrates it),
	// not an "other" service.
	os.WriteFile(filepath.Join(dir, "moltbot-gateway-work.service"), []byte("[Service]\nExecStart=/usr/bin/clawdbot gateway\n"), 0o644)
	got := Scan(ScanOptions{Platform: Systemd, Home: home})
	var summary []string
	for _, f := range got {
		summary = append(summary, filepath.Base(f.Path)+":"+f.Class+":"+f.Profile)
	}
	want := []string{"clawdbot-gateway-rescue.service:gateway:rescue", "clawdbot-gateway.service:gateway:", "clawdbot-node.service:other:", "moltbot-gateway-work.service:legacy:work"}
	if !slices.Equal(summary, want) {
		t.Errorf("scan = %v, want %v", summary, want)
	}
}

func TestSpecForRefusesBadInput(t *testing.T) {
	p := testProfile(t, "dev")
	bin := filepath.Join(t.TempDir(), "clawdbot")
	os.WriteFile(bin, nil, 0o755)
	goRun := filepath.Join(t.TempDir(), "go-build123", "b001", "exe", "clawdbot")
	os.MkdirAll(filepath.Dir(goRun), 0o755)
	os.WriteFile(goRun, nil, 0o755)
	cases := []struct {
		name, bin string
		opts      Options
		want      string
	}{
		{"go run binary", goRun, Options{Platform: Systemd, Version: "1"}, "go run"},
		{"missing binary", bin + ".nope", Options{Platform: Systemd, Version: "1"}, "resolve binary"},
		{"no version", bin, Options{Platform: Systemd}, "version"},
		{"system without user", bin, Options{Platform: Systemd, Scope: ScopeSystem, Version: "1"}, "account"},
		{"secret env", bin, Options{Platform: Systemd, Version: "1", Env: map[string]string{"OPENAI_API_KEY": "x"}}, "secret"},
		{"bad port", bin, Options{Platform: Systemd, Version: "1", Port: 70000}, "port"},
	}
	for _, c := range cases {
		_, err := SpecFor(p, c.bin, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	// A symlink resolves to its target.
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(bin, link)
	s, err := SpecFor(p, link, Options{Platform: Systemd, Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if real, _ := filepath.EvalSymlinks(bin); s.Program != real {
		t.Errorf("Program = %s, want %s", s.Program, real)
	}
}
