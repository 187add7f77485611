package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/client"
)

func init() {
	Register(&Command{Path: "agent", Summary: "run an agent turn through the gateway and print the reply", Run: runAgent,
		Exits: []ExitCode{
			{ExitOK, "the agent replied (or, with --no-wait, accepted the run)"},
			{ExitFailure, "the gateway could not be reached, refused this CLI, or the run failed"},
			{ExitUsage, "usage error: no --message, no session chosen, a bad --thinking or --timeout"},
		}})
}

// Defaults of the original's agent command (doc/messaging.md §1.16, §4.3).
const (
	defaultAgentTimeoutSeconds = 600
	defaultMainKey             = "main"
	defaultAgentID             = "main"
	// agentWaitSlack is added to the run's timeout for the client's own
	// wait: the gateway ends the run at the timeout and still has to
	// answer.
	agentWaitSlack = 30 * time.Second
	agentWaitMin   = 10 * time.Second
)

// thinkingAliases are the levels (and their aliases) the original's
// normalizeThinkLevel accepts; the raw value is sent on and the gateway
// normalises it.
var thinkingAliases = map[string]bool{
	"off": true, "on": true, "enable": true, "enabled": true, "min": true, "minimal": true, "think": true,
	"low": true, "thinkhard": true, "think-hard": true, "think_hard": true,
	"mid": true, "med": true, "medium": true, "thinkharder": true, "think-harder": true, "harder": true,
	"high": true, "ultra": true, "ultrathink": true, "thinkhardest": true, "highest": true, "max": true,
	"xhigh": true, "x-high": true, "x_high": true,
}

type agentFlags struct {
	Message      string
	To           string
	SessionID    string
	Agent        string
	Thinking     string
	Timeout      int // seconds
	JSON         bool
	NoWait       bool
	Deliver      bool
	Channel      string
	ReplyTo      string
	ReplyChannel string
	RunID        string
	Conn         clientFlags
}

