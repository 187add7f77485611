package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/wire/client"
)

func init() {
	Register(&Command{Path: "logs", Summary: "show (and follow) the gateway's file log over RPC", Run: runLogs})
}

// logsRecord is one --json output object (doc/supervision.md §8.2).
type logsRecord struct {
	Type      string `json:"type"`
	File      string `json:"file,omitempty"`
	Cursor    *int64 `json:"cursor,omitempty"`
	Size      *int64 `json:"size,omitempty"`
	Time      string `json:"time,omitempty"`
	Level     string `json:"level,omitempty"`
	Subsystem string `json:"subsystem,omitempty"`
	Module    string `json:"module,omitempty"`
	Message   string `json:"message,omitempty"`
	Raw       string `json:"raw,omitempty"`
}

// Notices of the original CLI, kept verbatim for scripts that match them.
const (
	noticeTruncated = "Log tail truncated (increase --max-bytes)."
	noticeReset     = "Log cursor reset (file rotated)."
)

type logsOptions struct {
	follow   bool
	limit    int
	maxBytes int
	interval int
	asJSON   bool
	plain    bool
}

func runLogs(env *Env, args []string) int {
	var cf clientFlags
	var o logsOptions
	var noColor, expectFinal bool
	fs := env.FlagSet("logs", "logs [--follow] [--limit N] [--max-bytes N] [--json] [flags]")
	fs.BoolVar(&o.follow, "follow", false, "keep polling for new lines until interrupted")
	fs.IntVar(&o.limit, "limit", 200, "at most this many lines per poll (1-5000)")
	fs.IntVar(&o.maxBytes, "max-bytes", 250000, "read at most this many bytes per poll (1-1000000)")
	fs.IntVar(&o.interval, "interval", 1000, "polling interval in ms with --follow")
	fs.BoolVar(&o.asJSON, "json", false, "one JSON object per line: meta, log/raw and notice records")
	fs.BoolVar(&o.plain, "plain", false, "full ISO timestamps even on a terminal")
	fs.BoolVar(&noColor, "no-color", false, "no colours (output is never coloured; accepted for compatibility)")
	fs.BoolVar(&expectFinal, "expect-final", false, "accepted for compatibility; logs.tail is single-stage")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	// The shared JSON error shape, with the "type" readers of the
	// record stream switch on (the original writes {"type":"error",...}).
	env.errType = "error"
	if o.limit < 1 || o.limit > 5000 {
		return env.Usagef("logs", "logs: --limit %d is out of range (use 1-5000)", o.limit)
	}
	if o.maxBytes < 1 || o.maxBytes > 1000000 {
		return env.Usagef("logs", "logs: --max-bytes %d is out of range (use 1-1000000)", o.maxBytes)
	}
	if o.interval < 1 {
		o.interval = 1000
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	pretty := !o.plain && !o.asJSON && isTerminal(env.Stdout)

	ctx, stop := env.SignalContext()
	defer stop()
	var cursor *int64
	first := true
	outage := false
	poller := &tailPoller{opts: t.Opts, timeout: cf.timeout()}
	defer poller.close()
	for {
		params := map[string]any{"limit": o.limit, "maxBytes": o.maxBytes}
		if cursor != nil {
			params["cursor"] = *cursor
		}
		raw, err := poller.call(ctx, params)
		switch {
		case err != nil && ctx.Err() != nil:
			return ExitOK // interrupted while following
		case err != nil && !first && o.follow && isConnectFailure(err):
			// Each poll is its own connection; a gateway restarting
			// mid-follow is an outage to wait out, not the end of the tail.
			if !outage {
				env.Warnf("logs: %v; retrying every %dms", err, o.interval)
				outage = true
			}
		case err != nil:
			return reportGatewayError(env, t, "logs", err)
		default:
			if outage {
				fmt.Fprintln(env.Stderr, "logs: gateway reachable again")
				outage = false
			}
			var res filelog.TailResult
			if err := json.Unmarshal(raw, &res); err != nil {
				return env.Fail(ExitFailure, CodeBadResponse, fmt.Sprintf("unexpected logs.tail result from %s: %v", t.URL, err), "")
			}
			if werr := emitLogs(env, res, first, o, pretty); werr != nil {
				// The original's words, verbatim, like the notices.
				fmt.Fprintln(env.Stderr, "clawdbot logs: output stdout closed (EPIPE). Stopping tail.")
				return ExitOK
			}
			c := res.Cursor
			cursor = &c
			first = false
		}
		if !o.follow {
			return ExitOK
		}
		select {
		case <-ctx.Done():
			return ExitOK
		case <-time.After(time.Duration(o.interval) * time.Millisecond):
		}
	}
}

// tailPoller makes the logs.tail calls over one connection, redialling only
// after it is lost. A connection per poll (as the original does) makes the
// gateway log "client connected" on every poll, which floods the log a
// follower is reading with its own connections.
type tailPoller struct {
	opts    client.Options
	timeout time.Duration
	conn    *client.Conn
}

// call runs one logs.tail; dial and call together are bounded by the
// timeout, as a one-shot call is.
func (p *tailPoller) call(ctx context.Context, params any) (json.RawMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	timedOut := func(err error) error {
		if cctx.Err() != nil && ctx.Err() == nil {
			return &client.TimeoutError{After: p.timeout}
		}
		return err
	}
	if p.conn == nil {
		opts := p.opts
		opts.Scopes = client.CLIScopes
		if opts.HandshakeTimeout <= 0 || opts.HandshakeTimeout > p.timeout {
			opts.HandshakeTimeout = p.timeout
		}
		c, err := client.Dial(cctx, opts)
		if err != nil {
			return nil, timedOut(err)
		}
		p.conn = c
	}
	var out json.RawMessage
	if err := p.conn.Call(cctx, "logs.tail", params, &out); err != nil {
		// Any failure may have left the connection unusable (a timed-out
		// call's late answer, a close): start over on the next poll.
		p.close()
		return nil, timedOut(err)
	}
	return out, nil
}

func (p *tailPoller) close() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}

