package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pairing list/approve work on the files directly (written here in the
// original's format), without a gateway.
func TestPairingCommands(t *testing.T) {
	env, out, errb := callTestEnv(t, map[string]string{})
	creds := filepath.Join(env.Home, ".clawdbot", "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	file := `{"version":1,"requests":[{"id":"123456","code":"ABCD2345","createdAt":"` + now + `","lastSeenAt":"` + now +
		`","meta":{"username":"ann"}}]}`
	if err := os.WriteFile(filepath.Join(creds, "telegram-pairing.json"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		out.Reset()
		errb.Reset()
		code := Main(args, env)
		return code, out.String(), errb.String()
	}
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"pairing", "list"}, ExitUsage, "", "a channel is required"},
		{[]string{"pairing", "list", "whatsapp"}, ExitOK, "No pending whatsapp pairing requests.", ""},
		{[]string{"pairing", "list", "telegram"}, ExitOK, "ABCD2345  123456          {\"username\":\"ann\"}", ""},
		{[]string{"pairing", "list", "--channel", "telegram", "--json"}, ExitOK, `"code": "ABCD2345"`, ""},
		{[]string{"pairing", "approve", "telegram"}, ExitUsage, "", "usage: clawdbot pairing approve <channel> <code>"},
		{[]string{"pairing", "approve", "telegram", "NOPE1234"}, ExitFailure, "", "No pending pairing request found for code: NOPE1234"},
		{[]string{"pairing", "approve", "telegram", "abcd2345"}, ExitOK, "Approved telegram sender 123456.", ""},
		{[]string{"pairing", "list", "telegram"}, ExitOK, "No pending telegram pairing requests.", ""},
	}
	for _, tc := range cases {
		code, stdout, stderr := run(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s", tc.args, code, stdout, stderr)
		}
	}
	b, err := os.ReadFile(filepath.Join(creds, "telegram-allowFrom.json"))
	var doc struct{ AllowFrom []string }
	if err != nil || json.Unmarshal(b, &doc) != nil || len(doc.AllowFrom) != 1 || doc.AllowFrom[0] != "123456" {
		t.Errorf("allowFrom file %s %v", b, err)
	}
}

// message send and channels status go through the gateway. A fresh
// gateway loads no channel plugin, as the original's (doc/messaging.md
// §1.1): send answers its INVALID_REQUEST; with channels.whatsapp in the
// config, WhatsApp loads and answers NOT_LINKED until it is linked.
func TestMessageSendAndChannelsStatus(t *testing.T) {
	for _, tc := range []struct {
		name, config, send, statusJSON, status string
	}{
		{"fresh", "", "unsupported channel: whatsapp", `"channelOrder": []`, "No channels are loaded."},
		{"whatsapp configured", `{"channels":{"whatsapp":{"dmPolicy":"pairing"}}}`, "WhatsApp is not linked (account: default)",
			"\"channelOrder\": [\n    \"whatsapp\"\n  ]", "WhatsApp (whatsapp)"},
	} {
		t.Run(tc.name, func(t *testing.T) { testMessageSendAndChannelsStatus(t, tc.config, tc.send, tc.statusJSON, tc.status) })
	}
}

func testMessageSendAndChannelsStatus(t *testing.T, config, wantSend, wantStatusJSON, wantStatus string) {
	g := startTestGateway(t, "right", config)
	env, out, errb := callTestEnv(t, map[string]string{})
	run := func(args ...string) (int, string) {
		out.Reset()
		errb.Reset()
		code := Main(append(args, "--url", g.url, "--token", "right"), env)
		return code, out.String() + errb.String()
	}
	// WhatsApp is the default channel.
	if code, s := run("message", "send", "--target", "+15550001111", "--message", "hi"); code != ExitFailure ||
		!strings.Contains(s, wantSend) {
		t.Errorf("send: exit %d: %s", code, s)
	}
	if code, s := run("message", "send", "--channel", "telegram", "--target", "1", "--message", "hi", "--json"); code != ExitFailure ||
		!strings.Contains(s, `"code":"INVALID_REQUEST"`) {
		t.Errorf("send --json: exit %d: %s", code, s)
	}
	if code, s := run("message", "send", "--message", "hi"); code != ExitUsage || !strings.Contains(s, "--target") {
		t.Errorf("send without target: exit %d: %s", code, s)
	}
	if code, s := run("channels", "status", "--json"); code != ExitOK || !strings.Contains(s, wantStatusJSON) {
		t.Errorf("channels status --json: exit %d: %s", code, s)
	}
	if code, s := run("channels", "status"); code != ExitOK || !strings.Contains(s, wantStatus) {
		t.Errorf("channels status: exit %d: %s", code, s)
	}
	if code, s := run("channels", "logout", "--channel", "telegram"); code != ExitFailure || !strings.Contains(s, "INVALID") &&
		!strings.Contains(s, "invalid channels.logout channel") {
		t.Errorf("channels logout: exit %d: %s", code, s)
	}
}
