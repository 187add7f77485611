package doctor_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// doctor --fix from cron while systemctl keeps failing: every run backs up
// the same unit. Identical backups must not pile up, and two different
// files backed up within the same clock tick must both survive.
func TestDoctorBackupsBoundedAndDistinct(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	fixed := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	f.c.Now = func() time.Time { return fixed }
	want, old := driftedUnit(t, f)
	f.fake.fail = map[string]string{"systemctl --user restart": "Job failed."}
	dir := filepath.Join(f.c.Profile.StateDir, "backups", "services")
	for i := 0; i < 3; i++ {
		doctor.Fix(context.Background(), f.c, f.run(t), doctor.FixOptions{Only: []doctor.Step{doctor.StepService}})
	}
	baks, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(baks) != 1 {
		t.Fatalf("three failing runs over the same unit left %d backups: %v", len(baks), baks)
	}
	// The user edits the unit again (still the same tick): a second backup,
	// the first one untouched.
	edited := strings.Replace(old, "RestartSec=120", "RestartSec=60", 1)
	os.WriteFile(want.DefinitionPath(), []byte(edited), 0o644)
	doctor.Fix(context.Background(), f.c, f.run(t), doctor.FixOptions{Only: []doctor.Step{doctor.StepService}})
	baks, _ = filepath.Glob(filepath.Join(dir, "*"))
	if len(baks) != 2 {
		t.Fatalf("backups = %v, want 2", baks)
	}
	var got []string
	for _, b := range baks {
		data, _ := os.ReadFile(b)
		got = append(got, string(data))
	}
	if !(got[0] == old && got[1] == edited || got[0] == edited && got[1] == old) {
		t.Errorf("a backup was clobbered: contents differ from the two versions of the unit")
	}
}