func runAgent(env *Env, args []string) int {
	var f agentFlags
	fs := env.FlagSet("agent", "agent --message TEXT (--agent ID | --session-id ID | --to NUMBER) [flags]")
	fs.StringVarP(&f.Message, "message", "m", "", "message body for the agent (required)")
	fs.StringVarP(&f.To, "to", "t", "", "recipient number in E.164, used to derive the session key")
	fs.StringVar(&f.SessionID, "session-id", "", "use an explicit session id")
	fs.StringVar(&f.Agent, "agent", "", "agent id (its main session)")
	fs.StringVar(&f.Thinking, "thinking", "", "thinking level: off | minimal | low | medium | high")
	fs.IntVar(&f.Timeout, "timeout", 0, "agent timeout in seconds (default agents.defaults.timeoutSeconds, else 600)")
	fs.BoolVar(&f.JSON, "json", false, "print the final result (or the error) as JSON")
	fs.BoolVar(&f.NoWait, "no-wait", false, "print the runId once the gateway accepted the run, and exit")
	fs.BoolVar(&f.Deliver, "deliver", false, "send the agent's reply back to the selected channel")
	fs.StringVar(&f.Channel, "channel", "", "delivery channel (telegram, whatsapp, ...)")
	fs.StringVar(&f.ReplyTo, "reply-to", "", "delivery target override")
	fs.StringVar(&f.ReplyChannel, "reply-channel", "", "delivery channel override")
	fs.StringVar(&f.RunID, "run-id", "", "idempotency key of the run (default: a new UUID); a retry with the same key does not run twice")
	fs.StringVar(&f.Conn.URL, "url", "", "gateway WebSocket URL (default: the profile's ws://127.0.0.1:<port>)")
	fs.StringVar(&f.Conn.Token, "token", "", "gateway token (default: CLAWDBOT_GATEWAY_TOKEN, then gateway.auth.token)")
	fs.StringVar(&f.Conn.Password, "password", "", "gateway password (default: CLAWDBOT_GATEWAY_PASSWORD, then gateway.auth.password)")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	body := strings.TrimSpace(f.Message)
	if body == "" {
		return env.Usagef("agent", `agent: --message is required (e.g. %s)`, env.Hint(`clawdbot agent --agent main --message "hi"`))
	}
	if f.To == "" && f.SessionID == "" && f.Agent == "" {
		return env.Usagef("agent", "agent: pass --to <E.164>, --session-id, or --agent to choose a session")
	}
	if f.Thinking != "" && !thinkingAliases[strings.ToLower(strings.TrimSpace(f.Thinking))] {
		return env.Usagef("agent", "agent: invalid --thinking %q (use off, minimal, low, medium or high)", f.Thinking)
	}
	if fs.Changed("timeout") && f.Timeout <= 0 {
		return env.Usagef("agent", "agent: --timeout must be a positive integer (seconds)")
	}

	t, err := resolveGatewayTarget(env, f.Conn)
	if err != nil {
		return env.Errorf("%v", err)
	}
	ac := loadAgentConfig(env, t.Profile)
	agentID := ""
	if f.Agent != "" {
		agentID = normalizeAgentID(f.Agent)
		if !slices.Contains(ac.AgentIDs, agentID) {
			return env.Usagef("agent", "agent: unknown agent id %q (configured: %s)", f.Agent, strings.Join(ac.AgentIDs, ", "))
		}
	}
	timeout := ac.TimeoutSeconds
	if fs.Changed("timeout") {
		timeout = f.Timeout
	}
	runID := strings.TrimSpace(f.RunID)
	if runID == "" {
		runID = wire.NewID()
	}
	timeoutParam := int64(timeout)
	deliver := f.Deliver
	params := wire.AgentParams{
		Message: body, AgentID: agentID, To: f.To, ReplyTo: f.ReplyTo, SessionID: f.SessionID,
		SessionKey: ac.sessionKey(agentID, f.To, f.SessionID),
		Thinking:   f.Thinking, Deliver: &deliver,
		Channel: strings.ToLower(strings.TrimSpace(f.Channel)), ReplyChannel: f.ReplyChannel,
		Timeout: &timeoutParam, IdempotencyKey: runID,
	}

	// The client waits a little longer than the run may take, as the
	// original does: max(10 s, timeout + 30 s).
	wait := max(agentWaitMin, time.Duration(timeout)*time.Second+agentWaitSlack)
	if f.NoWait {
		wait = t.Opts.HandshakeTimeout + client.DefaultCallTimeout
	}
	sigCtx, stop := env.SignalContext()
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, wait)
	defer cancel()

	// Streaming is for a person watching: only to a terminal and never
	// under --json. A pipe gets exactly the original's output.
	var sp *streamPrinter
	if !f.JSON && !f.NoWait && isTerminal(env.Stdout) {
		sp = &streamPrinter{w: env.Stdout, runID: runID}
	}
	opts := cliDialOptions(t.Opts)
	if sp != nil {
		opts.OnEvent = sp.onEvent
	}
	conn, err := client.Dial(ctx, opts)
	if err != nil {
		return reportAgentError(env, t, sigCtx, wait, err)
	}
	defer conn.Close()

	var raw json.RawMessage
	var callOpts []client.CallOption
	if !f.NoWait {
		callOpts = append(callOpts, client.ExpectFinal())
	}
	if err := conn.Call(ctx, "agent", params, &raw, callOpts...); err != nil {
		if sigCtx.Err() != nil {
			sp.finishLine()
			return env.Fail(ExitFailure, CodeFailed, "agent: interrupted; the run "+runID+" goes on in the gateway", "")
		}
		sp.finishLine()
		return reportAgentError(env, t, sigCtx, wait, err)
	}
	if f.NoWait {
		if f.JSON {
			fmt.Fprintln(env.Stdout, prettyJSON(raw))
			return ExitOK
		}
		var ack struct {
			RunID string `json:"runId"`
		}
		_ = json.Unmarshal(raw, &ack)
		fmt.Fprintln(env.Stdout, cmp.Or(ack.RunID, runID))
		return ExitOK
	}
	var final agentFinal
	if err := json.Unmarshal(raw, &final); err != nil {
		sp.finishLine()
		return env.Fail(ExitFailure, CodeBadResponse, "agent: the gateway's final response is not an agent result: "+err.Error(), "")
	}
	if final.Status != "" && final.Status != "ok" {
		sp.finishLine()
		return env.Fail(ExitFailure, CodeFailed, "agent: run "+final.Status+": "+final.Summary, "")
	}
	if f.JSON {
		fmt.Fprintln(env.Stdout, prettyJSON(raw))
		return ExitOK
	}
	out := final.text()
	if sp != nil {
		sp.finish(out)
	} else {
		fmt.Fprintln(env.Stdout, out)
	}
	return ExitOK
}

// reportAgentError maps a context deadline to the CLI's timeout error (the
// client gives ctx.Err() for a call that ran out of time) and otherwise
// reports as gateway call does.
func reportAgentError(env *Env, t gatewayTarget, sigCtx context.Context, wait time.Duration, err error) int {
	if errors.Is(err, context.DeadlineExceeded) && sigCtx.Err() == nil {
		err = &client.TimeoutError{After: wait}
	}
	return reportGatewayError(env, t, "agent", err)
}

