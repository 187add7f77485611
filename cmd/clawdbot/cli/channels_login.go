package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/mdp/qrterminal/v3"
)

// channels login is the WhatsApp QR login. It goes through the running
// gateway's web.login.start/wait (doc/messaging.md §5.3): the gateway owns
// the one WhatsApp connection per account, so a second, in-process client
// would fight it for the session. The gateway answers the raw QR text
// ("qr") beside the PNG, which this command draws with half blocks;
// WhatsApp rotates the code about every 20 s and the command redraws it.

func init() {
	Register(&Command{Path: "channels login", Summary: "link WhatsApp: show the QR in the terminal and wait for the scan (via the gateway)", Run: runChannelsLogin,
		Exits: []ExitCode{{ExitOK, "linked, or already linked"}, {ExitFailure, "gateway not reachable, the QR expired, or the login failed"}, {Code: ExitUsage}}})
}

// loginPoll is one web.login.wait round; between rounds the command asks
// web.login.start for the current code (WhatsApp rotates it).
const loginPoll = 15 * time.Second

// loginTotal bounds the whole command: the gateway's login stays fresh 3 min.
const loginTotal = 3 * time.Minute

func runChannelsLogin(env *Env, args []string) int {
	var cf clientFlags
	var channel, account string
	var force, verbose bool
	fs := env.FlagSet("channels login", "channels login [--channel whatsapp] [--account ID] [--force]")
	fs.StringVar(&channel, "channel", "whatsapp", "channel to link (only whatsapp links by QR)")
	fs.StringVar(&account, "account", "", "account id (default: the channel's default account)")
	fs.BoolVar(&force, "force", false, "relink even when already linked (drops the current link)")
	fs.BoolVar(&verbose, "verbose", false, "accepted for the original's CLI; no effect")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	switch strings.ToLower(strings.TrimSpace(channel)) {
	case "whatsapp", "web":
	default:
		return env.Usagef("channels login", "channels login: only --channel whatsapp links by QR (Telegram uses channels.telegram.botToken)")
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	base := map[string]any{}
	if account != "" {
		base["accountId"] = account
	}
	start := func(force bool) (qr, message string, err error) {
		p := map[string]any{"timeoutMs": 30000}
		for k, v := range base {
			p[k] = v
		}
		if force {
			p["force"] = true
		}
		raw, err := callGateway(env, t, 40*time.Second, "web.login.start", p)
		if err != nil {
			return "", "", err
		}
		var res struct {
			QR      string `json:"qr"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &res)
		return res.QR, res.Message, nil
	}
	qr, msg, err := start(force)
	var shape *wire.ErrorShape
	if errors.As(err, &shape) && shape.Message == "web login provider is not available" {
		// A gateway loads WhatsApp only when the config names it
		// (doc/messaging.md §1.1); say how, instead of the bare error.
		return env.Fail(ExitFailure, shape.Code, "WhatsApp is not enabled on this gateway",
			"add it to the config (e.g. channels.whatsapp.dmPolicy \"pairing\" in "+t.ConfigPath+"), restart the gateway, then run this again")
	}
	if err != nil {
		return reportGatewayError(env, t, "WhatsApp login failed", err)
	}
	if qr == "" {
		fmt.Fprintln(env.Stdout, msg)
		return ExitOK
	}
	draw := func(code string) {
		fmt.Fprintln(env.Stdout, "Scan this QR in WhatsApp (Linked Devices):")
		qrterminal.GenerateHalfBlock(code, qrterminal.L, env.Stdout)
	}
	draw(qr)
	deadline := time.Now().Add(loginTotal)
	for time.Now().Before(deadline) {
		p := map[string]any{"timeoutMs": loginPoll.Milliseconds()}
		for k, v := range base {
			p[k] = v
		}
		raw, err := callGateway(env, t, loginPoll+20*time.Second, "web.login.wait", p)
		if err != nil {
			return reportGatewayError(env, t, "WhatsApp login failed", err)
		}
		var res struct {
			Connected bool   `json:"connected"`
			Message   string `json:"message"`
		}
		_ = json.Unmarshal(raw, &res)
		if res.Connected {
			fmt.Fprintln(env.Stdout, "✅ Linked! Credentials saved for future sends.")
			return ExitOK
		}
		next, _, err := start(false)
		if err != nil {
			return reportGatewayError(env, t, "WhatsApp login failed", err)
		}
		if next != "" && next != qr {
			qr = next
			draw(qr)
		}
	}
	return env.Errorf("WhatsApp login: the QR was not scanned within %s; run it again", loginTotal)
}
