package doctor_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// A config that is a symlink to a file outside the state dir (a dotfiles
// checkout, say): doctor may report the loose mode but must never chmod the
// link's target, which is not ours to change.
func TestDoctorPermissionsDoNotFollowSymlinkOutOfStateDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	outside := filepath.Join(f.home, "dotfiles", "clawdbot.json")
	os.MkdirAll(filepath.Dir(outside), 0o755)
	b, _ := os.ReadFile(f.c.Profile.ConfigPath)
	if err := os.WriteFile(outside, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(outside, 0o644)
	os.Remove(f.c.Profile.ConfigPath)
	if err := os.Symlink(outside, f.c.Profile.ConfigPath); err != nil {
		t.Fatal(err)
	}
	fs := f.run(t)
	for _, fd := range fs {
		if fd.Code == doctor.CodeConfigPermissions && fd.Repairable {
			t.Errorf("a config symlinked out of the state dir is offered a chmod repair: %+v", fd)
		}
	}
	doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Force: true})
	if fi, _ := os.Stat(outside); fi.Mode().Perm() != 0o644 {
		t.Errorf("symlink target outside the state dir was chmodded to %o", fi.Mode().Perm())
	}
}

// A symlink inside the state dir to a file that is also inside it is the
// config: the repair chmods the real file and keeps the link.
func TestDoctorPermissionsSymlinkInsideStateDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	real := filepath.Join(f.c.Profile.StateDir, "configs", "main.json")
	os.MkdirAll(filepath.Dir(real), 0o700)
	b, _ := os.ReadFile(f.c.Profile.ConfigPath)
	os.WriteFile(real, b, 0o644)
	os.Chmod(real, 0o644)
	os.Remove(f.c.Profile.ConfigPath)
	if err := os.Symlink(real, f.c.Profile.ConfigPath); err != nil {
		t.Fatal(err)
	}
	fs := f.run(t)
	if !slices.Contains(codes(fs, ""), doctor.CodeConfigPermissions) {
		t.Fatalf("loose mode of the linked config not reported: %v", codes(fs, ""))
	}
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepPermissions}})
	if st := actionsByStatus(acts); len(st["done"]) != 1 {
		t.Fatalf("actions: %+v", acts)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Errorf("linked config mode %o, want 600", fi.Mode().Perm())
	}
	if fi, err := os.Lstat(f.c.Profile.ConfigPath); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
}

// The check ran on a plain file, but by the time the repair runs the path
// is a symlink to a file elsewhere (swapped after the report, before 'y'):
// the repair refuses instead of chmodding the new target.
func TestDoctorPermissionsRepairRefusesSwappedSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	os.Chmod(f.c.Profile.ConfigPath, 0o644)
	fs := f.run(t)
	if !slices.Contains(codes(fs, ""), doctor.CodeConfigPermissions) {
		t.Fatalf("not reported: %v", codes(fs, ""))
	}
	victim := filepath.Join(f.home, "shared.txt")
	os.WriteFile(victim, []byte("x"), 0o644)
	os.Chmod(victim, 0o644)
	os.Remove(f.c.Profile.ConfigPath)
	os.Symlink(victim, f.c.Profile.ConfigPath)
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepPermissions}})
	if st := actionsByStatus(acts); len(st["failed"]) != 1 {
		t.Errorf("actions: %+v", acts)
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o644 {
		t.Errorf("swapped-in symlink target chmodded to %o", fi.Mode().Perm())
	}
}

// A state dir that is itself a symlink: doctor reports a loose mode but
// leaves the chmod to the user (the link could point anywhere).
func TestDoctorPermissionsSymlinkedStateDirNotRepaired(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	real := filepath.Join(f.home, "data", "clawdbot")
	os.MkdirAll(filepath.Dir(real), 0o755)
	if err := os.Rename(f.c.Profile.StateDir, real); err != nil {
		t.Fatal(err)
	}
	os.Chmod(real, 0o755)
	os.Symlink(real, f.c.Profile.StateDir)
	fs := f.run(t)
	var found bool
	for _, fd := range fs {
		if fd.Code == doctor.CodeStateDirPermissions {
			found = true
			if fd.Repairable {
				t.Errorf("symlinked state dir offered an automatic chmod: %+v", fd)
			}
		}
	}
	if !found {
		t.Errorf("loose symlinked state dir not reported: %v", codes(fs, ""))
	}
	doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Force: true})
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o755 {
		t.Errorf("symlinked state dir target chmodded to %o", fi.Mode().Perm())
	}
}
