package ports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// Status of a port after inspection.
type Status string

// Port statuses.
const (
	StatusFree    Status = "free"
	StatusBusy    Status = "busy"
	StatusUnknown Status = "unknown"
)

// Hint texts (doc/supervision.md §7.2).
const (
	HintGateway   = "Gateway already running locally. Stop it (clawdbot gateway stop) or use a different port."
	HintSSH       = "SSH tunnel already bound to this port. Close the tunnel or use a different local port in -L."
	HintUnknown   = "Another process is listening on this port."
	HintMultiple  = "Multiple listeners detected; ensure only one gateway/tunnel per port unless intentionally running isolated profiles."
	HintNoDetails = "Port is in use but process details are unavailable (" + NoDetailsFix + ")."
)

// Report is the result of Inspect.
type Report struct {
	Port      int
	Status    Status
	Listeners []Listener
	// Hidden are listening sockets whose process is not visible to us.
	Hidden []HiddenListener
	Hints  []string
	// Errors are problems met while inspecting (lsof failing, a probe error).
	Errors []string
}

// Inspect reports who listens on port. It reads the socket tables (Linux)
// or asks lsof first; when that names no process (lsof missing, or another
// user's process without privileges), it tries to bind the port on each
// loopback and wildcard address to tell "free" from "busy without details".
func Inspect(ctx context.Context, port int) Report {
	r := Report{Port: port}
	ls, hidden, err := listeners(ctx, port)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	if len(ls) > 0 {
		r.Status, r.Listeners, r.Hidden = StatusBusy, ls, hidden
		r.Hints = hints(ls)
		if len(hidden) > 0 {
			r.Hints = append(r.Hints, HintNoDetails)
		}
		return r
	}
	r.Hidden = hidden
	if len(hidden) > 0 {
		r.Status, r.Hints = StatusBusy, []string{HintNoDetails}
		return r
	}
	r.Status = probe(port, &r.Errors)
	if r.Status == StatusBusy {
		r.Hints = []string{HintNoDetails}
	}
	return r
}

func hints(ls []Listener) []string {
	var hs []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hs = append(hs, h)
		}
	}
	for _, l := range ls {
		switch l.Kind {
		case KindGateway:
			add(HintGateway)
		case KindSSH:
			add(HintSSH)
		default:
			add(HintUnknown)
		}
	}
	if len(ls) > 1 {
		add(HintMultiple)
	}
	return hs
}

// probeHosts are tried in order; a host this machine lacks is skipped.
var probeHosts = []string{"127.0.0.1", "0.0.0.0", "::1", "::"}

// probe binds port on each host: EADDRINUSE anywhere means busy.
func probe(port int, errs *[]string) Status {
	status := StatusFree
	for _, h := range probeHosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			continue
		}
		switch {
		case IsAddrInUse(err):
			return StatusBusy
		case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EAFNOSUPPORT):
			continue
		default:
			*errs = append(*errs, err.Error())
			status = StatusUnknown
		}
	}
	return status
}

// Text renders the report the way `gateway status` and doctor print it.
func (r Report) Text() string {
	var b strings.Builder
	switch r.Status {
	case StatusFree:
		fmt.Fprintf(&b, "Port %d is free.\n", r.Port)
		return b.String()
	case StatusUnknown:
		fmt.Fprintf(&b, "Port %d status is unknown.\n", r.Port)
	default:
		fmt.Fprintf(&b, "Port %d is already in use.\n", r.Port)
	}
	for _, l := range r.Listeners {
		cmd := l.CommandLine
		if cmd == "" {
			cmd = l.Command
		}
		user := l.User
		if user == "" {
			user = "?"
		}
		fmt.Fprintf(&b, "- pid %d %s: %s", l.PID, user, cmd)
		if l.Address != "" {
			fmt.Fprintf(&b, " (%s)", l.Address)
		}
		b.WriteString("\n")
	}
	for _, h := range r.Hidden {
		fmt.Fprintf(&b, "- pid ? %s: (not visible to this user) (%s)\n", h.User, h.Address)
	}
	for _, h := range r.Hints {
		fmt.Fprintf(&b, "- %s\n", h)
	}
	return b.String()
}

