package doctor_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

func legacyFinding(t *testing.T, fs []doctor.Finding) doctor.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Code == doctor.CodeLegacyService {
			return f
		}
	}
	t.Fatalf("no %s finding in %v", doctor.CodeLegacyService, codes(fs, ""))
	return doctor.Finding{}
}

// Doctor for profile "work" finds the default profile's legacy LaunchAgent
// (marked, so clawdbot wrote it). It is another profile's gateway, maybe
// the one the user relies on: --fix must not stop and delete it, the
// finding and the skip say whose it is and how to migrate it from there,
// and only --force removes it from here.
func TestDoctorLegacyOfOtherProfileNeedsForce(t *testing.T) {
	f := newFixture(t, supervise.Launchd, "work", `, "auth": {"token": "`+testToken+`"}`)
	plist := filepath.Join(f.home, "Library", "LaunchAgents", "com.steipete.clawdbot.gateway.plist")
	f.writeTemplate(t, "com.steipete.clawdbot.gateway.plist", plist)
	f.fake.loaded["com.steipete.clawdbot.gateway"] = true
	fs := f.run(t)
	lf := legacyFinding(t, fs)
	if !lf.NeedsForce || !strings.Contains(lf.Message, "profile default") || !strings.Contains(lf.Fix, "clawdbot doctor --fix") {
		t.Errorf("finding: %+v", lf)
	}
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepLegacy}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionSkipped || !strings.Contains(acts[0].Reason, "profile default") {
		t.Fatalf("actions: %+v", acts)
	}
	if _, err := os.Stat(plist); err != nil {
		t.Errorf("another profile's legacy plist removed without --force: %v", err)
	}
	if f.fake.called("launchctl bootout") {
		t.Errorf("another profile's legacy agent stopped: %v", f.fake.calls)
	}
	acts = doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Force: true, Only: []doctor.Step{doctor.StepLegacy}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionDone || !strings.Contains(acts[0].String(), "it ran profile default") {
		t.Fatalf("with --force: %+v", acts)
	}
	if _, err := os.Stat(plist); !os.IsNotExist(err) {
		t.Errorf("--force did not remove it: %v", err)
	}
}

// Same profile name, but the legacy unit ran with another state dir: it is
// not this installation's service either.
func TestDoctorLegacyOfOtherStateDirNeedsForce(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "work", `, "auth": {"token": "`+testToken+`"}`)
	want, _ := f.c.Want()
	unit := filepath.Join(filepath.Dir(want.DefinitionPath()), "moltbot-gateway-work.service")
	f.writeTemplate(t, "moltbot-gateway-work.service", unit)
	b, _ := os.ReadFile(unit)
	other := filepath.Join(f.home, "srv", "moltbot-state")
	os.WriteFile(unit, []byte(strings.Replace(string(b), "Environment=MOLTBOT_PROFILE=work", "Environment=MOLTBOT_PROFILE=work\nEnvironment=MOLTBOT_STATE_DIR="+other, 1)), 0o644)
	lf := legacyFinding(t, f.run(t))
	if !lf.NeedsForce || !strings.Contains(lf.Message, other) {
		t.Errorf("finding: %+v", lf)
	}
}

// systemctl cannot reach the user manager: the legacy unit may still be
// running, so its file must stay (removing it would orphan a running
// gateway that then holds the port against the new one).
func TestDoctorLegacyKeptWhenStopFails(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "work", `, "auth": {"token": "`+testToken+`"}`)
	want, _ := f.c.Want()
	unit := filepath.Join(filepath.Dir(want.DefinitionPath()), "moltbot-gateway-work.service")
	f.writeTemplate(t, "moltbot-gateway-work.service", unit)
	f.fake.running["moltbot-gateway-work.service"] = true
	f.fake.fail = map[string]string{"systemctl --user disable": "Failed to connect to bus: No medium found"}
	acts := doctor.Fix(context.Background(), f.c, f.run(t), doctor.FixOptions{Only: []doctor.Step{doctor.StepLegacy}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionFailed {
		t.Fatalf("actions: %+v", acts)
	}
	if _, err := os.Stat(unit); err != nil {
		t.Errorf("legacy unit removed although it could not be stopped: %v", err)
	}
	if _, err := os.Stat(want.DefinitionPath()); err == nil {
		t.Errorf("current unit installed next to a legacy one that may still run")
	}
	if !strings.Contains(acts[0].Error, "still active") || !strings.Contains(acts[0].Error, "kept "+unit) {
		t.Errorf("error does not say why the unit was kept: %s", acts[0].Error)
	}
}

// The unit file's name already ends in .service: systemctl gets that name,
// not "….service.service" (which systemd does not know, so the old gateway
// kept running while its file was deleted).
func TestDoctorLegacyUnitNameExact(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "work", `, "auth": {"token": "`+testToken+`"}`)
	want, _ := f.c.Want()
	unit := filepath.Join(filepath.Dir(want.DefinitionPath()), "moltbot-gateway-work.service")
	f.writeTemplate(t, "moltbot-gateway-work.service", unit)
	f.fake.running["moltbot-gateway-work.service"] = true
	acts := doctor.Fix(context.Background(), f.c, f.run(t), doctor.FixOptions{Only: []doctor.Step{doctor.StepLegacy}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionDone {
		t.Fatalf("actions: %+v", acts)
	}
	for _, c := range f.fake.calls {
		if strings.Contains(c, ".service.service") {
			t.Errorf("doubled suffix: %s", c)
		}
	}
	if f.fake.running["moltbot-gateway-work.service"] {
		t.Errorf("legacy unit still running")
	}
}
