package doctor_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kardianos/service"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// originalToken is the token in the original's fixtures
// (supervise/testdata/original).
const (
	originalUnitToken = "3f1c9a7e5b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c"
	originalTaskToken = "9b2e4d6f8a0c1e3f5a7b9c0d2e4f6a8b1c3d5e7f9a0b2c4d"
)

// installOriginalUnit writes the original's unit (doc/supervision.md §3.3, with its token
// in Environment=) as this fixture's installed, running unit.
func installOriginalUnit(t *testing.T, f *fixture) supervise.Spec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "supervise", "testdata", "original", "clawdbot-gateway-work.service"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("/home/alice", f.home, "-work", "", "profile: work, ", "", "CLAWDBOT_PROFILE=work", "CLAWDBOT_PROFILE=default",
		"19789", strconv.Itoa(f.port)).Replace(string(b))
	want, _ := f.c.Want()
	os.MkdirAll(filepath.Dir(want.DefinitionPath()), 0o755)
	if err := os.WriteFile(want.DefinitionPath(), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f.fake.loaded[want.Name], f.fake.running[want.Name] = true, true
	return want
}

func configToken(t *testing.T, f *fixture) string {
	t.Helper()
	snap, err := profiles.LoadEnv(f.c.Profile.ConfigPath, f.c.Getenv)
	if err != nil || snap.Config == nil {
		t.Fatalf("config: %v", err)
	}
	return snap.Config.Gateway.Auth.Token
}

// The original keeps the token only in the unit. doctor --fix carries it
// into the 0600 config before it rewrites the unit (ours holds no token),
// and never generates a new one: clients of the running gateway keep
// working. The rewrite's restart failing (and rolling back) changes none of
// that.
func TestDoctorFixCarriesTheTokenOutOfTheOriginalUnit(t *testing.T) {
	for _, restartFails := range []bool{false, true} {
		t.Run("restart fails="+strconv.FormatBool(restartFails), func(t *testing.T) {
			f := newFixture(t, supervise.Systemd, "", "")
			want := installOriginalUnit(t, f)
			if restartFails {
				f.fake.fail = map[string]string{"systemctl --user restart": "Job for clawdbot-gateway.service failed."}
			}
			fs := f.run(t)
			got := codes(fs, doctor.SevInfo)
			if !slices.Contains(got, doctor.CodeTokenOnlyInService) || slices.Contains(got, doctor.CodeTokenMissing) {
				t.Fatalf("codes = %v: want %s and no %s", got, doctor.CodeTokenOnlyInService, doctor.CodeTokenMissing)
			}
			if !slices.Contains(got, supervise.CodeKillModeProcess) {
				t.Errorf("codes = %v: the original's KillMode=process is not reported", got)
			}
			acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{})
			if len(acts) == 0 || acts[0].Step != "token-carry" || acts[0].Status != doctor.ActionDone {
				t.Fatalf("first action is not the token carry: %+v", acts)
			}
			if tok := configToken(t, f); tok != originalUnitToken {
				t.Fatalf("config token = %q, want the unit's %q", tok, originalUnitToken)
			}
			if fi, _ := os.Stat(f.c.Profile.ConfigPath); fi.Mode().Perm() != 0o600 {
				t.Errorf("config mode %v", fi.Mode())
			}
			unit, _ := os.ReadFile(want.DefinitionPath())
			if restartFails {
				if !strings.Contains(string(unit), "KillMode=process") {
					t.Errorf("failed rewrite did not restore the original unit:\n%s", unit)
				}
			} else if strings.Contains(string(unit), originalUnitToken) || strings.Contains(string(unit), "KillMode") {
				t.Errorf("rewritten unit still holds the token or KillMode:\n%s", unit)
			}
			for _, a := range acts {
				if a.Step == "token" && a.Status == doctor.ActionDone && strings.Contains(strings.Join(a.Lines, " "), "new gateway.auth.token") {
					t.Errorf("a new token was generated: %+v", a)
				}
			}
		})
	}
}

// --- Windows: the original's Scheduled Task ----------------------------------

// taskRunner answers schtasks like the Task Scheduler for one task (the
// original's, from the fixture XML) and records every argv; it stands in
// for schtasks, which does not exist here.
type taskRunner struct {
	mu      sync.Mutex
	xml     string
	present bool
	running bool
	calls   []string
	failEnd bool
}

func (r *taskRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name+" "+strings.Join(args, " "))
	if name != "schtasks" {
		return supervise.Output{}, errors.New(name + ": executable file not found in %PATH%")
	}
	missing := supervise.Output{Code: 1, Stderr: "ERROR: The system cannot find the file specified.\r\n"}
	switch args[0] {
	case "/Query":
		if !r.present {
			return missing, nil
		}
		return supervise.Output{Stdout: r.xml}, nil
	case "/End":
		if r.failEnd {
			return supervise.Output{Code: 1, Stderr: "ERROR: Access is denied.\r\n"}, nil
		}
		r.running = false
		return supervise.Output{Stdout: "SUCCESS: The scheduled task \"Clawdbot Gateway\" was terminated.\r\n"}, nil
	case "/Run":
		r.running = true
	case "/Delete":
		if !r.present {
			return missing, nil
		}
		r.present = false
	}
	return supervise.Output{Stdout: "SUCCESS\r\n"}, nil
}

