package doctor

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/ports"
)

// WriteText prints the human status: where the CLI looks (config, probe
// target) first, so "localhost vs LAN" and profile confusion show at once;
// then the supervisor's view and the RPC view on separate lines (they can
// disagree, and each line says whose view it is); then each warning with
// the command that fixes it; then a one-line verdict.
func (r *StatusReport) WriteText(w io.Writer) {
	p := func(label, format string, args ...any) {
		// Tool output quoted in a value (systemctl's "Job failed.\nSee ...")
		// continues under the value, not in the label column.
		fmt.Fprintf(w, "%-18s %s\n", label+":", indentLines(fmt.Sprintf(format, args...), 19))
	}
	cfgLine := func(s StatusConfig) string {
		out := s.Path
		if !s.Exists {
			out += " (missing)"
		} else if !s.Valid {
			out += " (invalid)"
		}
		return out
	}
	p("Config (cli)", "%s", cfgLine(r.Config.CLI))
	if r.Service.Installed {
		p("Config (service)", "%s", cfgLine(r.Config.Daemon))
	}
	for _, is := range r.Config.CLI.Issues {
		if is.Path == "" { // a syntax error has no key path
			p("Config issue", "%s", is.Message)
			continue
		}
		p("Config issue", "%s: %s", is.Path, is.Message)
	}
	g := r.Gateway
	switch {
	case g.probeURLGiven:
		// The config's bind and port say nothing about a URL the user
		// chose: name only what was probed.
		p("Probe target", "%s (--url)", g.ProbeURL)
	default:
		p("Probe target", "%s (bind=%s %s, port %d from %s)", g.ProbeURL, g.BindMode, g.BindHost, g.Port, g.PortSource)
		if g.ProbeNote != "" {
			p("Probe note", "%s", g.ProbeNote)
		}
	}
	// No "Dashboard" line: the gateway serves no browser UI yet, and a
	// link to a 404 is worse than none.
	fmt.Fprintln(w)

	s := r.Service
	if s.Installed {
		p("Service", "%s %s (%s) at %s", s.Label, s.Name, loadedWord(s), s.Path)
	} else if s.Name != "" {
		p("Service", "%s %s not installed (%s)", s.Label, s.Name, s.Path)
	} else {
		p("Service", "no supported service manager")
	}
	if s.Command != nil {
		p("Command", "%s", strings.Join(s.Command.ProgramArguments, " "))
		if s.Command.WorkingDirectory != "" {
			p("Working dir", "%s", s.Command.WorkingDirectory)
		}
		if len(s.Command.Environment) > 0 {
			var kv []string
			for _, k := range sortedKeys(s.Command.Environment) {
				kv = append(kv, k+"="+s.Command.Environment[k])
			}
			p("Service env", "%s", strings.Join(kv, " "))
		}
	}
	p("Supervisor", "%s", runtimeLine(s.Runtime))
	switch {
	case r.RPC == nil:
		p("RPC probe", "skipped (--no-probe)")
	case r.RPC.OK:
		ms := ""
		if r.RPC.LatencyMs != nil {
			ms = fmt.Sprintf(", %d ms", *r.RPC.LatencyMs)
		}
		p("RPC probe", "ok (%s%s)", r.RPC.URL, ms)
	default:
		p("RPC probe", "failed (%s): %s", r.RPC.URL, r.RPC.Error)
	}
	p(fmt.Sprintf("Port %d", r.Port.Port), "%s", portLine(r.Port))
	if r.PortCli != nil {
		p(fmt.Sprintf("Port %d (cli)", r.PortCli.Port), "%s", portLine(*r.PortCli))
	}
	if r.LastError != "" {
		p("Last error", "%s", r.LastError)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, wn := range r.Warnings {
			fmt.Fprintf(w, "- %s\n", indentLines(wn.Message, 2))
			if wn.Fix != "" {
				fmt.Fprintf(w, "  Fix: %s\n", indentLines(wn.Fix, 2))
			}
		}
	}
	fmt.Fprintf(w, "\nVerdict: %s\n", r.Verdict())
}

// Verdict is the one-line summary matching ExitCode.
func (r *StatusReport) Verdict() string {
	switch r.ExitCode() {
	case StatusExitOK:
		if r.RPC == nil {
			return "running (not probed)."
		}
		return "running and reachable."
	case StatusExitMisconfig:
		return "running and reachable, but the CLI and the service disagree (see warnings)."
	}
	if r.heldBy != nil {
		return "the port is held by pid " + strconv.Itoa(r.heldBy.PID) + " (not the service); the service cannot start."
	}
	if r.Running() {
		return "running but NOT reachable over RPC."
	}
	return "gateway is NOT running."
}

func loadedWord(s StatusService) string {
	if s.Loaded {
		return s.LoadedText
	}
	return s.NotLoadedText
}

