package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/client"
)

// The cron commands drive the gateway's scheduler over cron.*
// (doc/protocol.md §3.6), with the original's flags and output: every command prints
// the method's result as indented JSON, except `cron list`, which prints
// a table unless --json is given. Flag values are checked here before
// anything is sent (a bad one is a usage error, exit 2); what only the
// gateway can judge (an unknown job id, a cron expression, a time zone)
// comes back as a method error (exit 1).

func init() {
	RegisterGroup("cron", "manage cron jobs (via the gateway)")
	reg := func(path, summary string, run func(*Env, []string) int, hidden bool) {
		Register(&Command{Path: path, Summary: summary, Run: run, Exits: cronExits, Hidden: hidden})
	}
	reg("cron status", "show the cron scheduler's status", runCronStatus, false)
	reg("cron list", "list cron jobs", runCronList, false)
	reg("cron add", "add a cron job", runCronAdd, false)
	reg("cron create", "add a cron job (alias of cron add)", runCronAdd, true)
	reg("cron edit", "edit a cron job (patch fields)", runCronEdit, false)
	reg("cron rm", "remove a cron job", runCronRemove, false)
	reg("cron remove", "remove a cron job (alias of cron rm)", runCronRemove, true)
	reg("cron delete", "remove a cron job (alias of cron rm)", runCronRemove, true)
	reg("cron enable", "enable a cron job", func(env *Env, args []string) int { return runCronToggle(env, "cron enable", true, args) }, false)
	reg("cron disable", "disable a cron job", func(env *Env, args []string) int { return runCronToggle(env, "cron disable", false, args) }, false)
	reg("cron run", "run a cron job now (debug)", runCronRun, false)
	reg("cron runs", "show a cron job's run history", runCronRuns, false)
}

var cronExits = []ExitCode{
	{ExitOK, "the gateway answered (the result is printed)"},
	{ExitFailure, "not reachable, refused this CLI, or the method failed (e.g. an unknown job id, an invalid cron expression or time zone)"},
	{ExitUsage, "bad flag, argument or value (e.g. no schedule or two, an invalid --at or --every)"},
}

// gatewayFlags are the original's gateway client options (--url, --token,
// --timeout, --expect-final) plus our --password, and --json.
type gatewayFlags struct {
	cf          clientFlags
	expectFinal bool
	asJSON      bool
}

func (g *gatewayFlags) register(fs *pflag.FlagSet, jsonUsage string) {
	g.cf.register(fs, true)
	fs.BoolVar(&g.expectFinal, "expect-final", false, "wait for the final response (two-stage methods)")
	fs.BoolVar(&g.asJSON, "json", false, jsonUsage)
}

// call makes one gateway call; on failure it has reported the error and
// returns ok=false with the exit code.
func (g *gatewayFlags) call(env *Env, what, method string, params any) (json.RawMessage, int, bool) {
	t, err := resolveGatewayTarget(env, g.cf)
	if err != nil {
		return nil, env.Errorf("%v", err), false
	}
	var opts []client.CallOption
	if g.expectFinal {
		opts = append(opts, client.ExpectFinal())
	}
	res, err := callGateway(env, t, g.cf.timeout(), method, params, opts...)
	if err != nil {
		return nil, reportGatewayError(env, t, what+" failed", err), false
	}
	return res, ExitOK, true
}

// callAndPrint calls method and prints its result as indented JSON, the
// original's output of every cron command but list.
func (g *gatewayFlags) callAndPrint(env *Env, what, method string, params any) int {
	res, code, ok := g.call(env, what, method, params)
	if !ok {
		return code
	}
	fmt.Fprintln(env.Stdout, prettyJSON(res))
	return ExitOK
}

