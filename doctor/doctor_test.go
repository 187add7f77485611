package doctor_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

const testToken = "doctor-test-token-0123456789"

type fixture struct {
	home string
	c    *doctor.Context
	fake *fakeManager
	port int
}

// newFixture makes a temp HOME with a resolved profile, a local-mode config
// on a free port and a clawdbot "binary" outside any go-build dir.
func newFixture(t testing.TB, pl supervise.Platform, profile string, cfgExtra string) *fixture {
	t.Helper()
	home := t.TempDir()
	port := freePort(t)
	env := map[string]string{"HOME": home}
	getenv := func(k string) string { return env[k] }
	stateDir := filepath.Join(home, ".clawdbot")
	if profile != "" {
		stateDir += "-" + profile
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := `{"gateway": {"mode": "local", "port": ` + strconv.Itoa(port) + cfgExtra + `}}`
	if err := os.WriteFile(filepath.Join(stateDir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	prof, err := profiles.Resolve(profiles.Input{ProfileFlag: profile, Getenv: getenv, Home: home})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(home, "bin", "clawdbot")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := newFakeManager(home)
	c := &doctor.Context{Profile: prof, Getenv: getenv, Platform: pl, Runner: fake, UID: 501, Binary: bin,
		Version: "2026.2.1", User: "tester", ProbeTimeout: 3 * time.Second}
	return &fixture{home: home, c: c, fake: fake, port: port}
}

func (f *fixture) writeTemplate(t *testing.T, name, dst string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "legacy", name))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), "{{HOME}}", f.home)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) run(t *testing.T) []doctor.Finding {
	t.Helper()
	f.c.Refresh() // the test wrote files after asking for Want
	return doctor.Run(context.Background(), f.c, doctor.Checks())
}

func codes(fs []doctor.Finding, minSev doctor.Severity) []string {
	var out []string
	for _, f := range fs {
		if minSev == doctor.SevWarn && f.Severity == doctor.SevInfo {
			continue
		}
		out = append(out, f.Code)
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func mustHave(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing finding %s in %v", w, got)
		}
	}
}

func actionsByStatus(acts []doctor.Action) map[string][]string {
	m := map[string][]string{}
	for _, a := range acts {
		m[a.Status] = append(m[a.Status], a.Title)
		if a.Status == doctor.ActionFailed {
			m["errors"] = append(m["errors"], a.Error)
		}
	}
	return m
}

