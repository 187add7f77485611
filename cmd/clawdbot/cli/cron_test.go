package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const cronToken = "cron-test-token-0123456789"

// cronGateway is a real gateway on 127.0.0.1:0 with its own state dir
// and config file (config is the clawdbot.json it reads, "" for none).
type cronGateway struct {
	url   string
	state string
}

func startCronGateway(t *testing.T, config string) *cronGateway {
	t.Helper()
	g := startTestGateway(t, cronToken, config)
	return &cronGateway{url: g.url, state: g.state}
}

// run runs a CLI command against g and returns its exit code and streams.
func (g *cronGateway) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	env, out, errb := callTestEnv(t, nil)
	code := Main(append(args, "--url", g.url, "--token", cronToken, "--timeout", "8000"), env)
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed and decodes its JSON output into v
// (nil: no decoding).
func (g *cronGateway) ok(t *testing.T, v any, args ...string) string {
	t.Helper()
	code, out, errb := g.run(t, args...)
	if code != ExitOK {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errb)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v: output is not JSON: %v\n%s", args, err, out)
		}
	}
	return out
}

func (g *cronGateway) queuedSystemEvents(t *testing.T) []string {
	t.Helper()
	var st wire.StatusSummary
	g.ok(t, &st, "gateway", "call", "status", "--json")
	return st.QueuedSystemEvents
}