// warnIfCronDisabled warns (on stderr) after a change when the gateway's
// scheduler is off, so the user knows the job will not run by itself. A
// failed status call is ignored, as the original does.
func (g *gatewayFlags) warnIfCronDisabled(env *Env) {
	t, err := resolveGatewayTarget(env, g.cf)
	if err != nil {
		return
	}
	res, err := callGateway(env, t, g.cf.timeout(), "cron.status", struct{}{})
	if err != nil {
		return
	}
	var st wire.CronStatusResult
	if json.Unmarshal(res, &st) != nil || st.Enabled {
		return
	}
	env.Warnf("cron scheduler is disabled in the gateway; jobs are saved but will not run automatically")
	fix := "re-enable with `cron.enabled: true` (or remove `cron.enabled: false`) and restart the gateway"
	if st.StorePath != "" {
		fix += " (store: " + st.StorePath + ")"
	}
	env.Hintf("%s", fix)
}

func runCronStatus(env *Env, args []string) int {
	var g gatewayFlags
	fs := env.FlagSet("cron status", "cron status [--json] [flags]")
	g.register(fs, "output JSON (the output is JSON either way; errors take the JSON shape)")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	return g.callAndPrint(env, "cron status", "cron.status", struct{}{})
}

func runCronList(env *Env, args []string) int {
	var g gatewayFlags
	var all bool
	fs := env.FlagSet("cron list", "cron list [--all] [--json] [flags]")
	fs.BoolVar(&all, "all", false, "include disabled jobs")
	g.register(fs, "output JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	res, code, ok := g.call(env, "cron list", "cron.list", map[string]bool{"includeDisabled": all})
	if !ok {
		return code
	}
	if g.asJSON {
		fmt.Fprintln(env.Stdout, prettyJSON(res))
		return ExitOK
	}
	var l wire.CronListResult
	if err := json.Unmarshal(res, &l); err != nil {
		return env.Fail(ExitFailure, CodeBadResponse, "unexpected cron.list result: "+err.Error(), "")
	}
	printCronList(env.Stdout, l.Jobs, time.Now().UnixMilli())
	return ExitOK
}

// cronAddParams are cron.add's params in the original's key order.
type cronAddParams struct {
	Name           string              `json:"name"`
	Description    string              `json:"description,omitempty"`
	Enabled        bool                `json:"enabled"`
	DeleteAfterRun bool                `json:"deleteAfterRun"`
	AgentID        string              `json:"agentId,omitempty"`
	Schedule       wire.CronSchedule   `json:"schedule"`
	SessionTarget  string              `json:"sessionTarget"`
	WakeMode       string              `json:"wakeMode"`
	Payload        wire.CronPayload    `json:"payload"`
	Isolation      *wire.CronIsolation `json:"isolation,omitempty"`
}

func runCronAdd(env *Env, args []string) int {
	const path = "cron add"
	var g gatewayFlags
	var name, description, agent, session, wake, at, every, cronExpr, tz string
	var systemEvent, message, thinking, model, timeoutSeconds, channel, to string
	var postPrefix, postMode, postMaxChars string
	var disabled, deleteAfterRun, deliver, bestEffort bool
	fs := env.FlagSet(path, "cron add --name NAME (--at WHEN | --every DUR | --cron EXPR) (--system-event TEXT | --message TEXT) [flags]")
	fs.StringVar(&name, "name", "", "job name (required)")
	fs.StringVar(&description, "description", "", "optional description")
	fs.BoolVar(&disabled, "disabled", false, "create the job disabled")
	fs.BoolVar(&deleteAfterRun, "delete-after-run", false, "delete a one-shot job after it succeeds")
	fs.StringVar(&agent, "agent", "", "agent id for this job")
	fs.StringVar(&session, "session", "main", "session target (main|isolated)")
	fs.StringVar(&wake, "wake", wire.WakeNextHeartbeat, "wake mode (now|next-heartbeat)")
	fs.StringVar(&at, "at", "", "run once at a time (ISO 8601, UTC when no offset; epoch ms) or in a duration (e.g. 20m)")
	fs.StringVar(&every, "every", "", "run every duration (e.g. 10m, 1h, 1d)")
	fs.StringVar(&cronExpr, "cron", "", "cron expression (5-field)")
	fs.StringVar(&tz, "tz", "", "time zone for cron expressions (IANA)")
	fs.StringVar(&systemEvent, "system-event", "", "system event payload (main session)")
	fs.StringVar(&message, "message", "", "agent message payload (isolated session)")
	fs.StringVar(&thinking, "thinking", "", "thinking level for agent jobs (off|minimal|low|medium|high)")
	fs.StringVar(&model, "model", "", "model override for agent jobs (provider/model or alias)")
	fs.StringVar(&timeoutSeconds, "timeout-seconds", "", "timeout seconds for agent jobs")
	fs.BoolVar(&deliver, "deliver", false, "deliver agent output (required when using last-route delivery without --to)")
	fs.StringVar(&channel, "channel", "last", "delivery channel (last, or a channel id)")
	fs.StringVar(&to, "to", "", "delivery destination (E.164, Telegram chatId, or Discord channel/user)")
	fs.BoolVar(&bestEffort, "best-effort-deliver", false, "do not fail the job if delivery fails")
	fs.StringVar(&postPrefix, "post-prefix", "Cron", "prefix for the main-session post of isolated jobs")
	fs.StringVar(&postMode, "post-mode", "summary", "what isolated jobs post back to main (summary|full)")
	fs.StringVar(&postMaxChars, "post-max-chars", "8000", "max chars when --post-mode=full")
	g.register(fs, "output JSON (the output is JSON either way; errors take the JSON shape)")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	usage := func(format string, a ...any) int { return env.Usagef(path, path+": "+format, a...) }
	p := cronAddParams{Name: strings.TrimSpace(name), Description: strings.TrimSpace(description),
		Enabled: !disabled, DeleteAfterRun: deleteAfterRun}
	if p.Name == "" {
		return usage("--name is required")
	}
	sched, msg := cronScheduleFlags(at, every, cronExpr, tz, true)
	if msg != "" {
		return usage("%s", msg)
	}
	if sched.Kind != wire.CronExpr && strings.TrimSpace(tz) != "" {
		return usage("--tz applies to --cron only")
	}
	p.Schedule = *sched
	p.SessionTarget = cmpOrDefault(strings.TrimSpace(session), wire.CronTargetMain)
	if p.SessionTarget != wire.CronTargetMain && p.SessionTarget != wire.CronTargetIsolated {
		return usage("--session must be main or isolated")
	}
	p.WakeMode = cmpOrDefault(strings.TrimSpace(wake), wire.WakeNextHeartbeat)
	if p.WakeMode != wire.WakeNow && p.WakeMode != wire.WakeNextHeartbeat {
		return usage("--wake must be now or next-heartbeat")
	}
	if a := strings.TrimSpace(agent); a != "" {
		p.AgentID = sessionstore.NormalizeAgentID(a)
	}
	systemEvent, message = strings.TrimSpace(systemEvent), strings.TrimSpace(message)
	if (systemEvent != "") == (message != "") {
		return usage("choose exactly one payload: --system-event or --message")
	}
	if systemEvent != "" {
		p.Payload = wire.CronPayload{Kind: wire.CronPayloadSystemEvent, Text: systemEvent}
	} else {
		p.Payload = wire.CronPayload{Kind: wire.CronPayloadAgentTurn, Message: message,
			Model: strings.TrimSpace(model), Thinking: strings.TrimSpace(thinking), Channel: channel, To: strings.TrimSpace(to)}
		if fs.Changed("timeout-seconds") {
			n, ok := positiveInt(timeoutSeconds)
			if !ok {
				return usage("--timeout-seconds must be a positive integer (got %q)", timeoutSeconds)
			}
			p.Payload.TimeoutSeconds = &n
		}
		if deliver {
			p.Payload.Deliver = &deliver
		}
		if bestEffort {
			p.Payload.BestEffortDeliver = &bestEffort
		}
	}
	if p.SessionTarget == wire.CronTargetMain && p.Payload.Kind != wire.CronPayloadSystemEvent {
		return usage("main jobs require --system-event (systemEvent); use --session isolated for --message")
	}
	if p.SessionTarget == wire.CronTargetIsolated && p.Payload.Kind != wire.CronPayloadAgentTurn {
		return usage("isolated jobs require --message (agentTurn); use --session main for --system-event")
	}
	if p.SessionTarget == wire.CronTargetIsolated {
		iso := &wire.CronIsolation{PostToMainPrefix: cmpOrDefault(strings.TrimSpace(postPrefix), "Cron")}
		switch postMode {
		case "summary", "full":
			iso.PostToMainMode = postMode
		default:
			return usage("--post-mode must be summary or full (got %q)", postMode)
		}
		n, err := strconv.ParseInt(postMaxChars, 10, 64)
		if err != nil || n < 0 || !digitsRE().MatchString(postMaxChars) {
			return usage("--post-max-chars must be a non-negative integer (got %q)", postMaxChars)
		}
		iso.PostToMainMaxChars = &n
		p.Isolation = iso
	}
	if code := g.callAndPrint(env, path, "cron.add", p); code != ExitOK {
		return code
	}
	g.warnIfCronDisabled(env)
	return ExitOK
}

var digitsRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d+$`) })

func cmpOrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// positiveInt parses a positive base-10 integer.
func positiveInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n > 0
}

// cronScheduleFlags builds the schedule from --at/--every/--cron. With
// required, exactly one must be given; otherwise at most one (nil: none).
// A non-empty message is the usage error.
func cronScheduleFlags(at, every, expr, tz string, required bool) (*wire.CronSchedule, string) {
	at, every, expr = strings.TrimSpace(at), strings.TrimSpace(every), strings.TrimSpace(expr)
	n := 0
	for _, s := range []string{at, every, expr} {
		if s != "" {
			n++
		}
	}
	switch {
	case required && n != 1:
		return nil, "choose exactly one schedule: --at, --every or --cron"
	case n > 1:
		return nil, "choose at most one schedule change: --at, --every or --cron"
	case n == 0:
		return nil, ""
	}
	switch {
	case at != "":
		ms, ok := parseAtMs(at, time.Now())
		if !ok {
			return nil, fmt.Sprintf("invalid --at %q (use an ISO 8601 time such as 2026-01-02T15:04:05Z, epoch ms, or a duration such as 20m)", at)
		}
		return &wire.CronSchedule{Kind: wire.CronAt, AtMs: &ms}, ""
	case every != "":
		ms, ok := parseDurationMs(every)
		if !ok {
			return nil, fmt.Sprintf("invalid --every %q (use a duration such as 10m, 1h or 1d)", every)
		}
		return &wire.CronSchedule{Kind: wire.CronEvery, EveryMs: &ms}, ""
	}
	return &wire.CronSchedule{Kind: wire.CronExpr, Expr: expr, TZ: strings.TrimSpace(tz)}, ""
}

var durationRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^(\d+(?:\.\d+)?)(ms|s|m|h|d)$`) })