// cliDialOptions fills the connection options the CLI's one-shot calls use
// (client.CallOnce's defaults) for a connection the command keeps open to
// receive events.
func cliDialOptions(o client.Options) client.Options {
	o.ClientID = cmp.Or(o.ClientID, "cli")
	o.Mode = cmp.Or(o.Mode, "cli")
	o.InstanceID = cmp.Or(o.InstanceID, wire.NewID())
	if o.Scopes == nil {
		o.Scopes = client.CLIScopes
	}
	return o
}

// agentFinal is the final payload of the agent method (doc/messaging.md §1.2).
type agentFinal struct {
	RunID   string `json:"runId"`
	Status  string `json:"status"`
	Summary string `json:"summary"`
	Result  *struct {
		Payloads []agentPayload `json:"payloads"`
	} `json:"result"`
}

type agentPayload struct {
	Text      string   `json:"text"`
	MediaURL  *string  `json:"mediaUrl"`
	MediaURLs []string `json:"mediaUrls"`
}

// text is what the original prints for a final result: each payload's text
// (right-trimmed) and its MEDIA: lines, one payload per line; without
// payloads, the summary, else "No reply from agent.".
func (f agentFinal) text() string {
	var payloads []agentPayload
	if f.Result != nil {
		payloads = f.Result.Payloads
	}
	if len(payloads) == 0 {
		return cmp.Or(f.Summary, "No reply from agent.")
	}
	var lines []string
	for _, p := range payloads {
		var l []string
		if t := strings.TrimRight(p.Text, " \t\r\n"); t != "" {
			l = append(l, t)
		}
		media := p.MediaURLs
		if media == nil && p.MediaURL != nil && strings.TrimSpace(*p.MediaURL) != "" {
			media = []string{strings.TrimSpace(*p.MediaURL)}
		}
		for _, u := range media {
			l = append(l, "MEDIA:"+u)
		}
		if s := strings.TrimRight(strings.Join(l, "\n"), " \t\r\n"); s != "" {
			lines = append(lines, s)
		}
	}
	return strings.Join(lines, "\n")
}

// streamPrinter writes a run's assistant text to the terminal as agent
// events arrive (stream "assistant"; doc/messaging.md §2.1). data.text is
// the whole text of the current assistant message, so it is the source of
// truth and data.delta only tells a new message apart: a repeated or late
// event (per-run seq not above the last one) is ignored, and a text that
// restarts begins a new line. It runs on the client's reader goroutine, so
// every event before the final response has been printed when the call
// returns.
type streamPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	runID    string
	lastSeq  int64
	cur      string   // text printed of the current assistant message
	msgs     []string // every message's printed text, the current one last
	diverged bool     // a text that neither extends nor restarts: stop streaming
}

func (p *streamPrinter) onEvent(ev client.Event) {
	if ev.Event != wire.EventAgent {
		return
	}
	var e struct {
		RunID  string `json:"runId"`
		Stream string `json:"stream"`
		Seq    *int64 `json:"seq"`
		Data   struct {
			Text  *string `json:"text"`
			Delta string  `json:"delta"`
		} `json:"data"`
	}
	if json.Unmarshal(ev.Payload, &e) != nil || e.RunID != p.runID || e.Stream != "assistant" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Seq != nil {
		if *e.Seq <= p.lastSeq {
			return
		}
		p.lastSeq = *e.Seq
	}
	if p.diverged {
		return
	}
	text := p.cur + e.Data.Delta
	if e.Data.Text != nil {
		text = *e.Data.Text
	}
	switch {
	case len(p.msgs) > 0 && strings.HasPrefix(text, p.cur):
		io.WriteString(p.w, text[len(p.cur):])
		p.cur = text
		p.msgs[len(p.msgs)-1] = text
	case len(p.msgs) == 0 || (e.Data.Delta == text && text != ""):
		if len(p.msgs) > 0 {
			io.WriteString(p.w, "\n")
		}
		io.WriteString(p.w, text)
		p.cur = text
		p.msgs = append(p.msgs, text)
	default:
		p.diverged = true
	}
}