func (g *cronGateway) lastRun(t *testing.T, id string) wire.CronRunLogEntry {
	t.Helper()
	var r wire.CronRunsResult
	g.ok(t, &r, "cron", "runs", "--id", id)
	if len(r.Entries) == 0 {
		t.Fatalf("cron runs --id %s: no entries", id)
	}
	return r.Entries[len(r.Entries)-1]
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// The cron and system commands end to end against a real gateway: a job
// of each schedule kind is added, listed, run, edited and removed; a run
// systemEvent job and `system event` queue their text for the main
// session (status's queuedSystemEvents); heartbeats switched off make a
// wake-now job skip its heartbeat, switched on make it run one.
func TestCronCommandsAgainstARealGateway(t *testing.T) {
	work := t.TempDir()
	g := startCronGateway(t, fmt.Sprintf(`{"agents": {"defaults": {"workspace": %q}}}`, work))

	var st wire.CronStatusResult
	g.ok(t, &st, "cron", "status")
	if !st.Enabled || st.Jobs != 0 || st.StorePath != filepath.Join(g.state, "cron", "jobs.json") {
		t.Fatalf("cron status = %+v", st)
	}

	// Heartbeats off first: the wake-now run below must skip its
	// heartbeat, and nothing drains the queued events meanwhile.
	var hb wire.SetHeartbeatsResult
	g.ok(t, &hb, "system", "heartbeat", "disable")
	if !hb.OK || hb.Enabled {
		t.Fatalf("heartbeat disable = %+v", hb)
	}
	if out := g.ok(t, nil, "system", "heartbeat", "last"); strings.TrimSpace(out) != "null" {
		t.Fatalf("heartbeat last before any heartbeat = %q, want null", out)
	}

	before := time.Now().UnixMilli()
	var at, every, expr wire.CronJob
	g.ok(t, &at, "cron", "add", "--name", "one shot", "--at", "20m", "--system-event", "at text", "--delete-after-run")
	g.ok(t, &every, "cron", "add", "--name", "hourly", "--every", "1h", "--system-event", "  every text  ", "--agent", "Ops Team")
	g.ok(t, &expr, "cron", "add", "--name", "weekly", "--cron", "0 9 * * 1", "--tz", "Europe/Berlin",
		"--session", "isolated", "--message", "weekly report", "--timeout-seconds", "120", "--post-mode", "full")
	after := time.Now().UnixMilli()

	if at.Schedule.Kind != wire.CronAt || at.Schedule.AtMs == nil ||
		*at.Schedule.AtMs < before+20*60_000 || *at.Schedule.AtMs > after+20*60_000 ||
		at.DeleteAfterRun == nil || !*at.DeleteAfterRun || at.SessionTarget != "main" || at.WakeMode != "next-heartbeat" {
		t.Errorf("at job = %+v", at)
	}
	if every.Schedule.Kind != wire.CronEvery || every.Schedule.EveryMs == nil || *every.Schedule.EveryMs != 3_600_000 ||
		every.Payload.Text != "every text" || every.AgentID != "ops-team" || every.State.NextRunAtMs == nil {
		t.Errorf("every job = %+v", every)
	}
	if expr.Schedule.Kind != wire.CronExpr || expr.Schedule.Expr != "0 9 * * 1" || expr.Schedule.TZ != "Europe/Berlin" ||
		expr.SessionTarget != "isolated" || expr.Payload.Kind != wire.CronPayloadAgentTurn || expr.Payload.Message != "weekly report" ||
		expr.Payload.TimeoutSeconds == nil || *expr.Payload.TimeoutSeconds != 120 || expr.Payload.Channel != "last" ||
		expr.Isolation == nil || expr.Isolation.PostToMainPrefix != "Cron" || expr.Isolation.PostToMainMode != "full" ||
		expr.Isolation.PostToMainMaxChars == nil || *expr.Isolation.PostToMainMaxChars != 8000 {
		t.Errorf("cron job = %+v", expr)
	}

	// The table, then the same jobs as JSON.
	out := g.ok(t, nil, "cron", "list")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("cron list:\n%s", out)
	}
	for _, want := range []string{
		every.ID + " hourly ", "every 1h", "in 60m", "idle", "ops-team",
		"cron 0 9 * * 1 @ Europe/Berlin", "isolated", "default",
		at.ID + " one shot ", "at " + time.UnixMilli(*at.Schedule.AtMs).UTC().Format("2006-01-02 15:04") + "Z", "in 20m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("cron list lacks %q:\n%s", want, out)
		}
	}
	var list wire.CronListResult
	g.ok(t, &list, "cron", "list", "--json")
	if len(list.Jobs) != 3 {
		t.Fatalf("cron list --json: %d jobs, want 3", len(list.Jobs))
	}

	// Not due: a plain run does nothing; --force runs the job, and its
	// text is queued for the main session.
	var rr wire.CronRunResult
	g.ok(t, &rr, "cron", "run", every.ID)
	if !rr.OK || rr.Ran || rr.Reason != "not-due" {
		t.Errorf("cron run (not due) = %+v", rr)
	}
	g.ok(t, &rr, "cron", "run", every.ID, "--force")
	if !rr.OK || !rr.Ran {
		t.Errorf("cron run --force = %+v", rr)
	}
	if q := g.queuedSystemEvents(t); !contains(q, "every text") {
		t.Errorf("queuedSystemEvents = %q, want the job's text", q)
	}
	if e := g.lastRun(t, every.ID); e.Status != wire.CronStatusOK || e.Summary != "every text" || e.JobID != every.ID {
		t.Errorf("cron runs: last entry %+v", e)
	}

	g.ok(t, nil, "system", "event", "--text", "disk is full", "--mode", "next-heartbeat")
	var wake wire.OKResult
	g.ok(t, &wake, "system", "event", "--text", "build finished", "--json")
	if !wake.OK {
		t.Errorf("system event --json = %+v", wake)
	}
	if q := g.queuedSystemEvents(t); !contains(q, "disk is full") || !contains(q, "build finished") {
		t.Errorf("queuedSystemEvents = %q, want both system events", q)
	}

	// Edit: rename, reschedule, make it wake at once, clear the agent.
	var edited wire.CronJob
	g.ok(t, &edited, "cron", "edit", every.ID, "--name", "two-hourly", "--every", "2h", "--wake", "now", "--clear-agent")
	if edited.Name != "two-hourly" || *edited.Schedule.EveryMs != 7_200_000 || edited.WakeMode != "now" || edited.AgentID != "" ||
		edited.Payload.Text != "every text" {
		t.Errorf("edited job = %+v", edited)
	}
	// With heartbeats off, a wake-now run skips its heartbeat.
	g.ok(t, &rr, "cron", "run", every.ID, "--force")
	if e := g.lastRun(t, every.ID); e.Status != wire.CronStatusSkipped || e.Error != "disabled" {
		t.Errorf("wake-now run with heartbeats disabled: %+v, want skipped/disabled", e)
	}
	g.ok(t, &hb, "system", "heartbeat", "enable")
	if !hb.OK || !hb.Enabled {
		t.Fatalf("heartbeat enable = %+v", hb)
	}
	g.ok(t, &rr, "cron", "run", every.ID, "--force")
	if e := g.lastRun(t, every.ID); e.Status == wire.CronStatusSkipped && e.Error == "disabled" {
		t.Errorf("wake-now run with heartbeats enabled still skipped as disabled: %+v", e)
	}
	var last map[string]any
	g.ok(t, &last, "system", "heartbeat", "last")
	if last["status"] == nil || last["ts"] == nil {
		t.Errorf("heartbeat last after a heartbeat = %v", last)
	}

	var presence []map[string]any
	g.ok(t, &presence, "system", "presence")
	if len(presence) == 0 {
		t.Errorf("system presence: no entries (the gateway lists itself)")
	}

	var toggled wire.CronJob
	g.ok(t, &toggled, "cron", "disable", expr.ID)
	if toggled.Enabled {
		t.Errorf("cron disable: job still enabled")
	}
	g.ok(t, &list, "cron", "list", "--json")
	if len(list.Jobs) != 2 {
		t.Errorf("cron list without --all: %d jobs, want the 2 enabled", len(list.Jobs))
	}
	if out := g.ok(t, nil, "cron", "list", "--all"); !strings.Contains(out, "disabled") {
		t.Errorf("cron list --all does not show the disabled job:\n%s", out)
	}
	g.ok(t, &toggled, "cron", "enable", expr.ID)
	if !toggled.Enabled {
		t.Errorf("cron enable: job still disabled")
	}

	var rm wire.CronRemoveResult
	g.ok(t, &rm, "cron", "rm", at.ID)
	if !rm.OK || !rm.Removed {
		t.Errorf("cron rm = %+v", rm)
	}
	g.ok(t, &rm, "cron", "remove", at.ID)
	if rm.Removed {
		t.Errorf("cron remove of a removed job = %+v, want removed false", rm)
	}
	g.ok(t, &st, "cron", "status", "--json")
	if st.Jobs != 2 || st.NextWakeAtMs == nil {
		t.Errorf("cron status after rm = %+v", st)
	}
	raw, err := os.ReadFile(st.StorePath)
	if err != nil || strings.Contains(string(raw), at.ID) || !strings.Contains(string(raw), "two-hourly") {
		t.Errorf("jobs.json does not reflect the changes (%v):\n%s", err, raw)
	}
}