// StopCommand is the command that stops the gateway service of profile
// ("" or "default" = the default profile; "dev" uses the --dev shorthand).
func StopCommand(profile string) string {
	switch p := strings.TrimSpace(profile); {
	case p == "" || strings.EqualFold(p, "default"):
		return "clawdbot gateway stop"
	case p == "dev":
		return "clawdbot --dev gateway stop"
	default:
		return "clawdbot --profile " + p + " gateway stop"
	}
}

// describe names one holder: "4242 (clawdbot gateway, profile dev)".
func describe(l Listener) string {
	var what string
	switch l.Kind {
	case KindGateway:
		what = "clawdbot gateway"
		if l.Profile != "" && !strings.EqualFold(l.Profile, "default") {
			what += ", profile " + l.Profile
		}
		if l.Supervised() {
			what += ", supervised"
		}
	case KindSSH:
		what = "ssh tunnel"
	default:
		// The command line tells which of several same-named processes
		// it is; it starts with the command, so it replaces it.
		what = shortCommandLine(l.CommandLine)
		if what == "" {
			what = l.Command
		}
		if what == "" {
			what = "unknown process"
		}
		return fmt.Sprintf("%d (%s)", l.PID, what)
	}
	if cl := shortCommandLine(l.CommandLine); cl != "" {
		what += ": " + cl
	}
	return fmt.Sprintf("%d (%s)", l.PID, what)
}

// DescribeHolder is the one-line error for a port that is taken, naming the
// holder(s) and the fix, e.g.
//
//	port 18789 is held by pid 4242 (clawdbot gateway, profile dev); stop it with 'clawdbot --dev gateway stop' or take it over with --force
//
// ls may be empty when the holder could not be identified.
func DescribeHolder(port int, ls []Listener) string {
	if len(ls) == 0 {
		return fmt.Sprintf("port %d is in use but process details are unavailable (%s); "+
			"free it or choose another port with --port", port, NoDetailsFix)
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = describe(l)
	}
	held := "pid " + parts[0]
	if len(parts) > 1 {
		held = "pids " + strings.Join(parts, ", ")
	}
	first := ls[0]
	var fix string
	switch {
	case len(ls) == 1 && first.Kind == KindGateway && first.Supervised():
		fix = fmt.Sprintf("stop it with '%s' or take it over with --force", StopCommand(first.Profile))
	case len(ls) == 1 && first.Kind == KindGateway:
		// Started by hand: the service commands cannot stop it.
		fix = fmt.Sprintf("stop it (Ctrl+C where it runs, or 'kill %d') or take it over with --force", first.PID)
	case len(ls) == 1 && first.Kind == KindSSH:
		fix = "close the tunnel, use a different local port in -L, or choose another port with --port"
	default:
		fix = "stop it, take it over with --force, or choose another port with --port"
	}
	return fmt.Sprintf("port %d is held by %s; %s", port, held, fix)
}

// shortCommandLine trims a command line for a one-line message, with the
// values of secret flags masked: a gateway started with --token must not
// leave the token in a terminal or a log because --force ended it.
func shortCommandLine(cl string) string {
	const max = 120
	cl = redactCommandLine(strings.TrimSpace(cl))
	if len(cl) > max {
		// Cut on a rune boundary.
		cut := max
		for cut > 0 && cl[cut]&0xC0 == 0x80 {
			cut--
		}
		cl = cl[:cut] + "…"
	}
	return cl
}

// secretFlags take a credential as their value.
var secretFlags = []string{"--token", "--password"}

// redactCommandLine masks the values of secretFlags ("--token X",
// "--token=X").
func redactCommandLine(cl string) string {
	fs := strings.Fields(cl)
	changed := false
	for i := 0; i < len(fs); i++ {
		for _, f := range secretFlags {
			switch {
			case fs[i] == f && i+1 < len(fs):
				fs[i+1] = "***"
				i++
				changed = true
			case strings.HasPrefix(fs[i], f+"="):
				fs[i] = f + "=***"
				changed = true
			}
		}
	}
	if !changed {
		return cl
	}
	return strings.Join(fs, " ")
}
