package doctor_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/supervise"
)

// The README's own order: `clawdbot gateway` in one shell, then `gateway
// install` in another. The unit cannot bind and systemd restarts it every
// 5 s, while the hand-started gateway answers every probe. Status must not
// say "running and reachable" (exit 0) nor suggest `gateway start`; it and
// doctor name the pid that holds the port and how to stop it. The real
// gateway answers the probe; the listener is injected because lsof cannot
// be made to report a chosen pid and command line.
func TestPortHeldByAHandStartedGatewayWhileTheServiceIsInstalled(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "work", `, "auth": {"token": "`+testToken+`"}`)
	startGateway(t, t.TempDir(), f.port, testToken)
	want, _ := driftedUnit(t, f)
	f.fake.running[want.Name] = false // auto-restart: it cannot bind
	l := ports.Classified(ports.Listener{PID: 4242, Command: "clawdbot", CommandLine: "/usr/local/bin/clawdbot --profile work gateway", User: "tester"})
	f.c.Inspect = func(_ context.Context, port int) ports.Report {
		return ports.Report{Port: port, Status: ports.StatusBusy, Listeners: []ports.Listener{l}, Hints: []string{ports.HintGateway}}
	}

	f.c.Refresh() // driftedUnit asked for Want before writing the unit
	r := doctor.GatherStatus(context.Background(), f.c, doctor.StatusOptions{Token: testToken})
	if r.RPC == nil || !r.RPC.OK {
		t.Fatalf("probe of the hand-started gateway failed: %+v", r.RPC)
	}
	if code := r.ExitCode(); code == doctor.StatusExitOK {
		t.Errorf("exit code %d while the service cannot bind", code)
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	text := buf.String()
	for _, w := range []string{"the port is held by pid 4242 (not the service)", "kill 4242", "clawdbot --profile work gateway uninstall"} {
		if !strings.Contains(text, w) {
			t.Errorf("status text lacks %q:\n%s", w, text)
		}
	}
	for _, bad := range []string{"running and reachable", "gateway start", "(clawdbot gateway stop)"} {
		if strings.Contains(text, bad) {
			t.Errorf("status text says %q:\n%s", bad, text)
		}
	}
	if !slices.ContainsFunc(r.Port.Hints, func(h string) bool { return strings.Contains(h, "started by hand") }) {
		t.Errorf("port hints %q do not say the holder was started by hand", r.Port.Hints)
	}

	fs := f.run(t)
	var got *doctor.Finding
	for i := range fs {
		if fs[i].Code == doctor.CodePortHeldNotByService {
			got = &fs[i]
		}
	}
	if got == nil || got.Severity != doctor.SevError || !strings.Contains(got.Message, "pid 4242 (not the service)") || !strings.Contains(got.Fix, "kill 4242") {
		t.Fatalf("doctor finding %+v in %v", got, codes(fs, ""))
	}

	// The service itself holding the port is fine.
	f.fake.running[want.Name] = true
	f.fake.pid = 4242
	f.c.Refresh()
	if r := doctor.GatherStatus(context.Background(), f.c, doctor.StatusOptions{Token: testToken}); slices.ContainsFunc(r.Warnings, func(w doctor.StatusWarning) bool {
		return w.Code == doctor.CodePortHeldNotByService
	}) {
		t.Errorf("warning with the service holding its own port: %+v", r.Warnings)
	}
	if slices.Contains(codes(f.run(t), ""), doctor.CodePortHeldNotByService) {
		t.Error("doctor finding with the service holding its own port")
	}
}
