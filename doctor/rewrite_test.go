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

// driftedUnit installs this profile's unit with RestartSec=120 (a marked,
// recommended-level drift) and returns its text.
func driftedUnit(t *testing.T, f *fixture) (supervise.Spec, string) {
	t.Helper()
	want, err := f.c.Want()
	if err != nil {
		t.Fatal(err)
	}
	body, err := supervise.Render(want)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(body), "RestartSec=5", "RestartSec=120", 1)
	os.MkdirAll(filepath.Dir(want.DefinitionPath()), 0o755)
	if err := os.WriteFile(want.DefinitionPath(), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f.fake.loaded[want.Name], f.fake.running[want.Name] = true, true
	return want, text
}

// The rewrite writes the new unit, then systemctl restart fails: the user
// must not be left with a unit on disk that systemd never accepted and a
// report that only says "FAILED". The previous unit is restored from the
// backup, systemd reloads it, and the action's lines say all of that.
func TestDoctorRewriteRollsBackWhenRestartFails(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	want, old := driftedUnit(t, f)
	f.fake.fail = map[string]string{"systemctl --user restart": "Job for clawdbot-gateway.service failed."}
	fs := f.run(t)
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepService}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionFailed {
		t.Fatalf("actions: %+v", acts)
	}
	b, _ := os.ReadFile(want.DefinitionPath())
	if string(b) != old {
		t.Errorf("unit on disk after a failed rewrite is not the previous one:\n%s", b)
	}
	text := acts[0].String()
	for _, w := range []string{"backed up", "restored the previous definition", "restart"} {
		if !strings.Contains(text, w) {
			t.Errorf("report does not say %q:\n%s", w, text)
		}
	}
	var reloads int
	for _, c := range f.fake.calls {
		if c == "systemctl --user daemon-reload" {
			reloads++
		}
	}
	if reloads < 2 {
		t.Errorf("systemd not reloaded after the restore: %v", f.fake.calls)
	}
}

// Writing the unit fails outright (directory read-only): nothing changed,
// the report says the previous definition is untouched.
func TestDoctorRewriteWriteFailureLeavesUnit(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into a read-only directory")
	}
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	want, old := driftedUnit(t, f)
	dir := filepath.Dir(want.DefinitionPath())
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	acts := doctor.Fix(context.Background(), f.c, f.run(t), doctor.FixOptions{Only: []doctor.Step{doctor.StepService}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionFailed {
		t.Fatalf("actions: %+v", acts)
	}
	if b, _ := os.ReadFile(want.DefinitionPath()); string(b) != old {
		t.Errorf("unit changed")
	}
	if !strings.Contains(acts[0].String(), "unchanged") {
		t.Errorf("report does not say the unit is unchanged:\n%s", acts[0])
	}
}
