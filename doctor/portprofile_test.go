package doctor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/supervise"
)

// A gateway started by hand with --profile/--dev carries its profile in its
// arguments, not in CLAWDBOT_PROFILE (ports.Inspect reads both; the fake
// below is built with ports.Classified, as Inspect does). Doctor and status
// must still tell another
// profile's gateway on this profile's port from this profile's own.
// The listener is injected (Context.Inspect): the test is about how it is
// judged, and lsof output for a chosen command line cannot be staged.
func TestPortHeldByAnotherProfilesHandStartedGateway(t *testing.T) {
	tests := []struct {
		name, profile, cmdline string
		wantOther              bool
		wantFix                string
		marker                 string // CLAWDBOT_SERVICE_MARKER: run by a service manager
		envProfile             string // CLAWDBOT_PROFILE in its environment
	}{
		{"default vs --profile rescue", "", "/usr/local/bin/clawdbot --profile rescue gateway", true, "stop it (kill 4242", "", ""},
		{"default vs --profile=rescue", "", "/usr/local/bin/clawdbot --profile=rescue gateway --port 18789", true, "stop it (kill 4242", "", ""},
		{"default vs --dev", "", "clawdbot --dev gateway", true, "stop it (kill 4242", "", ""},
		{"default vs its own", "", "/usr/local/bin/clawdbot gateway --verbose", false, "", "", ""},
		{"work vs its own", "work", "clawdbot --profile work gateway", false, "", "", ""},
		{"work vs default", "work", "clawdbot gateway", true, "stop it (kill 4242", "", ""},
		{"a command flag named like a global one does not count", "", "clawdbot gateway --profile x", false, "", "", ""},
		{"another profile's service: stop the service", "", "/usr/local/bin/clawdbot gateway --port 18789", true, "clawdbot --profile rescue gateway stop", "clawdbot", "rescue"},
		{"this profile's service run under CLAWDBOT_PROFILE", "rescue", "/usr/local/bin/clawdbot gateway", false, "", "clawdbot", "rescue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, supervise.Systemd, tc.profile, "")
			l := ports.Classified(ports.Listener{PID: 4242, Command: "clawdbot", CommandLine: tc.cmdline, User: "tester", Address: "127.0.0.1:1",
				ServiceMarker: tc.marker, Profile: tc.envProfile})
			f.c.Inspect = func(_ context.Context, port int) ports.Report {
				return ports.Report{Port: port, Status: ports.StatusBusy, Listeners: []ports.Listener{l}, Hints: []string{ports.HintGateway}}
			}
			var got *doctor.Finding
			fs := f.run(t)
			for i := range fs {
				if fs[i].Code == doctor.CodePortOtherProfile {
					got = &fs[i]
				}
			}
			if (got != nil) != tc.wantOther {
				t.Fatalf("doctor %s finding = %v, want %v; findings %v", doctor.CodePortOtherProfile, got, tc.wantOther, codes(fs, ""))
			}
			if got != nil && !strings.HasPrefix(got.Fix, tc.wantFix) {
				t.Errorf("fix %q, want it to start with %q", got.Fix, tc.wantFix)
			}

			r := doctor.GatherStatus(context.Background(), f.c, doctor.StatusOptions{NoProbe: true})
			var w *doctor.StatusWarning
			for i := range r.Warnings {
				if r.Warnings[i].Code == doctor.CodePortOtherProfile {
					w = &r.Warnings[i]
				}
			}
			if (w != nil) != tc.wantOther {
				t.Fatalf("gateway status warning = %v, want %v; warnings %+v", w, tc.wantOther, r.Warnings)
			}
			if w != nil && !strings.Contains(w.Fix, tc.wantFix) {
				t.Errorf("status fix %q lacks %q", w.Fix, tc.wantFix)
			}
		})
	}
}

// When the gateway that rejects our token is another profile's, the fix is
// not "make the tokens match" (that would hand this profile's clients to the
// other gateway) but to separate the two.
func TestAuthFailureAgainstAnotherProfilesGateway(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	startGateway(t, t.TempDir(), f.port, "the-rescue-profiles-token-0123456789")
	l := ports.Classified(ports.Listener{PID: 4242, Command: "clawdbot", CommandLine: "/usr/local/bin/clawdbot --profile rescue gateway"})
	f.c.Inspect = func(_ context.Context, port int) ports.Report {
		return ports.Report{Port: port, Status: ports.StatusBusy, Listeners: []ports.Listener{l}}
	}
	var got *doctor.Finding
	fs := f.run(t)
	for i := range fs {
		if fs[i].Code == doctor.CodeGatewayAuthFailed {
			got = &fs[i]
		}
	}
	if got == nil {
		t.Fatalf("no %s in %v", doctor.CodeGatewayAuthFailed, codes(fs, ""))
	}
	if !strings.Contains(got.Message, "profile rescue") || strings.Contains(got.Fix, "match") || !strings.Contains(got.Fix, "kill 4242") {
		t.Errorf("finding: %+v", got)
	}
}
