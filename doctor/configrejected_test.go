package doctor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// A running gateway that refused its config file answers health with
// configError: doctor reports the reason and the file to fix, as gateway
// status does, instead of calling the gateway healthy.
func TestDoctorReportsRejectedConfig(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	s := startGateway(t, t.TempDir(), f.port, testToken)
	why := "refusing to bind gateway to 0.0.0.0:1 without auth (set gateway.auth.token or CLAWDBOT_GATEWAY_TOKEN, or pass --token)"
	s.SetConfigError(f.c.Profile.ConfigPath, errors.New(why))
	var got *doctor.Finding
	fs := f.run(t)
	for i := range fs {
		if fs[i].Code == doctor.CodeGatewayConfigRejected {
			got = &fs[i]
		}
	}
	if got == nil {
		t.Fatalf("no %s in %v", doctor.CodeGatewayConfigRejected, codes(fs, ""))
	}
	if !strings.Contains(got.Message, why) || !strings.Contains(got.Fix, f.c.Profile.ConfigPath) || got.Severity != doctor.SevError {
		t.Errorf("finding: %+v", got)
	}
}