// A macOS install with a drifted LaunchAgent (KeepAlive off, program gone),
// two legacy agents (one marked, one foreign), a world-readable config and
// state dir. launchctl is the recording fake (no launchd on Linux).
func TestDoctorLaunchdLegacyAndDrift(t *testing.T) {
	f := newFixture(t, supervise.Launchd, "", `, "auth": {"token": "`+testToken+`"}`)
	want, err := f.c.Want()
	if err != nil {
		t.Fatal(err)
	}
	drifted := want
	drifted.Program = filepath.Join(f.home, "old", "clawdbot")
	drifted.Policy.KeepAlive = false
	body, err := supervise.Render(drifted)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(want.DefinitionPath()), 0o755)
	if err := os.WriteFile(want.DefinitionPath(), body, 0o644); err != nil {
		t.Fatal(err)
	}
	f.fake.loaded[want.Name], f.fake.running[want.Name] = true, true
	agents := filepath.Join(f.home, "Library", "LaunchAgents")
	f.writeTemplate(t, "com.steipete.clawdbot.gateway.plist", filepath.Join(agents, "com.steipete.clawdbot.gateway.plist"))
	f.writeTemplate(t, "bot.molt.gateway.plist", filepath.Join(agents, "bot.molt.gateway.plist"))
	f.fake.loaded["com.steipete.clawdbot.gateway"] = true
	os.Chmod(f.c.Profile.ConfigPath, 0o644)
	os.Chmod(f.c.Profile.StateDir, 0o755)
	startGateway(t, f.c.Profile.StateDir, f.port, testToken)

	first := f.run(t)
	got := codes(first, doctor.SevWarn)
	mustHave(t, got, doctor.CodeConfigPermissions, doctor.CodeStateDirPermissions,
		supervise.CodeLaunchdKeepAlive, supervise.CodeBinaryMissing, doctor.CodeLegacyService)
	if n := count(got, doctor.CodeLegacyService); n != 2 {
		t.Errorf("legacy findings = %d, want 2: %v", n, got)
	}
	if slices.Contains(got, doctor.CodeGatewayUnreachable) || slices.Contains(got, doctor.CodePortForeign) {
		t.Errorf("gateway runs under the (fake) supervisor's pid, yet: %v", got)
	}
	if again := codes(f.run(t), ""); !slices.Equal(again, codes(first, "")) {
		t.Errorf("finding order is not deterministic:\n%v\n%v", codes(first, ""), again)
	}

	// --fix without --force: the foreign (unmarked) legacy agent stays.
	acts := doctor.Fix(context.Background(), f.c, first, doctor.FixOptions{})
	st := actionsByStatus(acts)
	if len(st["failed"]) > 0 || len(st["skipped"]) != 1 || !strings.Contains(st["skipped"][0], "bot.molt.gateway") {
		t.Fatalf("actions: %+v", st)
	}
	if steps := []string{acts[0].Step, acts[1].Step, acts[len(acts)-1].Step}; steps[0] != "service" || steps[1] != "legacy" || steps[2] != "permissions" {
		t.Errorf("repair order = %v, want service, legacy, …, permissions", steps)
	}
	if _, err := os.Stat(filepath.Join(agents, "com.steipete.clawdbot.gateway.plist")); !os.IsNotExist(err) {
		t.Errorf("marked legacy plist not removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(agents, "bot.molt.gateway.plist")); err != nil {
		t.Errorf("unmarked legacy plist removed without --force: %v", err)
	}
	if !f.fake.called("launchctl bootout gui/501/com.steipete.clawdbot.gateway") {
		t.Errorf("legacy agent not booted out: %v", f.fake.calls)
	}
	baks, _ := filepath.Glob(filepath.Join(f.c.Profile.StateDir, "backups", "services", "*"))
	if len(baks) != 2 { // the drifted plist and the legacy one
		t.Errorf("backups = %v, want 2", baks)
	}
	inst, err := supervise.ReadInstalled(supervise.Launchd, want.DefinitionPath())
	if err != nil {
		t.Fatal(err)
	}
	if a := supervise.Audit(inst, want); len(a) != 0 {
		t.Errorf("rewritten plist still drifts: %+v", a)
	}
	for path, mode := range map[string]os.FileMode{f.c.Profile.ConfigPath: 0o600, f.c.Profile.StateDir: 0o700} {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != mode {
			t.Errorf("%s mode %o, want %o", path, fi.Mode().Perm(), mode)
		}
	}

	second := f.run(t)
	if got := codes(second, doctor.SevWarn); !slices.Equal(got, []string{doctor.CodeLegacyService}) {
		t.Fatalf("after --fix: %v, want only the unmarked legacy service", got)
	}
	acts = doctor.Fix(context.Background(), f.c, second, doctor.FixOptions{Force: true})
	if st := actionsByStatus(acts); len(st["done"]) != 1 || len(st["failed"]) > 0 {
		t.Fatalf("--force actions: %+v", st)
	}
	if got := codes(f.run(t), doctor.SevWarn); len(got) != 0 {
		t.Fatalf("third run not clean: %v", got)
	}
}

