// Package ports answers "who holds the gateway port, and what do we do about
// it" (doc/supervision.md §7): it lists the listeners on a port (the kernel's
// socket and process tables on Linux, lsof elsewhere, a bind probe when
// neither names a process), classifies them (our gateway, an SSH
// tunnel, something else), phrases the one-line error that names the holder
// and the fix, frees the port for `gateway --force`, and holds the
// single-instance lock per config path.
package ports

import (
	"bufio"
	"context"
	"errors"
	"strconv"
	"strings"
)

// Kind classifies a listener.
type Kind string

// Listener kinds (doc/supervision.md §7.2).
const (
	KindGateway Kind = "gateway" // a clawdbot gateway (command line or service marker)
	KindSSH     Kind = "ssh"     // an SSH tunnel (ssh -L)
	KindUnknown Kind = "unknown" // anything else
)

// Listener is one process listening on the port.
type Listener struct {
	PID int
	// Command is the short command name (/proc/<pid>/comm, lsof's c field).
	Command string
	// CommandLine is the full command line (/proc/<pid>/cmdline or ps), ""
	// if it cannot be read.
	CommandLine string
	// User owns the process ("" if unknown).
	User string
	// Address is the first listening address found (e.g. 127.0.0.1:18789,
	// [::1]:18789, *:18789 for a wildcard).
	Address string
	// ServiceMarker is CLAWDBOT_SERVICE_MARKER from the process environment:
	// set when a service manager (launchd/systemd/SCM) started it.
	ServiceMarker string
	// Profile is CLAWDBOT_PROFILE from the process environment.
	Profile string
	// Kind is the classification.
	Kind Kind
}

// Supervised reports whether a service manager started the process, so
// killing it would only make the manager start it again.
func (l Listener) Supervised() bool { return l.ServiceMarker != "" }

// Classify derives the Kind from the command line, command and marker.
func Classify(l Listener) Kind {
	s := strings.ToLower(l.CommandLine + " " + l.Command)
	switch {
	case l.ServiceMarker != "" || strings.Contains(s, "clawdbot"):
		return KindGateway
	case strings.Contains(s, "ssh"):
		return KindSSH
	}
	return KindUnknown
}

// ErrNoLsof is returned when lsof is not installed.
var ErrNoLsof = errors.New("lsof not found; required for --force")

// parseLsof reads lsof -F output: a p line starts a process, c names it, n
// gives an address (the first one is kept). Other fields are ignored.
func parseLsof(out string) []Listener {
	var ls []Listener
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		v := line[1:]
		switch line[0] {
		case 'p':
			pid, err := strconv.Atoi(v)
			if err != nil || pid <= 0 {
				continue
			}
			ls = append(ls, Listener{PID: pid})
		case 'c':
			if len(ls) > 0 {
				ls[len(ls)-1].Command = v
			}
		case 'n':
			if len(ls) > 0 && ls[len(ls)-1].Address == "" {
				ls[len(ls)-1].Address = v
			}
		}
	}
	return ls
}

// HiddenListener is a listening socket whose process we may not see: on
// Linux, another user's process while we are not root. The socket table
// still names its owner's uid.
type HiddenListener struct {
	Address string
	User    string
}

// Listeners lists the processes listening on TCP port, with command line,
// user, service marker and profile filled in where the OS lets us read them.
// On Linux it reads the kernel's tables (/proc), so it works without lsof;
// elsewhere it runs lsof.
func Listeners(ctx context.Context, port int) ([]Listener, error) {
	ls, _, err := listeners(ctx, port)
	return ls, err
}

// listeners is Listeners plus the sockets whose owner we cannot see.
func listeners(ctx context.Context, port int) ([]Listener, []HiddenListener, error) {
	ls, hidden, err := findListeners(ctx, port)
	if err != nil {
		return nil, nil, err
	}
	for i := range ls {
		enrich(ctx, &ls[i])
	}
	return ls, hidden, nil
}

func enrich(ctx context.Context, l *Listener) {
	info := readProc(ctx, l.PID)
	if l.Command == "" {
		l.Command = info.comm
	}
	l.CommandLine = info.cmdline
	l.User = info.user
	l.ServiceMarker = info.env["CLAWDBOT_SERVICE_MARKER"]
	l.Profile = info.env["CLAWDBOT_PROFILE"]
	*l = Classified(*l)
}

// Classified fills in what Inspect derives from a listener's command line,
// command, marker and environment: its Kind, and for a gateway started by
// hand its profile. Services carry CLAWDBOT_PROFILE in their environment; a
// hand-started gateway says --profile NAME / --dev in its arguments, and
// without reading them another profile's gateway passes for the default's.
func Classified(l Listener) Listener {
	l.Kind = Classify(l)
	if l.Kind == KindGateway && l.Profile == "" {
		l.Profile = ProfileFromArgs(l.CommandLine)
	}
	return l
}

// ProfileFromArgs is the profile a clawdbot command line selects with the
// global --dev / --profile NAME flags (before the command word), or "".
func ProfileFromArgs(cmdline string) string {
	fields := strings.Fields(cmdline)
	for i := 1; i < len(fields); i++ {
		switch f := fields[i]; {
		case f == "--dev":
			return "dev"
		case f == "--profile" && i+1 < len(fields):
			return fields[i+1]
		case strings.HasPrefix(f, "--profile="):
			return strings.TrimPrefix(f, "--profile=")
		case !strings.HasPrefix(f, "-"):
			return "" // the command word: later flags are the command's
		}
	}
	return ""
}
