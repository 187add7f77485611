package doctor_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// Text output stays one item per line, aligned: tool output quoted in a
// detail (systemctl and loginctl print two lines) is indented under its
// finding, and an issue without a key path (a syntax error) is not printed
// as ": message".
func TestTextLayout(t *testing.T) {
	var b bytes.Buffer
	fs := []doctor.Finding{{Check: "linger", Code: "linger-unknown", Severity: doctor.SevInfo, Message: "Cannot tell",
		Detail: "loginctl failed: Can't operate.\nFailed to connect to bus: Host is down", Fix: "loginctl enable-linger u"}}
	doctor.WriteReport(&b, doctor.Checks(), fs, nil, nil, func(s string) string { return s })
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "Failed to connect") {
			t.Errorf("continuation line not indented: %q\n%s", l, b.String())
		}
	}
	if !strings.Contains(b.String(), "\n          Failed to connect to bus: Host is down\n") {
		t.Errorf("report:\n%s", b.String())
	}

	b.Reset()
	r := &doctor.StatusReport{Warnings: []doctor.StatusWarning{}}
	r.Config.CLI = doctor.StatusConfig{Path: "/h/.clawdbot/clawdbot.json", Exists: true,
		Issues: []doctor.StatusIssue{{Message: "/h/.clawdbot/clawdbot.json:1:1: syntax error"}, {Path: "gateway.port", Message: "expected integer"}}}
	r.Service.Runtime = doctor.StatusRuntime{Status: "unknown", Detail: "Job failed.\nSee \"systemctl --user status x\""}
	r.WriteText(&b)
	out := b.String()
	if strings.Contains(out, ": /h/.clawdbot") || !strings.Contains(out, "Config issue:      /h/.clawdbot/clawdbot.json:1:1: syntax error\n") ||
		!strings.Contains(out, "Config issue:      gateway.port: expected integer\n") {
		t.Errorf("config issues:\n%s", out)
	}
	if !strings.Contains(out, "Job failed.\n                   See") {
		t.Errorf("multi-line supervisor detail not indented:\n%s", out)
	}
}

// Without a config, `gateway install` refuses; the warnings list what to do
// in the order it works: setup before install.
func TestStatusWarningsPutTheConfigFirst(t *testing.T) {
	f := newFixture(t, supervise.Systemd, "", "")
	if err := os.Remove(f.c.Profile.ConfigPath); err != nil {
		t.Fatal(err)
	}
	r := doctor.GatherStatus(context.Background(), f.c, doctor.StatusOptions{NoProbe: true})
	var got []string
	for _, w := range r.Warnings {
		got = append(got, w.Code)
	}
	if len(got) < 2 || got[0] != doctor.CodeConfigMissing || !strings.Contains(r.Warnings[0].Fix, "clawdbot setup") {
		t.Errorf("warnings %v, want %s first", got, doctor.CodeConfigMissing)
	}
}