// Method errors come back as exit 1 with the gateway's code, in the one
// JSON error shape under --json.
func TestCronMethodErrors(t *testing.T) {
	g := startCronGateway(t, "")
	tests := []struct {
		name string
		args []string
		code string
		msg  string
	}{
		{"run of an unknown id", []string{"cron", "run", "nope", "--force"}, "UNAVAILABLE", "unknown cron job id"},
		{"edit of an unknown id", []string{"cron", "edit", "nope", "--name", "x"}, "UNAVAILABLE", "unknown cron job id"},
		{"bad cron expression", []string{"cron", "add", "--name", "x", "--cron", "61 * * * *", "--system-event", "t"}, "", ""},
		{"bad time zone", []string{"cron", "add", "--name", "x", "--cron", "0 9 * * *", "--tz", "Mars/Base", "--system-event", "t"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errb := g.run(t, append(tt.args, "--json")...)
			if code != ExitFailure {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errb)
			}
			var e jsonError
			if err := json.Unmarshal([]byte(out), &e); err != nil || e.OK || e.Error.Message == "" {
				t.Fatalf("not the JSON error shape: %v\n%s", err, out)
			}
			if errb != "" {
				t.Errorf("stderr %q under --json", errb)
			}
			if tt.code != "" && e.Error.Code != tt.code {
				t.Errorf("code %q, want %q", e.Error.Code, tt.code)
			}
			if !strings.Contains(e.Error.Message, tt.msg) || !strings.HasPrefix(e.Error.Message, strings.Join(tt.args[:2], " ")+" failed: ") {
				t.Errorf("message %q", e.Error.Message)
			}
			// Text mode: one error line on stderr, nothing on stdout.
			code, out, errb = g.run(t, tt.args...)
			if code != ExitFailure || out != "" || !strings.HasPrefix(errb, "error: ") || strings.Count(errb, "\n") != 1 {
				t.Errorf("text mode: exit %d stdout %q stderr %q", code, out, errb)
			}
		})
	}
}