// scm is a minimal Windows service control manager for one service.
type scm struct {
	installed, running bool
	installErr         error
}

func (s *scm) Install() error {
	if s.installErr != nil {
		return s.installErr
	}
	s.installed = true
	return nil
}
func (s *scm) Uninstall() error { s.installed = false; return nil }
func (s *scm) Start() error     { s.running = true; return nil }
func (s *scm) Stop() error      { s.running = false; return nil }
func (s *scm) Restart() error   { s.running = true; return nil }
func (s *scm) Status() (service.Status, error) {
	switch {
	case !s.installed:
		return service.StatusUnknown, service.ErrNotInstalled
	case s.running:
		return service.StatusRunning, nil
	}
	return service.StatusStopped, nil
}

func windowsFixture(t *testing.T) (*fixture, *taskRunner, *scm, string) {
	t.Helper()
	f := newFixture(t, supervise.Windows, "", "")
	xml, err := os.ReadFile(filepath.Join("..", "supervise", "testdata", "original", "clawdbot-gateway-task.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := os.ReadFile(filepath.Join("..", "supervise", "testdata", "original", "gateway.cmd"))
	if err != nil {
		t.Fatal(err)
	}
	// The task runs C:\Users\alice\.clawdbot\gateway.cmd; on this machine
	// the profile's state dir stands in for it (where the original put it).
	script := filepath.Join(f.c.Profile.StateDir, "gateway.cmd")
	if err := os.WriteFile(script, cmd, 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &taskRunner{xml: string(xml), present: true, running: true}
	s := &scm{}
	f.c.Runner = tr
	f.c.ServiceManager = &supervise.WindowsManager{New: func(*service.Config) (supervise.WindowsService, error) { return s, nil }}
	return f, tr, s, script
}

func TestDoctorMigratesTheOriginalScheduledTask(t *testing.T) {
	f, tr, s, script := windowsFixture(t)
	fs := f.run(t)
	got := codes(fs, doctor.SevInfo)
	for _, c := range []string{doctor.CodeScheduledTask, doctor.CodeTokenOnlyInService} {
		if !slices.Contains(got, c) {
			t.Fatalf("codes = %v, want %s", got, c)
		}
	}
	if slices.Contains(got, doctor.CodeTokenMissing) {
		t.Errorf("codes = %v: doctor offers a new token although the task has one", got)
	}
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{})
	b, _ := json.MarshalIndent(acts, "", " ")
	for _, a := range acts {
		if a.Status != doctor.ActionDone {
			t.Errorf("action not done: %s", b)
		}
	}
	if tok := configToken(t, f); tok != originalTaskToken {
		t.Errorf("config token = %q, want the task's", tok)
	}
	if !s.installed || !s.running {
		t.Errorf("service installed=%v running=%v", s.installed, s.running)
	}
	if tr.present {
		t.Errorf("task still registered; calls %q", tr.calls)
	}
	if _, err := os.Stat(script); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("gateway.cmd still there: %v", err)
	}
	// The task's gateway is ended before the service starts (both want the
	// port), and deleted only after the service is in place.
	end, del := slices.Index(tr.calls, "schtasks /End /TN Clawdbot Gateway"), slices.Index(tr.calls, "schtasks /Delete /F /TN Clawdbot Gateway")
	if end < 0 || del < end {
		t.Errorf("calls %q", tr.calls)
	}
	// A re-run finds nothing left to migrate.
	if again := codes(f.run(t), doctor.SevInfo); slices.Contains(again, doctor.CodeScheduledTask) || slices.Contains(again, doctor.CodeTokenOnlyInService) {
		t.Errorf("after the fix: %v", again)
	}
}

// Installing the service fails (not elevated): the task is started again
// and kept with its script, so the user still has a gateway.
func TestDoctorKeepsTheScheduledTaskWhenTheServiceCannotBeInstalled(t *testing.T) {
	f, tr, s, script := windowsFixture(t)
	s.installErr = errors.New("Access is denied.")
	acts := doctor.Fix(context.Background(), f.c, f.run(t), doctor.FixOptions{})
	var task *doctor.Action
	for i := range acts {
		if strings.HasPrefix(acts[i].Title, "migrate the Scheduled Task") {
			task = &acts[i]
		}
	}
	if task == nil || task.Status != doctor.ActionFailed || !strings.Contains(task.Error, "kept the task") {
		t.Fatalf("task action: %+v", acts)
	}
	if !tr.present || !tr.running {
		t.Errorf("task present=%v running=%v; calls %q", tr.present, tr.running, tr.calls)
	}
	if _, err := os.Stat(script); err != nil {
		t.Errorf("gateway.cmd removed: %v", err)
	}
	if tok := configToken(t, f); tok != originalTaskToken {
		t.Errorf("config token = %q", tok)
	}
}

func TestDoctorNoScheduledTaskNoFinding(t *testing.T) {
	f, tr, _, _ := windowsFixture(t)
	tr.present = false
	if got := codes(f.run(t), doctor.SevInfo); slices.Contains(got, doctor.CodeScheduledTask) {
		t.Errorf("codes = %v", got)
	}
}