// A Linux profile "work" whose unit was hand-edited (RestartSec=120, marker
// removed) next to a later-name legacy unit (moltbot-gateway-work).
func TestDoctorSystemdDriftNeedsForce(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "work", `, "auth": {"token": "`+testToken+`"}`)
	want, _ := f.c.Want()
	body, err := supervise.Render(want)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(body), "RestartSec=5", "RestartSec=120", 1)
	var kept []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, supervise.EnvMarker) {
			kept = append(kept, l)
		}
	}
	os.MkdirAll(filepath.Dir(want.DefinitionPath()), 0o755)
	os.WriteFile(want.DefinitionPath(), []byte(strings.Join(kept, "\n")), 0o644)
	f.fake.loaded[want.Name], f.fake.running[want.Name] = true, true
	units := filepath.Dir(want.DefinitionPath())
	f.writeTemplate(t, "moltbot-gateway-work.service", filepath.Join(units, "moltbot-gateway-work.service"))
	startGateway(t, f.c.Profile.StateDir, f.port, testToken)

	first := f.run(t)
	mustHave(t, codes(first, doctor.SevWarn), supervise.CodeRestartSec, supervise.CodeMarkerMissing, doctor.CodeLegacyService)
	for _, fd := range first {
		if fd.Code == supervise.CodeMarkerMissing && (!fd.NeedsForce || !strings.Contains(fd.Fix, "--profile work doctor --fix --force")) {
			t.Errorf("marker finding: %+v", fd)
		}
	}

	acts := doctor.Fix(context.Background(), f.c, first, doctor.FixOptions{})
	st := actionsByStatus(acts)
	if len(st["skipped"]) != 1 || !strings.Contains(st["skipped"][0], "rewrite") || len(st["done"]) != 1 {
		t.Fatalf("without --force: %+v", st)
	}
	if !f.fake.called("systemctl --user disable --now moltbot-gateway-work.service") || !f.fake.called("systemctl --user daemon-reload") {
		t.Errorf("legacy unit not stopped/reloaded: %v", f.fake.calls)
	}
	if b, _ := os.ReadFile(want.DefinitionPath()); !strings.Contains(string(b), "RestartSec=120") {
		t.Errorf("unit rewritten without --force")
	}
	second := f.run(t)
	mustHave(t, codes(second, doctor.SevWarn), supervise.CodeRestartSec, supervise.CodeMarkerMissing)
	if slices.Contains(codes(second, ""), doctor.CodeLegacyService) {
		t.Errorf("legacy unit still reported after migration")
	}

	acts = doctor.Fix(context.Background(), f.c, second, doctor.FixOptions{Force: true})
	if st := actionsByStatus(acts); len(st["done"]) != 1 || len(st["failed"]) != 0 {
		t.Fatalf("with --force: %+v", st)
	}
	if !f.fake.called("systemctl --user restart " + want.Name) {
		t.Errorf("rewritten unit not restarted: %v", f.fake.calls)
	}
	if got := codes(f.run(t), doctor.SevWarn); len(got) != 0 {
		t.Fatalf("after --fix --force: %v", got)
	}
}

// A legacy unit of the same profile and no current unit: the migration
// installs the current service in its place.
func TestDoctorLegacyMigrationInstallsCurrent(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "work", `, "auth": {"token": "`+testToken+`"}`)
	want, _ := f.c.Want()
	f.writeTemplate(t, "moltbot-gateway-work.service", filepath.Join(filepath.Dir(want.DefinitionPath()), "moltbot-gateway-work.service"))
	first := f.run(t)
	mustHave(t, codes(first, ""), doctor.CodeLegacyService, doctor.CodeServiceNotInstalled)
	acts := doctor.Fix(context.Background(), f.c, first, doctor.FixOptions{})
	if st := actionsByStatus(acts); len(st["done"]) != 1 {
		t.Fatalf("actions: %+v", st)
	}
	if !strings.Contains(strings.Join(acts[0].Lines, "\n"), "installed current service "+want.Name) {
		t.Errorf("lines: %v", acts[0].Lines)
	}
	if _, err := os.Stat(want.DefinitionPath()); err != nil {
		t.Fatalf("current unit not installed: %v", err)
	}
	if !f.fake.called("systemctl --user enable "+want.Name) || !f.fake.called("systemctl --user start "+want.Name) {
		t.Errorf("calls: %v", f.fake.calls)
	}
	startGateway(t, f.c.Profile.StateDir, f.port, testToken)
	if got := codes(f.run(t), doctor.SevWarn); len(got) != 0 {
		t.Fatalf("second run: %v", got)
	}
}

