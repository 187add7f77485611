package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/wire"
)

// The messaging commands: message send, channels status/logout, pairing
// list/approve (doc/messaging.md §1.16). "channels login" is the WhatsApp
// QR login, registered in channels_login.go (Register(&Command{Path:
// "channels login", ...})); the group summary below covers it.

func init() {
	RegisterGroup("message", "send messages through a channel")
	RegisterGroup("channels", "messaging channels: status, login, logout")
	RegisterGroup("pairing", "approve unknown senders of direct messages")
	gw := []ExitCode{{ExitOK, "done"}, {ExitFailure, "gateway not reachable, refused, or the request failed"}, {Code: ExitUsage}}
	Register(&Command{Path: "message send", Summary: "send a message (and media) through a channel via the gateway", Run: runMessageSend, Exits: gw})
	Register(&Command{Path: "channels status", Summary: "show the channels and their accounts (--probe checks them)", Run: runChannelsStatus, Exits: gw})
	Register(&Command{Path: "channels logout", Summary: "log a channel account out (Telegram: removes botToken from the config)", Run: runChannelsLogout, Exits: gw})
	Register(&Command{Path: "pairing list", Summary: "list pending pairing requests of a channel", Run: runPairingList,
		Exits: []ExitCode{{ExitOK, "listed (also when there are none)"}, {ExitFailure, "the pairing store cannot be read"}, {Code: ExitUsage}}})
	Register(&Command{Path: "pairing approve", Summary: "approve a pairing code and allow that sender", Run: runPairingApprove,
		Exits: []ExitCode{{ExitOK, "approved"}, {ExitFailure, "no pending request has that code, or the store cannot be written"}, {Code: ExitUsage}}})
}

