package doctor_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// runBounded runs the checks and fails the test if doctor does not finish
// well past its own per-check bound (a liveness guard, not a timing
// assertion: the bound is 50x the configured timeout).
func runBounded(t *testing.T, f *fixture) []doctor.Finding {
	t.Helper()
	done := make(chan []doctor.Finding, 1)
	go func() { done <- f.run(t) }()
	select {
	case fs := <-done:
		return fs
	case <-time.After(30 * time.Second):
		t.Fatal("doctor did not finish: a hung check is not bounded")
		return nil
	}
}

// systemctl hangs but dies when its context ends (the real ExecRunner kills
// it): the service check reports the manager as unreachable.
func TestDoctorHungSystemctlIsBounded(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	driftedUnit(t, f)
	f.fake.hang = []string{"systemctl --user show"}
	f.c.CheckTimeout = 300 * time.Millisecond
	got := codes(runBounded(t, f), "")
	if !slices.Contains(got, doctor.CodeServiceManagerDown) && !slices.Contains(got, doctor.CodeCheckTimeout) {
		t.Errorf("hung systemctl not reported: %v", got)
	}
}

// systemctl hangs and ignores its context: doctor gives up on the check,
// says so, and still returns the other checks' findings in order.
func TestDoctorStuckCheckIsAbandoned(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	driftedUnit(t, f)
	f.fake.stuck, f.fake.unstuck = []string{"systemctl --user show", "loginctl"}, make(chan struct{})
	t.Cleanup(func() { close(f.fake.unstuck) })
	f.c.CheckTimeout = 300 * time.Millisecond
	fs := runBounded(t, f)
	var timedOut []string
	for _, fd := range fs {
		if fd.Code == doctor.CodeCheckTimeout {
			timedOut = append(timedOut, fd.Check)
			if fd.Severity != doctor.SevError || !strings.Contains(fd.Message, "did not finish") {
				t.Errorf("timeout finding: %+v", fd)
			}
		}
	}
	if !slices.Contains(timedOut, "service") || !slices.Contains(timedOut, "linger") {
		t.Errorf("timed-out checks = %v, want service and linger (findings %v)", timedOut, codes(fs, ""))
	}
	if !slices.Contains(codes(fs, ""), supervise.CodeRestartSec) && !slices.Contains(timedOut, "service") {
		t.Errorf("findings: %v", codes(fs, ""))
	}
	// A repair run after abandoned checks must not race with them (-race).
	doctor.Fix(context.Background(), f.c, fs, doctor.FixOptions{Only: []doctor.Step{doctor.StepPermissions}})
	f.c.Refresh()
}

// A gateway that accepts the TCP connection and never answers: the health
// check ends at the probe timeout with gateway-unreachable.
func TestDoctorSilentGatewayIsBounded(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", `, "auth": {"token": "`+testToken+`"}`)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	f.c.Profile.Ports.Gateway = l.Addr().(*net.TCPAddr).Port
	f.c.ProbeTimeout = 300 * time.Millisecond
	got := codes(runBounded(t, f), "")
	if !slices.Contains(got, doctor.CodeGatewayUnreachable) {
		t.Errorf("silent gateway not reported unreachable: %v", got)
	}
}
