package doctor_test

import (
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// doctor asks the gateway's own start rule (profiles.CheckStartable), so a
// config the gateway would refuse is reported with the gateway's words.
func TestDoctorReportsAConfigTheGatewayWouldRefuse(t *testing.T) {
	tests := []struct {
		name  string
		extra string // inside "gateway"
		want  string // "" = no such finding
	}{
		{"token mode without token", `, "auth": {"mode": "token"}`, "gateway auth mode is token but no token is set"},
		{"lan without auth", `, "bind": "lan"`, "refusing to bind gateway to 0.0.0.0:"},
		{"lan with token", `, "bind": "lan", "auth": {"token": "t"}`, ""},
		{"loopback without auth", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, supervise.Systemd, "", tt.extra)
			var got *doctor.Finding
			for _, fd := range f.run(t) {
				if fd.Code == doctor.CodeGatewayWouldNotStart {
					got = &fd
				}
			}
			switch {
			case tt.want == "" && got != nil:
				t.Fatalf("unexpected finding %+v", *got)
			case tt.want != "" && got == nil:
				t.Fatalf("no %s finding", doctor.CodeGatewayWouldNotStart)
			case got != nil && (!strings.Contains(got.Detail, tt.want) || got.Severity != doctor.SevError || got.Fix == ""):
				t.Errorf("finding %+v: want an error whose detail holds %q, with a fix", *got, tt.want)
			}
		})
	}
}