func runMessageSend(env *Env, args []string) int {
	var cf clientFlags
	var channel, target, message, account, sessionKey, idem string
	var media []string
	var asJSON, gif bool
	const usage = "message send --target TARGET --message TEXT [--channel C] [--media URL]... [--account ID] [--json]"
	fs := env.FlagSet("message send", usage)
	fs.StringVar(&channel, "channel", "", "channel id or alias (default: whatsapp)")
	fs.StringVarP(&target, "target", "t", "", "recipient: chat id, @username, E.164 number or group id")
	fs.StringVar(&target, "to", "", "alias of --target")
	fs.StringVarP(&message, "message", "m", "", "message text (MEDIA: lines become attachments)")
	fs.StringArrayVar(&media, "media", nil, "media URL or local path (repeatable)")
	fs.BoolVar(&gif, "gif-playback", false, "WhatsApp: play a video as a GIF")
	fs.StringVar(&account, "account", "", "channel account id (default: the channel's default account)")
	fs.StringVar(&sessionKey, "session-key", "", "mirror the message into this session's transcript")
	fs.StringVar(&idem, "idempotency-key", "", "dedupe key (default: a new id)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	if strings.TrimSpace(target) == "" || strings.TrimSpace(message) == "" && len(media) == 0 {
		return env.Usagef("message send", "message send: --target and --message (or --media) are required")
	}
	if idem == "" {
		idem = wire.NewID()
	}
	p := wire.SendParams{To: target, Message: message, Channel: channel, AccountID: account, SessionKey: sessionKey, IdempotencyKey: idem}
	if p.Message == "" {
		p.Message = " " // the schema wants a message; media-only sends carry none
	}
	if len(media) > 0 {
		p.MediaURL, p.MediaURLs = media[0], media[1:]
	}
	if gif {
		p.GifPlayback = &gif
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	raw, err := callGateway(env, t, cf.timeout(), "send", p)
	if err != nil {
		return reportGatewayError(env, t, "Send failed", err)
	}
	if asJSON {
		fmt.Fprintln(env.Stdout, prettyJSON(raw))
		return ExitOK
	}
	var res wire.SendResult
	_ = json.Unmarshal(raw, &res)
	to := firstOf(res.ChatID, res.ToJid, res.ChannelID, res.ConversationID, target)
	fmt.Fprintf(env.Stdout, "Sent via %s to %s (message id %s).\n", firstOf(res.Channel, channel), to, res.MessageID)
	return ExitOK
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func runChannelsStatus(env *Env, args []string) int {
	var cf clientFlags
	var probe, asJSON bool
	fs := env.FlagSet("channels status", "channels status [--probe] [--json]")
	fs.BoolVar(&probe, "probe", false, "check each configured account (Telegram getMe)")
	fs.BoolVar(&asJSON, "json", false, "print the gateway's channels.status result as JSON")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	params := map[string]any{"probe": probe}
	if probe {
		params["timeoutMs"] = max(cf.timeout().Milliseconds()-1000, 1000)
	}
	raw, err := callGateway(env, t, cf.timeout(), "channels.status", params)
	if err != nil {
		return reportGatewayError(env, t, "Channels status", err)
	}
	if asJSON {
		fmt.Fprintln(env.Stdout, prettyJSON(raw))
		return ExitOK
	}
	var s channels.StatusSnapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		return env.Fail(ExitFailure, CodeBadResponse, "unexpected channels.status result: "+err.Error(), "")
	}
	renderChannelsStatus(env, s)
	return ExitOK
}

// renderChannelsStatus prints one block per channel and a line per
// account: state, then the fields that explain it.
func renderChannelsStatus(env *Env, s channels.StatusSnapshot) {
	if len(s.ChannelOrder) == 0 {
		fmt.Fprintln(env.Stdout, "No channels are loaded.")
		return
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 2, 2, ' ', 0)
	for _, id := range s.ChannelOrder {
		fmt.Fprintf(w, "%s (%s)\n", s.ChannelLabels[id], id)
		for _, row := range s.ChannelAccounts[id] {
			state := "not configured"
			switch {
			case row["enabled"] == false:
				state = "disabled"
			case row["running"] == true:
				state = "running"
			case row["configured"] == true:
				state = "configured, not running"
			}
			if l, ok := row["linked"].(bool); ok && !l {
				state = "not linked"
			}
			var extra []string
			for _, k := range []string{"mode", "tokenSource", "dmPolicy", "connected"} {
				if v, ok := row[k]; ok && v != nil && v != "" {
					extra = append(extra, fmt.Sprintf("%s=%v", k, v))
				}
			}
			if e, ok := row["lastError"].(string); ok && e != "" {
				extra = append(extra, "lastError="+e)
			}
			if p, ok := row["probe"].(map[string]any); ok {
				if p["ok"] == true {
					extra = append(extra, "probe=ok")
				} else {
					extra = append(extra, fmt.Sprintf("probe=failed (%v)", p["error"]))
				}
			}
			fmt.Fprintf(w, "  - %v\t%s\t%s\n", row["accountId"], state, strings.Join(extra, " "))
		}
	}
	_ = w.Flush()
}

func runChannelsLogout(env *Env, args []string) int {
	var cf clientFlags
	var channel, account string
	var asJSON bool
	fs := env.FlagSet("channels logout", "channels logout --channel C [--account ID] [--json]")
	fs.StringVar(&channel, "channel", "", "channel id (telegram, whatsapp)")
	fs.StringVar(&account, "account", "", "account id (default: the channel's default account)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	if strings.TrimSpace(channel) == "" {
		return env.Usagef("channels logout", "channels logout: --channel is required")
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	params := map[string]any{"channel": channel}
	if account != "" {
		params["accountId"] = account
	}
	raw, err := callGateway(env, t, cf.timeout(), "channels.logout", params)
	if err != nil {
		return reportGatewayError(env, t, "Logout failed", err)
	}
	if asJSON {
		fmt.Fprintln(env.Stdout, prettyJSON(raw))
		return ExitOK
	}
	var res map[string]any
	_ = json.Unmarshal(raw, &res)
	if res["cleared"] == true {
		fmt.Fprintf(env.Stdout, "Logged out %v account %v.\n", res["channel"], res["accountId"])
	} else {
		fmt.Fprintf(env.Stdout, "Nothing to log out for %v account %v.\n", res["channel"], res["accountId"])
	}
	return ExitOK
}

// pairingStore is the pairing store of the active profile, read and
// written directly like the original's CLI does (no gateway needed).
func pairingStore(env *Env) (*channels.PairingStore, error) {
	p, err := env.ResolveProfile(0)
	if err != nil {
		return nil, err
	}
	normalize := func(channel, e string) string {
		if channel == "telegram" {
			l := strings.ToLower(e)
			for _, pre := range []string{"telegram:", "tg:"} {
				if strings.HasPrefix(l, pre) {
					return strings.TrimSpace(e[len(pre):])
				}
			}
		}
		return e
	}
	return channels.NewPairingStore(channels.CredentialsDir(p.StateDir, env.Getenv), nil, normalize), nil
}

// pairingChannel validates a channel name for the pairing files.
func pairingChannel(raw string) (string, bool) {
	v := strings.ToLower(strings.TrimSpace(raw))
	if v == "" || len(v) > 64 || !(v[0] >= 'a' && v[0] <= 'z') {
		return "", false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return "", false
		}
	}
	return v, true
}

// pairingIDLabels name the sender id per channel, as the original's table.
var pairingIDLabels = map[string]string{"telegram": "telegramUserId", "whatsapp": "whatsappSenderId"}

func runPairingList(env *Env, args []string) int {
	var channel string
	var asJSON bool
	fs := env.FlagSet("pairing list", "pairing list [CHANNEL | --channel C] [--json]")
	fs.StringVar(&channel, "channel", "", "channel (telegram, whatsapp, ...)")
	fs.BoolVar(&asJSON, "json", false, "print {channel, requests} as JSON")
	if code, ok := env.Parse(fs, args, 1); !ok {
		return code
	}
	if channel == "" {
		channel = fs.Arg(0)
	}
	ch, ok := pairingChannel(channel)
	if !ok {
		return env.Usagef("pairing list", "pairing list: a channel is required (e.g. %s)", env.Hint("clawdbot pairing list telegram"))
	}
	st, err := pairingStore(env)
	if err != nil {
		return env.Errorf("%v", err)
	}
	reqs, err := st.List(ch)
	if err != nil {
		return env.Errorf("pairing list: %v", err)
	}
	if reqs == nil {
		reqs = []channels.PairingRequest{}
	}
	if asJSON {
		b, _ := json.MarshalIndent(map[string]any{"channel": ch, "requests": reqs}, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
		return ExitOK
	}
	if len(reqs) == 0 {
		fmt.Fprintf(env.Stdout, "No pending %s pairing requests.\n", ch)
		return ExitOK
	}
	label := pairingIDLabels[ch]
	if label == "" {
		label = "id"
	}
	fmt.Fprintf(env.Stdout, "Pairing requests (%d)\n", len(reqs))
	w := tabwriter.NewWriter(env.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintf(w, "Code\t%s\tMeta\tRequested\n", label)
	for _, r := range reqs {
		meta := ""
		if len(r.Meta) > 0 {
			b, _ := json.Marshal(r.Meta) // keys sorted
			meta = string(b)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Code, r.ID, meta, r.CreatedAt)
	}
	_ = w.Flush()
	return ExitOK
}

func runPairingApprove(env *Env, args []string) int {
	var cf clientFlags
	var channel string
	var notify bool
	fs := env.FlagSet("pairing approve", "pairing approve <channel> <code> | --channel C <code> [--notify]")
	fs.StringVar(&channel, "channel", "", "channel (instead of the first argument)")
	fs.BoolVar(&notify, "notify", false, "tell the sender through the gateway's send that they were approved")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 2); !ok {
		return code
	}
	var code string
	switch {
	case channel != "" && fs.NArg() == 1:
		code = fs.Arg(0)
	case channel == "" && fs.NArg() == 2:
		channel, code = fs.Arg(0), fs.Arg(1)
	default:
		return env.Usagef("pairing approve", "pairing approve: usage: %s", env.Hint("clawdbot pairing approve <channel> <code>"))
	}
	ch, ok := pairingChannel(channel)
	if !ok {
		return env.Usagef("pairing approve", "pairing approve: invalid channel %q", channel)
	}
	st, err := pairingStore(env)
	if err != nil {
		return env.Errorf("%v", err)
	}
	req, found, err := st.Approve(ch, code)
	if err != nil {
		return env.Errorf("pairing approve: %v", err)
	}
	if !found {
		return env.Fail(ExitFailure, CodeFailed, "No pending pairing request found for code: "+code,
			"list them with '"+env.Hint("clawdbot pairing list "+ch)+"'")
	}
	fmt.Fprintf(env.Stdout, "Approved %s sender %s.\n", ch, req.ID)
	if !notify {
		return ExitOK
	}
	t, err := resolveGatewayTarget(env, cf)
	if err == nil {
		_, err = callGateway(env, t, cf.timeout(), "send", wire.SendParams{Channel: ch, To: req.ID,
			Message: channels.PairingApprovedMessage, IdempotencyKey: wire.NewID()})
	}
	if err != nil {
		env.Warnf("Failed to notify requester: %v", err)
	}
	return ExitOK
}