func runtimeLine(rt StatusRuntime) string {
	var parts []string
	if rt.PID > 0 {
		parts = append(parts, "pid "+strconv.Itoa(rt.PID))
	}
	if rt.State != "" {
		parts = append(parts, "state "+rt.State)
	}
	if rt.SubState != "" {
		parts = append(parts, "sub "+rt.SubState)
	}
	if rt.Restarts > 0 {
		parts = append(parts, strconv.Itoa(rt.Restarts)+" restarts")
	}
	if rt.LastExitStatus != nil {
		parts = append(parts, "last exit "+strconv.Itoa(*rt.LastExitStatus))
	}
	if rt.Detail != "" {
		parts = append(parts, rt.Detail)
	}
	if len(parts) == 0 {
		return rt.Status
	}
	return rt.Status + " (" + strings.Join(parts, ", ") + ")"
}

func portLine(p StatusPort) string {
	if p.Status != string(ports.StatusBusy) {
		return p.Status
	}
	if len(p.Listeners) == 0 {
		return "busy (holder unknown)"
	}
	var ls []string
	for _, l := range p.Listeners {
		cmd := cmp.Or(l.CommandLine, l.Command, "?")
		s := fmt.Sprintf("pid %d %s: %s", l.PID, cmp.Or(l.User, "?"), cmd)
		if l.Address != "" {
			s += " (" + l.Address + ")"
		}
		ls = append(ls, s)
	}
	return "busy: " + strings.Join(ls, "; ")
}

// WriteReport prints doctor's grouped report: findings under their check,
// each with its fix, then the actions --fix took, then a one-line verdict.
func WriteReport(w io.Writer, checks []Check, findings []Finding, actions []Action, after []Finding, hint func(string) string) {
	by := map[string][]Finding{}
	for _, f := range findings {
		by[f.Check] = append(by[f.Check], f)
	}
	for _, ch := range checks {
		fs := by[ch.Name()]
		if len(fs) == 0 {
			fmt.Fprintf(w, "%-16s ok\n", ch.Name())
			continue
		}
		fmt.Fprintf(w, "%s\n", ch.Name())
		for _, f := range fs {
			fmt.Fprintf(w, "  %-7s [%s] %s\n", f.Severity, f.Code, indentLines(f.Message, 10))
			if f.Detail != "" {
				fmt.Fprintf(w, "          %s\n", indentLines(f.Detail, 10))
			}
			if f.Fix != "" {
				fmt.Fprintf(w, "          fix: %s\n", indentLines(f.Fix, 10))
			}
		}
	}
	WriteRepairs(w, findings, actions, after, hint)
}

// WriteRepairs prints the part of the report that follows the findings: the
// actions --fix took, the findings left after them, and the verdict. Doctor
// prints it alone after the user confirmed the repairs at its prompt, below
// the findings it already showed.
func WriteRepairs(w io.Writer, findings []Finding, actions []Action, after []Finding, hint func(string) string) {
	if len(actions) > 0 {
		fmt.Fprintln(w, "\nRepairs:")
		for _, a := range actions {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(a.String(), "\n", "\n  "))
		}
	}
	final := findings
	if after != nil {
		final = after
		if len(after) > 0 {
			fmt.Fprintln(w, "\nAfter repairs:")
			for _, f := range after {
				fmt.Fprintf(w, "  %-7s [%s] %s\n", f.Severity, f.Code, indentLines(f.Message, 10))
				if f.Fix != "" {
					fmt.Fprintf(w, "          fix: %s\n", indentLines(f.Fix, 10))
				}
			}
		}
	}
	fmt.Fprintf(w, "\n%s\n", Verdict(final, actions != nil, hint))
}

// indentLines indents every line after the first of s by n spaces, so
// multi-line tool output stays under the column it belongs to.
func indentLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
}

// Verdict is doctor's one-line summary of the (remaining) findings.
func Verdict(fs []Finding, fixed bool, hint func(string) string) string {
	s := Summarize(fs)
	repairable, force := 0, 0
	for _, f := range fs {
		if f.Repairable && f.Severity != SevInfo {
			repairable++
			if f.NeedsForce {
				force++
			}
		}
	}
	prefix := "Verdict: "
	if fixed {
		prefix = "Verdict after repairs: "
	}
	switch {
	case s.Errors == 0 && s.Warnings == 0:
		return prefix + "all good."
	case repairable > 0 && !fixed:
		cmd := "clawdbot doctor --fix"
		if force == repairable {
			cmd += " --force"
		}
		return fmt.Sprintf("%s%d error(s), %d warning(s); %d can be repaired with '%s'.", prefix, s.Errors, s.Warnings, repairable, hint(cmd))
	}
	return fmt.Sprintf("%s%d error(s), %d warning(s); see the fixes above.", prefix, s.Errors, s.Warnings)
}