// parseDurationMs is the original's: a positive number with one unit of
// ms, s, m, h or d ("1.5h"), floored to whole milliseconds.
func parseDurationMs(s string) (int64, bool) {
	m := durationRE().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) {
		return 0, false
	}
	factor := map[string]float64{"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[strings.ToLower(m[2])]
	ms := math.Floor(n * factor)
	if ms < 1 || ms > math.MaxInt64/2 {
		return 0, false
	}
	return int64(ms), true
}

var (
	isoTZRE       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(Z|[+-]\d{2}:?\d{2})$`) })
	isoDateRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`) })
	isoDateTimeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T`) })
)

// parseAbsoluteTimeMs is the original's: epoch milliseconds, or an ISO
// 8601 date or date-time, read as UTC when it has no offset.
func parseAbsoluteTimeMs(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if digitsRE().MatchString(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n > 0
	}
	s = strings.ToUpper(s)
	switch {
	case isoTZRE().MatchString(s):
	case isoDateRE().MatchString(s):
		s += "T00:00:00Z"
	case isoDateTimeRE().MatchString(s):
		s += "Z"
	default:
		return 0, false
	}
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04Z0700",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// parseAtMs is --at: an absolute time, or a duration from now.
func parseAtMs(s string, now time.Time) (int64, bool) {
	if ms, ok := parseAbsoluteTimeMs(s); ok {
		return ms, true
	}
	if d, ok := parseDurationMs(s); ok {
		return now.UnixMilli() + d, true
	}
	return 0, false
}

// cronPatchPayload is a payload patch: only the given fields are sent.
type cronPatchPayload struct {
	Kind              string  `json:"kind"`
	Text              *string `json:"text,omitempty"`
	Message           *string `json:"message,omitempty"`
	Model             string  `json:"model,omitempty"`
	Thinking          string  `json:"thinking,omitempty"`
	TimeoutSeconds    *int64  `json:"timeoutSeconds,omitempty"`
	Deliver           *bool   `json:"deliver,omitempty"`
	Channel           *string `json:"channel,omitempty"`
	To                *string `json:"to,omitempty"`
	BestEffortDeliver *bool   `json:"bestEffortDeliver,omitempty"`
}

// cronPatch is cron.update's patch in the original's key order; agentId
// is the JSON null to clear it.
type cronPatch struct {
	Name           *string             `json:"name,omitempty"`
	Description    *string             `json:"description,omitempty"`
	Enabled        *bool               `json:"enabled,omitempty"`
	DeleteAfterRun *bool               `json:"deleteAfterRun,omitempty"`
	SessionTarget  string              `json:"sessionTarget,omitempty"`
	WakeMode       string              `json:"wakeMode,omitempty"`
	AgentID        json.RawMessage     `json:"agentId,omitempty"`
	Schedule       *wire.CronSchedule  `json:"schedule,omitempty"`
	Payload        *cronPatchPayload   `json:"payload,omitempty"`
	Isolation      *wire.CronIsolation `json:"isolation,omitempty"`
}

type cronUpdateParams struct {
	ID    string `json:"id"`
	Patch any    `json:"patch"`
}

func runCronEdit(env *Env, args []string) int {
	const path = "cron edit"
	var g gatewayFlags
	var name, description, session, agent, wake, at, every, cronExpr, tz string
	var systemEvent, message, thinking, model, timeoutSeconds, channel, to, postPrefix string
	var enable, disable, deleteAfterRun, keepAfterRun, clearAgent bool
	var deliver, noDeliver, bestEffort, noBestEffort bool
	fs := env.FlagSet(path, "cron edit <id> [flags]")
	fs.StringVar(&name, "name", "", "set the name")
	fs.StringVar(&description, "description", "", "set the description")
	fs.BoolVar(&enable, "enable", false, "enable the job")
	fs.BoolVar(&disable, "disable", false, "disable the job")
	fs.BoolVar(&deleteAfterRun, "delete-after-run", false, "delete a one-shot job after it succeeds")
	fs.BoolVar(&keepAfterRun, "keep-after-run", false, "keep a one-shot job after it succeeds")
	fs.StringVar(&session, "session", "", "session target (main|isolated)")
	fs.StringVar(&agent, "agent", "", "set the agent id")
	fs.BoolVar(&clearAgent, "clear-agent", false, "unset the agent and use the default")
	fs.StringVar(&wake, "wake", "", "wake mode (now|next-heartbeat)")
	fs.StringVar(&at, "at", "", "set a one-shot time (ISO 8601, epoch ms) or a duration like 20m")
	fs.StringVar(&every, "every", "", "set an interval duration like 10m")
	fs.StringVar(&cronExpr, "cron", "", "set a cron expression")
	fs.StringVar(&tz, "tz", "", "time zone for cron expressions (IANA)")
	fs.StringVar(&systemEvent, "system-event", "", "set the systemEvent payload")
	fs.StringVar(&message, "message", "", "set the agentTurn payload message")
	fs.StringVar(&thinking, "thinking", "", "thinking level for agent jobs")
	fs.StringVar(&model, "model", "", "model override for agent jobs")
	fs.StringVar(&timeoutSeconds, "timeout-seconds", "", "timeout seconds for agent jobs")
	fs.BoolVar(&deliver, "deliver", false, "deliver agent output (required when using last-route delivery without --to)")
	fs.BoolVar(&noDeliver, "no-deliver", false, "disable delivery")
	fs.StringVar(&channel, "channel", "", "delivery channel (last, or a channel id)")
	fs.StringVar(&to, "to", "", "delivery destination (E.164, Telegram chatId, or Discord channel/user)")
	fs.BoolVar(&bestEffort, "best-effort-deliver", false, "do not fail the job if delivery fails")
	fs.BoolVar(&noBestEffort, "no-best-effort-deliver", false, "fail the job when delivery fails")
	fs.StringVar(&postPrefix, "post-prefix", "", "prefix for the summary system event of isolated jobs")
	g.register(fs, "output JSON (the output is JSON either way; errors take the JSON shape)")
	if code, ok := env.Parse(fs, args, 1); !ok {
		return code
	}
	usage := func(format string, a ...any) int { return env.Usagef(path, path+": "+format, a...) }
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		return usage("missing <id> (see %s)", env.Hint("clawdbot cron list --all"))
	}
	id := strings.TrimSpace(fs.Arg(0))
	has := fs.Changed
	if has("session") && session != wire.CronTargetMain && session != wire.CronTargetIsolated {
		return usage("--session must be main or isolated")
	}
	if has("wake") && wake != wire.WakeNow && wake != wire.WakeNextHeartbeat {
		return usage("--wake must be now or next-heartbeat")
	}
	if session == wire.CronTargetMain && has("message") {
		return usage("main jobs cannot use --message; use --system-event or --session isolated")
	}
	if session == wire.CronTargetIsolated && has("system-event") {
		return usage("isolated jobs cannot use --system-event; use --message or --session main")
	}
	if session == wire.CronTargetMain && has("post-prefix") {
		return usage("--post-prefix only applies to isolated jobs")
	}
	for _, pair := range [][2]string{{"enable", "disable"}, {"delete-after-run", "keep-after-run"},
		{"agent", "clear-agent"}, {"deliver", "no-deliver"}, {"best-effort-deliver", "no-best-effort-deliver"}} {
		if has(pair[0]) && has(pair[1]) {
			return usage("choose --%s or --%s, not both", pair[0], pair[1])
		}
	}
	var p cronPatch
	if has("name") {
		p.Name = &name
	}
	if has("description") {
		p.Description = &description
	}
	if enable || disable {
		v := enable
		p.Enabled = &v
	}
	if deleteAfterRun || keepAfterRun {
		v := deleteAfterRun
		p.DeleteAfterRun = &v
	}
	p.SessionTarget, p.WakeMode = session, wake
	if a := strings.TrimSpace(agent); a != "" {
		p.AgentID, _ = json.Marshal(sessionstore.NormalizeAgentID(a))
	}
	if clearAgent {
		p.AgentID = json.RawMessage("null")
	}
	sched, msg := cronScheduleFlags(at, every, cronExpr, tz, false)
	if msg != "" {
		return usage("%s", msg)
	}
	if sched == nil && has("tz") {
		return usage("--tz applies to --cron; give the expression too")
	}
	p.Schedule = sched
	agentTurn := &cronPatchPayload{Kind: wire.CronPayloadAgentTurn, Model: strings.TrimSpace(model), Thinking: strings.TrimSpace(thinking)}
	turnPatch := agentTurn.Model != "" || agentTurn.Thinking != ""
	if has("message") {
		agentTurn.Message, turnPatch = &message, true
	}
	if has("timeout-seconds") {
		n, ok := positiveInt(timeoutSeconds)
		if !ok {
			return usage("--timeout-seconds must be a positive integer (got %q)", timeoutSeconds)
		}
		agentTurn.TimeoutSeconds, turnPatch = &n, true
	}
	if deliver || noDeliver {
		v := deliver
		agentTurn.Deliver, turnPatch = &v, true
	}
	if bestEffort || noBestEffort {
		v := bestEffort
		agentTurn.BestEffortDeliver, turnPatch = &v, true
	}
	if has("channel") {
		agentTurn.Channel, turnPatch = &channel, true
	}
	if has("to") {
		agentTurn.To, turnPatch = &to, true
	}
	switch {
	case has("system-event") && turnPatch:
		return usage("choose at most one payload change: --system-event, or the agent flags (--message, --model, ...)")
	case has("system-event"):
		p.Payload = &cronPatchPayload{Kind: wire.CronPayloadSystemEvent, Text: &systemEvent}
	case turnPatch:
		p.Payload = agentTurn
	}
	if has("post-prefix") {
		p.Isolation = &wire.CronIsolation{PostToMainPrefix: cmpOrDefault(strings.TrimSpace(postPrefix), "Cron")}
	}
	if b, _ := json.Marshal(p); string(b) == "{}" {
		return usage("nothing to change (give at least one field flag, e.g. --name or --every)")
	}
	if code := g.callAndPrint(env, path, "cron.update", cronUpdateParams{ID: id, Patch: p}); code != ExitOK {
		return code
	}
	g.warnIfCronDisabled(env)
	return ExitOK
}

// cronIDArg parses a command that takes one <id>.
func cronIDArg(env *Env, path string, fs *pflag.FlagSet, args []string) (string, int, bool) {
	if code, ok := env.Parse(fs, args, 1); !ok {
		return "", code, false
	}
	id := strings.TrimSpace(fs.Arg(0))
	if id == "" {
		return "", env.Usagef(path, "%s: missing <id> (see %s)", path, env.Hint("clawdbot cron list --all")), false
	}
	return id, 0, true
}

func runCronRemove(env *Env, args []string) int {
	const path = "cron rm"
	var g gatewayFlags
	fs := env.FlagSet(path, "cron rm <id> [--json] [flags]")
	g.register(fs, "output JSON (the output is JSON either way; errors take the JSON shape)")
	id, code, ok := cronIDArg(env, path, fs, args)
	if !ok {
		return code
	}
	return g.callAndPrint(env, path, "cron.remove", map[string]string{"id": id})
}

func runCronToggle(env *Env, path string, on bool, args []string) int {
	var g gatewayFlags
	fs := env.FlagSet(path, path+" <id> [flags]")
	g.register(fs, "output JSON (the output is JSON either way; errors take the JSON shape)")
	id, code, ok := cronIDArg(env, path, fs, args)
	if !ok {
		return code
	}
	if code := g.callAndPrint(env, path, "cron.update", cronUpdateParams{ID: id, Patch: map[string]bool{"enabled": on}}); code != ExitOK {
		return code
	}
	g.warnIfCronDisabled(env)
	return ExitOK
}

func runCronRun(env *Env, args []string) int {
	const path = "cron run"
	var g gatewayFlags
	var force bool
	fs := env.FlagSet(path, "cron run <id> [--force] [flags]")
	fs.BoolVar(&force, "force", false, "run even if not due")
	g.register(fs, "output JSON (the output is JSON either way; errors take the JSON shape)")
	// cron.run answers when the run has finished; the default --timeout
	// is the original's 10 s, so a long agent job needs a larger one.
	id, code, ok := cronIDArg(env, path, fs, args)
	if !ok {
		return code
	}
	mode := "due"
	if force {
		mode = "force"
	}
	return g.callAndPrint(env, path, "cron.run", map[string]string{"id": id, "mode": mode})
}

func runCronRuns(env *Env, args []string) int {
	const path = "cron runs"
	var g gatewayFlags
	var id string
	var limit int
	fs := env.FlagSet(path, "cron runs --id ID [--limit N] [flags]")
	fs.StringVar(&id, "id", "", "job id (required; also accepted as the argument)")
	fs.IntVar(&limit, "limit", 50, "max entries (1-5000)")
	g.register(fs, "output JSON (the output is JSON either way; errors take the JSON shape)")
	if code, ok := env.Parse(fs, args, 1); !ok {
		return code
	}
	if id = strings.TrimSpace(id); id == "" {
		id = strings.TrimSpace(fs.Arg(0))
	} else if fs.NArg() > 0 {
		return env.Usagef(path, "%s: give the job id once (--id or the argument)", path)
	}
	if id == "" {
		return env.Usagef(path, "%s: --id is required (see %s)", path, env.Hint("clawdbot cron list --all"))
	}
	if limit < 1 || limit > 5000 {
		return env.Usagef(path, "%s: --limit must be 1-5000 (got %d)", path, limit)
	}
	return g.callAndPrint(env, path, "cron.runs", struct {
		ID    string `json:"id"`
		Limit int    `json:"limit"`
	}{id, limit})
}

// The columns of `cron list`, the original's widths.
const (
	cronIDPad       = 36
	cronNamePad     = 24
	cronSchedulePad = 32
	cronNextPad     = 10
	cronLastPad     = 10
	cronStatusPad   = 9
	cronTargetPad   = 9
	cronAgentPad    = 10
)

// printCronList is the original's table (plain: this CLI prints no
// colours). Times are relative to nowMs; "at" schedules print in UTC.
func printCronList(w io.Writer, jobs []wire.CronJob, nowMs int64) {
	if len(jobs) == 0 {
		fmt.Fprintln(w, "No cron jobs.")
		return
	}
	fmt.Fprintln(w, strings.Join([]string{pad("ID", cronIDPad), pad("Name", cronNamePad), pad("Schedule", cronSchedulePad),
		pad("Next", cronNextPad), pad("Last", cronLastPad), pad("Status", cronStatusPad), pad("Target", cronTargetPad),
		pad("Agent", cronAgentPad)}, " "))
	for _, j := range jobs {
		next := "-"
		if j.Enabled {
			next = formatCronRelative(j.State.NextRunAtMs, nowMs)
		}
		agent := j.AgentID
		if agent == "" {
			agent = "default"
		}
		line := strings.Join([]string{pad(j.ID, cronIDPad), pad(truncateCell(j.Name, cronNamePad), cronNamePad),
			pad(truncateCell(formatCronSchedule(j.Schedule), cronSchedulePad), cronSchedulePad),
			pad(next, cronNextPad), pad(formatCronRelative(j.State.LastRunAtMs, nowMs), cronLastPad),
			pad(cronJobStatus(j), cronStatusPad), pad(j.SessionTarget, cronTargetPad),
			pad(truncateCell(agent, cronAgentPad), cronAgentPad)}, " ")
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

func truncateCell(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if width <= 3 {
		return string(r[:width])
	}
	return string(r[:width-3]) + "..."
}

// jsRound is Math.round for the non-negative values used here.
func jsRound(x float64) int64 { return int64(math.Floor(x + 0.5)) }

func formatCronSchedule(s wire.CronSchedule) string {
	switch s.Kind {
	case wire.CronAt:
		if s.AtMs == nil {
			return "at -"
		}
		return "at " + time.UnixMilli(*s.AtMs).UTC().Format("2006-01-02 15:04") + "Z"
	case wire.CronEvery:
		var ms int64
		if s.EveryMs != nil {
			ms = *s.EveryMs
		}
		return "every " + formatCronDuration(ms)
	}
	if s.TZ != "" {
		return "cron " + s.Expr + " @ " + s.TZ
	}
	return "cron " + s.Expr
}

func formatCronDuration(ms int64) string {
	f := float64(ms)
	switch {
	case ms < 60_000:
		return fmt.Sprintf("%ds", max(1, jsRound(f/1000)))
	case ms < 3_600_000:
		return fmt.Sprintf("%dm", jsRound(f/60_000))
	case ms < 86_400_000:
		return fmt.Sprintf("%dh", jsRound(f/3_600_000))
	}
	return fmt.Sprintf("%dd", jsRound(f/86_400_000))
}

func formatCronSpan(ms int64) string {
	f := float64(ms)
	switch {
	case ms < 60_000:
		return "<1m"
	case ms < 3_600_000:
		return fmt.Sprintf("%dm", jsRound(f/60_000))
	case ms < 86_400_000:
		return fmt.Sprintf("%dh", jsRound(f/3_600_000))
	}
	return fmt.Sprintf("%dd", jsRound(f/86_400_000))
}

func formatCronRelative(ms *int64, nowMs int64) string {
	if ms == nil || *ms == 0 {
		return "-"
	}
	d := *ms - nowMs
	if d >= 0 {
		return "in " + formatCronSpan(d)
	}
	return formatCronSpan(-d) + " ago"
}

func cronJobStatus(j wire.CronJob) string {
	switch {
	case !j.Enabled:
		return "disabled"
	case j.State.RunningAtMs != nil && *j.State.RunningAtMs != 0:
		return "running"
	case j.State.LastStatus != "":
		return j.State.LastStatus
	}
	return "idle"
}