// A change made while the gateway's scheduler is off warns that the job
// will not run by itself.
func TestCronWarnsWhenTheSchedulerIsDisabled(t *testing.T) {
	g := startCronGateway(t, `{"cron": {"enabled": false}}`)
	code, out, errb := g.run(t, "cron", "add", "--name", "x", "--every", "5m", "--system-event", "t")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var j wire.CronJob
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("stdout is not the job: %v\n%s", err, out)
	}
	if !strings.HasPrefix(errb, "warning: cron scheduler is disabled in the gateway") ||
		!strings.Contains(errb, "hint: re-enable with `cron.enabled: true`") || !strings.Contains(errb, "jobs.json") {
		t.Errorf("stderr %q, want the disabled-scheduler warning", errb)
	}
	var st wire.CronStatusResult
	g.ok(t, &st, "cron", "status")
	if st.Enabled || st.NextWakeAtMs != nil {
		t.Errorf("cron status = %+v, want disabled with no next wake", st)
	}
}

// Bad flags are usage errors (exit 2) caught before anything is sent:
// the gateway address here is closed, so a call would fail with exit 1.
func TestCronAndSystemUsageErrors(t *testing.T) {
	down := "ws://127.0.0.1:" + callClosedPort(t)
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"add without a name", []string{"cron", "add", "--every", "1m", "--system-event", "t"}, "--name is required"},
		{"add without a schedule", []string{"cron", "add", "--name", "x", "--system-event", "t"}, "choose exactly one schedule"},
		{"add with two schedules", []string{"cron", "add", "--name", "x", "--every", "1m", "--cron", "* * * * *", "--system-event", "t"}, "choose exactly one schedule"},
		{"add with a bad --at", []string{"cron", "add", "--name", "x", "--at", "tomorrow", "--system-event", "t"}, `invalid --at "tomorrow"`},
		{"add with a bad --every", []string{"cron", "add", "--name", "x", "--every", "10 minutes", "--system-event", "t"}, `invalid --every "10 minutes"`},
		{"add with a zero --every", []string{"cron", "add", "--name", "x", "--every", "0m", "--system-event", "t"}, "invalid --every"},
		{"add with no payload", []string{"cron", "add", "--name", "x", "--every", "1m"}, "choose exactly one payload"},
		{"add with two payloads", []string{"cron", "add", "--name", "x", "--every", "1m", "--system-event", "t", "--message", "m"}, "choose exactly one payload"},
		{"add main with a message", []string{"cron", "add", "--name", "x", "--every", "1m", "--message", "m"}, "main jobs require --system-event"},
		{"add isolated with a system event", []string{"cron", "add", "--name", "x", "--every", "1m", "--session", "isolated", "--system-event", "t"}, "isolated jobs require --message"},
		{"add with a bad session", []string{"cron", "add", "--name", "x", "--every", "1m", "--session", "side", "--system-event", "t"}, "--session must be main or isolated"},
		{"add with a bad wake", []string{"cron", "add", "--name", "x", "--every", "1m", "--wake", "later", "--system-event", "t"}, "--wake must be now or next-heartbeat"},
		{"add with --tz and --every", []string{"cron", "add", "--name", "x", "--every", "1m", "--tz", "UTC", "--system-event", "t"}, "--tz applies to --cron only"},
		{"add with a bad timeout", []string{"cron", "add", "--name", "x", "--every", "1m", "--session", "isolated", "--message", "m", "--timeout-seconds", "0"}, "--timeout-seconds must be a positive integer"},
		{"add with a bad post mode", []string{"cron", "add", "--name", "x", "--every", "1m", "--session", "isolated", "--message", "m", "--post-mode", "all"}, "--post-mode must be summary or full"},
		{"edit without an id", []string{"cron", "edit", "--name", "x"}, "missing <id>"},
		{"edit with nothing to change", []string{"cron", "edit", "abc"}, "nothing to change"},
		{"edit enable and disable", []string{"cron", "edit", "abc", "--enable", "--disable"}, "choose --enable or --disable, not both"},
		{"edit deliver and no-deliver", []string{"cron", "edit", "abc", "--deliver", "--no-deliver"}, "choose --deliver or --no-deliver, not both"},
		{"edit two schedules", []string{"cron", "edit", "abc", "--at", "1h", "--every", "1h"}, "choose at most one schedule change"},
		{"edit two payloads", []string{"cron", "edit", "abc", "--system-event", "t", "--model", "m"}, "choose at most one payload change"},
		{"edit main with a message", []string{"cron", "edit", "abc", "--session", "main", "--message", "m"}, "main jobs cannot use --message"},
		{"edit main with a post prefix", []string{"cron", "edit", "abc", "--session", "main", "--post-prefix", "P"}, "--post-prefix only applies to isolated jobs"},
		{"rm without an id", []string{"cron", "rm"}, "missing <id>"},
		{"rm with two ids", []string{"cron", "rm", "a", "b"}, `unexpected argument "b"`},
		{"run without an id", []string{"cron", "run", "--force"}, "missing <id>"},
		{"runs without an id", []string{"cron", "runs"}, "--id is required"},
		{"runs with a bad limit", []string{"cron", "runs", "--id", "a", "--limit", "0"}, "--limit must be 1-5000"},
		{"status with an argument", []string{"cron", "status", "x"}, `unexpected argument "x"`},
		{"system event without text", []string{"system", "event"}, "--text is required"},
		{"system event with blank text", []string{"system", "event", "--text", "   "}, "--text is required"},
		{"system event with a bad mode", []string{"system", "event", "--text", "t", "--mode", "soon"}, "--mode must be now or next-heartbeat"},
		{"heartbeat with an argument", []string{"system", "heartbeat", "enable", "x"}, `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out, errb := callTestEnv(t, nil)
			code := Main(append(tt.args, "--url", down), env)
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, out, errb)
			}
			if !strings.HasPrefix(errb.String(), "error: ") || !strings.Contains(errb.String(), tt.msg) || !strings.Contains(errb.String(), "hint: see 'clawdbot ") {
				t.Errorf("stderr %q, want an error naming %q and the help", errb, tt.msg)
			}
			env, out, errb = callTestEnv(t, nil)
			if code := Main(append(tt.args, "--url", down, "--json"), env); code != ExitUsage {
				t.Fatalf("--json: exit %d, want 2", code)
			}
			var e jsonError
			if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.Error.Code != CodeUsage || !strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("--json: %v\n%s", err, out)
			}
			if errb.Len() != 0 {
				t.Errorf("--json: stderr %q", errb)
			}
		})
	}
}

// A gateway that is down is exit 1 with the unreachable code, for every
// command that calls it.
func TestCronAndSystemGatewayDown(t *testing.T) {
	down := "ws://127.0.0.1:" + callClosedPort(t)
	for _, args := range [][]string{
		{"cron", "status"}, {"cron", "list"}, {"cron", "add", "--name", "x", "--every", "1m", "--system-event", "t"},
		{"cron", "edit", "a", "--name", "x"}, {"cron", "rm", "a"}, {"cron", "enable", "a"}, {"cron", "run", "a"},
		{"cron", "runs", "--id", "a"}, {"system", "event", "--text", "t"}, {"system", "heartbeat", "last"},
		{"system", "heartbeat", "enable"}, {"system", "heartbeat", "disable"}, {"system", "presence"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			env, out, errb := callTestEnv(t, nil)
			if code := Main(append(args, "--url", down, "--json"), env); code != ExitFailure {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errb)
			}
			var e jsonError
			if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.Error.Code != CodeUnreachable {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}

func TestParseDurationMs(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // 0: invalid
	}{
		{"10m", 600_000}, {"1h", 3_600_000}, {"1d", 86_400_000}, {"30s", 30_000}, {"250ms", 250},
		{"1.5h", 5_400_000}, {"2H", 7_200_000}, {" 5m ", 300_000}, {"0.0001s", 0},
		{"0m", 0}, {"10", 0}, {"m", 0}, {"-5m", 0}, {"10 m", 0}, {"1w", 0}, {"", 0},
	}
	for _, tt := range tests {
		got, ok := parseDurationMs(tt.in)
		if ok != (tt.want != 0) || got != tt.want {
			t.Errorf("parseDurationMs(%q) = %d, %v; want %d", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseAtMs(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	tests := []struct {
		in   string
		want int64 // 0: invalid
	}{
		{"2026-01-02T15:04:05Z", ms("2026-01-02T15:04:05Z")},
		{"2026-01-02T15:04:05.250Z", ms("2026-01-02T15:04:05.25Z")},
		{"2026-01-02T15:04:05+02:00", ms("2026-01-02T13:04:05Z")},
		{"2026-01-02T15:04:05+0200", ms("2026-01-02T13:04:05Z")},
		{"2026-01-02T15:04", ms("2026-01-02T15:04:00Z")}, // no offset: UTC, as the original
		{"2026-01-02T15:04:05", ms("2026-01-02T15:04:05Z")},
		{"2026-01-02", ms("2026-01-02T00:00:00Z")},
		{"2026-01-02t15:04:05z", ms("2026-01-02T15:04:05Z")},
		{"1767366245000", 1767366245000},
		{"20m", now.UnixMilli() + 20*60_000},
		{"1h", now.UnixMilli() + 3_600_000},
		{"tomorrow", 0}, {"2026-13-02", 0}, {"2026-01-02 15:04", 0}, {"0", 0}, {"", 0},
	}
	for _, tt := range tests {
		got, ok := parseAtMs(tt.in, now)
		if ok != (tt.want != 0) || got != tt.want {
			t.Errorf("parseAtMs(%q) = %d, %v; want %d", tt.in, got, ok, tt.want)
		}
	}
}

// The table of `cron list` against a golden file (go test -run
// TestPrintCronList -update rewrites it).
func TestPrintCronList(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
	i64 := func(v int64) *int64 { return &v }
	jobs := []wire.CronJob{
		{ID: "0b6c1c9e-6f55-4d4e-9a43-0c2b0a1f7d11", Name: "standup reminder", Enabled: true,
			Schedule: wire.CronSchedule{Kind: wire.CronExpr, Expr: "0 9 * * 1-5", TZ: "Europe/Berlin"}, SessionTarget: "main",
			State: wire.CronJobState{NextRunAtMs: i64(now + 90*60_000), LastRunAtMs: i64(now - 26*3_600_000), LastStatus: "ok"}},
		{ID: "1f0a", Name: "a name that is much longer than the column", Enabled: true, AgentID: "research-agent-long",
			Schedule: wire.CronSchedule{Kind: wire.CronEvery, EveryMs: i64(90_000)}, SessionTarget: "isolated",
			State: wire.CronJobState{NextRunAtMs: i64(now + 30_000), RunningAtMs: i64(now - 5_000)}},
		{ID: "2c", Name: "once", Enabled: true,
			Schedule: wire.CronSchedule{Kind: wire.CronAt, AtMs: i64(now + 3*86_400_000 + 61_000)}, SessionTarget: "main",
			State: wire.CronJobState{NextRunAtMs: i64(now + 3*86_400_000 + 61_000)}},
		{ID: "3d", Name: "failed", Enabled: true, Schedule: wire.CronSchedule{Kind: wire.CronEvery, EveryMs: i64(500)},
			SessionTarget: "main", State: wire.CronJobState{LastRunAtMs: i64(now - 10_000), LastStatus: "error"}},
		{ID: "4e", Name: "off", Enabled: false, Schedule: wire.CronSchedule{Kind: wire.CronEvery, EveryMs: i64(2 * 86_400_000)},
			SessionTarget: "main", State: wire.CronJobState{NextRunAtMs: i64(now + 60_000)}},
	}
	var b bytes.Buffer
	printCronList(&b, jobs, now)
	golden := filepath.Join("testdata", "cron-list.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("cron list table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	printCronList(&b, nil, now)
	if b.String() != "No cron jobs.\n" {
		t.Errorf("empty list: %q", b.String())
	}
}