// emitLogs prints one logs.tail result; the error is a failed stdout write.
func emitLogs(env *Env, res filelog.TailResult, first bool, o logsOptions, pretty bool) error {
	var out bytes.Buffer
	if o.asJSON {
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		if first {
			enc.Encode(logsRecord{Type: "meta", File: res.File, Cursor: &res.Cursor, Size: &res.Size})
		}
		for _, l := range res.Lines {
			if e, ok := filelog.ParseLine(l); ok {
				enc.Encode(logsRecord{Type: "log", Time: e.Time, Level: e.Level, Subsystem: e.Subsystem, Module: e.Module, Message: e.Message, Raw: l})
			} else {
				enc.Encode(logsRecord{Type: "raw", Raw: l})
			}
		}
		if res.Truncated {
			enc.Encode(logsRecord{Type: "notice", Message: noticeTruncated})
		}
		if res.Reset {
			enc.Encode(logsRecord{Type: "notice", Message: noticeReset})
		}
		_, err := env.Stdout.Write(out.Bytes())
		return err
	}
	if first && res.File != "" {
		fmt.Fprintf(&out, "Log file: %s\n", res.File)
	}
	for _, l := range res.Lines {
		out.WriteString(formatLogLine(l, pretty))
		out.WriteByte('\n')
	}
	if _, err := env.Stdout.Write(out.Bytes()); err != nil {
		return err
	}
	// Notices go to stderr in text mode, as the original does, so piped
	// stdout stays log lines only.
	if res.Truncated {
		fmt.Fprintln(env.Stderr, noticeTruncated)
	}
	if res.Reset {
		fmt.Fprintln(env.Stderr, noticeReset)
	}
	return nil
}

// formatLogLine renders `time level subsystem message` (empty fields left
// out); pretty shows local HH:MM:SS, plain the full ISO time. A line that is
// not a JSON log record is shown as is.
func formatLogLine(line string, pretty bool) string {
	e, ok := filelog.ParseLine(line)
	if !ok {
		return line
	}
	ts := e.Time
	if pretty {
		if t, err := time.Parse(time.RFC3339Nano, e.Time); err == nil {
			ts = t.Local().Format("15:04:05")
		}
	}
	who := e.Subsystem
	if who == "" {
		who = e.Module
	}
	var parts []string
	for _, p := range []string{ts, e.Level, who, displayMessage(e)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// displayMessage drops the leading {"subsystem":…} argument a subsystem
// logger writes as "0": the subsystem is already its own column. The
// --json message keeps it, as the original's reader does.
func displayMessage(e filelog.Entry) string {
	m := e.Message
	if (e.Subsystem == "" && e.Module == "") || !strings.HasPrefix(m, "{") {
		return m
	}
	dec := json.NewDecoder(strings.NewReader(m))
	var head map[string]any
	if dec.Decode(&head) != nil {
		return m
	}
	if _, sub := head["subsystem"]; !sub {
		if _, mod := head["module"]; !mod {
			return m
		}
	}
	return strings.TrimPrefix(m[dec.InputOffset():], " ")
}