func TestDoctorTokenGeneration(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", "")
	os.Chmod(f.c.Profile.ConfigPath, 0o644)
	first := f.run(t)
	mustHave(t, codes(first, ""), doctor.CodeTokenMissing)
	acts := doctor.Fix(context.Background(), f.c, first, doctor.FixOptions{Only: []doctor.Step{doctor.StepToken}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionDone {
		t.Fatalf("actions: %+v", acts)
	}
	snap, err := profiles.Load(f.c.Profile.ConfigPath)
	if err != nil || snap.Config == nil {
		t.Fatal(err)
	}
	if tok := snap.Config.Gateway.Auth.Token; len(tok) != 2*profiles.GatewayTokenBytes || snap.Config.Gateway.Auth.Mode != "token" {
		t.Errorf("token %q mode %q", tok, snap.Config.Gateway.Auth.Mode)
	}
	if snap.Config.Gateway.Port != f.port {
		t.Errorf("merge lost gateway.port")
	}
	if fi, _ := os.Stat(f.c.Profile.ConfigPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %o after save", fi.Mode().Perm())
	}
	if slices.Contains(codes(f.run(t), ""), doctor.CodeTokenMissing) {
		t.Error("token still reported missing")
	}
}

// A real foreign process (python3's socket listener, not clawdbot) on the
// profile's port.
func TestDoctorPortForeignHolder(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: no foreign listener to start")
	}
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	cmd := exec.Command(py, "-c", "import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('127.0.0.1',"+strconv.Itoa(f.port)+"))\ns.listen()\nprint('up',flush=True)\ntime.sleep(60)")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 3)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	fs := f.run(t)
	var holder *doctor.Finding
	for i := range fs {
		if fs[i].Code == doctor.CodePortForeign {
			holder = &fs[i]
		}
	}
	if holder == nil {
		t.Fatalf("no %s in %v", doctor.CodePortForeign, codes(fs, ""))
	}
	if !strings.Contains(holder.Detail, "pid "+strconv.Itoa(cmd.Process.Pid)) || holder.Severity != doctor.SevError {
		t.Errorf("finding: %+v", holder)
	}
}

func TestDoctorProfilesSharePortAndLinger(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "work", "")
	// The default profile's config on the same port.
	def := filepath.Join(f.home, ".clawdbot", "clawdbot.json")
	os.MkdirAll(filepath.Dir(def), 0o700)
	os.WriteFile(def, []byte(`{"gateway": {"mode": "local", "port": `+strconv.Itoa(f.port)+`}}`), 0o600)
	// An installed, running unit and lingering off.
	want, _ := f.c.Want()
	body, _ := supervise.Render(want)
	os.MkdirAll(filepath.Dir(want.DefinitionPath()), 0o755)
	os.WriteFile(want.DefinitionPath(), body, 0o644)
	f.fake.loaded[want.Name], f.fake.running[want.Name] = true, true
	f.fake.linger = "no"
	fs := f.run(t)
	mustHave(t, codes(fs, ""), doctor.CodeProfilesSharePort, doctor.CodeLingerDisabled)
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepLinger}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionDone || !f.fake.called("loginctl enable-linger tester") {
		t.Errorf("linger repair: %+v %v", acts, f.fake.calls)
	}
	f.fake.linger = ""
	if got := codes(f.run(t), ""); !slices.Contains(got, doctor.CodeLingerUnknown) {
		t.Errorf("logind down: %v", got)
	}
}