// finish completes the output with the final text: what was streamed is
// its beginning in the usual case, and only the rest is written; when the
// two differ (the gateway rewrote the reply: MEDIA lines, NO_REPLY), the
// final text follows on its own lines.
func (p *streamPrinter) finish(final string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	streamed := strings.Join(p.msgs, "\n")
	switch {
	case streamed == "":
		fmt.Fprintln(p.w, final)
	case !p.diverged && strings.HasPrefix(final, streamed):
		fmt.Fprintln(p.w, final[len(streamed):])
	default:
		fmt.Fprintf(p.w, "\n%s\n", final)
	}
	p.msgs, p.cur = nil, ""
}

// finishLine ends a partly streamed line before an error is printed.
func (p *streamPrinter) finishLine() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.msgs) > 0 {
		io.WriteString(p.w, "\n")
		p.msgs, p.cur = nil, ""
	}
}

// agentConfig is what the agent command reads from the config: enough to
// resolve the session key locally as the original does (doc/messaging.md
// §1.16) and to bound its wait.
type agentConfig struct {
	MainKey        string
	Scope          string
	AgentIDs       []string // agents.list ids, or ["main"]
	DefaultAgent   string
	TimeoutSeconds int
	StateDir       string
}

// loadAgentConfig reads session.mainKey, session.scope, agents.list and
// agents.defaults.timeoutSeconds from the profile's config, with the
// original's defaults for whatever is missing or unreadable (the
// connection warnings already name a broken config).
func loadAgentConfig(env *Env, prof profiles.Profile) agentConfig {
	ac := agentConfig{MainKey: defaultMainKey, Scope: "per-sender", DefaultAgent: defaultAgentID,
		TimeoutSeconds: defaultAgentTimeoutSeconds, StateDir: prof.StateDir}
	snap, err := profiles.LoadEnv(prof.ConfigPath, env.Getenv)
	var doc map[string]any
	if err == nil && snap != nil {
		doc = snap.Parsed
	}
	session, _ := doc["session"].(map[string]any)
	if s, ok := session["mainKey"].(string); ok && strings.TrimSpace(s) != "" {
		ac.MainKey = strings.ToLower(strings.TrimSpace(s))
	}
	if s, ok := session["scope"].(string); ok && s != "" {
		ac.Scope = s
	}
	agents, _ := doc["agents"].(map[string]any)
	if defs, ok := agents["defaults"].(map[string]any); ok {
		if n, ok := defs["timeoutSeconds"].(float64); ok && n >= 1 {
			ac.TimeoutSeconds = int(n)
		}
	}
	list, _ := agents["list"].([]any)
	for _, a := range list {
		m, _ := a.(map[string]any)
		id, _ := m["id"].(string)
		if id = normalizeAgentID(id); id == "" {
			continue
		}
		ac.AgentIDs = append(ac.AgentIDs, id)
		if d, _ := m["default"].(bool); d {
			ac.DefaultAgent = id
		}
	}
	if len(ac.AgentIDs) == 0 {
		ac.AgentIDs = []string{defaultAgentID}
	} else if !slices.Contains(ac.AgentIDs, ac.DefaultAgent) {
		ac.DefaultAgent = ac.AgentIDs[0]
	}
	return ac
}

// sessionKey resolves the session as the original's CLI does before it
// calls the gateway: --agent X is agent:X:<mainKey>; --to is the main DM
// session (agent:main:<mainKey>, or "global" under the global scope);
// --session-id alone is looked up in the default agent's session store,
// and left to the gateway when it is not there.
func (ac agentConfig) sessionKey(agentID, to, sessionID string) string {
	switch {
	case agentID != "":
		return "agent:" + agentID + ":" + ac.MainKey
	case strings.TrimSpace(to) != "":
		if ac.Scope == "global" {
			return "global"
		}
		return "agent:" + defaultAgentID + ":" + ac.MainKey
	case sessionID != "":
		return ac.keyForSessionID(sessionID)
	}
	return ""
}

// keyForSessionID finds the key whose entry has sessionID in
// <state>/agents/<default>/sessions/sessions.json ("" when it cannot).
func (ac agentConfig) keyForSessionID(sessionID string) string {
	if ac.StateDir == "" {
		return ""
	}
	raw, err := os.ReadFile(filepath.Join(ac.StateDir, "agents", ac.DefaultAgent, "sessions", "sessions.json"))
	if err != nil {
		return ""
	}
	var store map[string]struct {
		SessionID string `json:"sessionId"`
	}
	if json.Unmarshal(raw, &store) != nil {
		return ""
	}
	for k, e := range store {
		if e.SessionID == sessionID {
			return k
		}
	}
	return ""
}

// normalizeAgentID is the original's agent id form: trimmed, lower case.
func normalizeAgentID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }
