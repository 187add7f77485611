package doctor_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// The report said "no token"; while the prompt waited the user put one in.
// The repair must not replace it with a generated one.
func TestDoctorTokenRepairNeverOverwritesAToken(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", "")
	fs := f.run(t)
	cfg := `{"gateway": {"mode": "local", "auth": {"token": "users-own-token"}}}`
	os.WriteFile(f.c.Profile.ConfigPath, []byte(cfg), 0o600)
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepToken}})
	if len(acts) != 1 || acts[0].Status == doctor.ActionFailed {
		t.Fatalf("actions: %+v", acts)
	}
	if b, _ := os.ReadFile(f.c.Profile.ConfigPath); string(b) != cfg {
		t.Errorf("existing token overwritten:\n%s", b)
	}
	if !strings.Contains(acts[0].String(), "left it unchanged") {
		t.Errorf("report: %s", acts[0])
	}
}

// The config stopped parsing between the check and the repair: the file is
// refused, not replaced, and the failed action does not claim it wrote.
func TestDoctorTokenRepairRefusesBrokenConfig(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", "")
	fs := f.run(t)
	broken := `{"gateway": {"mode": "local",` // a half-saved edit
	os.WriteFile(f.c.Profile.ConfigPath, []byte(broken), 0o600)
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepToken}})
	if len(acts) != 1 || acts[0].Status != doctor.ActionFailed {
		t.Fatalf("actions: %+v", acts)
	}
	if b, _ := os.ReadFile(f.c.Profile.ConfigPath); string(b) != broken {
		t.Errorf("broken config replaced:\n%s", b)
	}
	if strings.Contains(acts[0].String(), "wrote") {
		t.Errorf("a failed token repair claims it wrote: %s", acts[0])
	}
}

// The token repair splices the token into the user's JSON5: comments,
// quoting and trailing commas of the rest stay; the old file is the .bak.
func TestDoctorTokenRepairKeepsTheUsersJSON5(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", "")
	fs := f.run(t)
	cfg := "// my gateway\n{\n  gateway: {\n    mode: 'local', // loopback only\n    port: " + strconv.Itoa(f.port) + ",\n  },\n}\n"
	os.WriteFile(f.c.Profile.ConfigPath, []byte(cfg), 0o600)
	acts := doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepToken}})
	if len(acts) != 1 || acts[0].Status == doctor.ActionFailed {
		t.Fatalf("actions: %+v", acts)
	}
	b, _ := os.ReadFile(f.c.Profile.ConfigPath)
	got := string(b)
	wantPrefix := "// my gateway\n{\n  gateway: {\n    mode: 'local', // loopback only\n    port: " + strconv.Itoa(f.port) + ",\n    auth: {\n      mode: 'token',\n      token: '"
	if !strings.HasPrefix(got, wantPrefix) || !strings.HasSuffix(got, "',\n    },\n  },\n}\n") {
		t.Errorf("config after the repair:\n%s", got)
	}
	if bak, _ := os.ReadFile(f.c.Profile.ConfigPath + ".bak"); string(bak) != cfg {
		t.Errorf(".bak = %q, want the previous file", bak)
	}
}
