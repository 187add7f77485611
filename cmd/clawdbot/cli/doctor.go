package cli

// doctor: run every check in parallel, print a grouped report with a fix per
// finding, and with --fix run the repairs in their fixed order (doctor
// package). The prompt policy follows the original (doc/supervision.md §6.2):
// without a TTY and without --yes, doctor only reports.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clawdbot/clawdbot/doctor"
)

func init() {
	Register(&Command{Path: "doctor", Summary: "check config, service, port and gateway health; --fix repairs what it can", Run: runDoctor,
		Exits: []ExitCode{{ExitOK, "no errors remain (warnings allowed)"}, {ExitFailure, "errors remain"}, {Code: ExitUsage}}})
}

const doctorUsage = `doctor [--fix|--repair] [--yes] [--non-interactive] [--force] [--deep] [--json] [--generate-gateway-token]

Repairs run only with --fix/--repair or --yes, and without a TTY only with
--yes (--non-interactive never repairs); on a TTY without --fix doctor asks.
Repairs that would overwrite or remove a service definition clawdbot did not
write (no marker) also need --force. Order: carry a gateway token that
lives only in the installed service definition (the original's unit, plist
or gateway.cmd) into the config, rewrite drifted service definitions (after
a backup under <state>/backups/services), migrate legacy services (and on
Windows the original's Scheduled Task), fix permissions, generate a token
(only when no definition had one), enable lingering, start the service.`

// doctorJSON is `doctor --json`.
type doctorJSON struct {
	OK         bool             `json:"ok"`
	Profile    string           `json:"profile"`
	ConfigPath string           `json:"configPath"`
	Summary    doctor.Summary   `json:"summary"`
	Findings   []doctor.Finding `json:"findings"`
	Applied    bool             `json:"applied"`
	Actions    []doctor.Action  `json:"actions"`
	// Remaining are the findings of the re-run after repairs (absent when
	// nothing was repaired).
	Remaining []doctor.Finding `json:"remaining,omitempty"`
}

// stdinIsTTY reports whether the command can ask the user: stdin is a
// real terminal (not merely a character device such as /dev/null).
func stdinIsTTY(env *Env) bool { return isTerminal(env.Stdin) }

func runDoctor(env *Env, args []string) int {
	var fix, repair, yes, nonInteractive, force, deep, asJSON, genToken bool
	var timeoutMs int
	fs := env.FlagSet("doctor", doctorUsage)
	fs.BoolVar(&fix, "fix", false, "apply the repairs (alias --repair)")
	fs.BoolVar(&repair, "repair", false, "apply the repairs")
	fs.BoolVar(&yes, "yes", false, "answer yes: repair without asking, also without a TTY")
	fs.BoolVar(&nonInteractive, "non-interactive", false, "never ask and never repair (report only)")
	fs.BoolVar(&force, "force", false, "also overwrite/remove service definitions without the clawdbot marker")
	fs.BoolVar(&deep, "deep", false, "also scan system service locations")
	fs.BoolVar(&asJSON, "json", false, "print findings and actions as JSON")
	fs.BoolVar(&genToken, "generate-gateway-token", false, "generate a gateway token if none is configured")
	fs.IntVar(&timeoutMs, "timeout", 3000, "gateway health probe timeout in ms")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	prof, err := env.ResolveProfile(0)
	if err != nil {
		return env.Errorf("%v", err)
	}
	cf := clientFlags{Timeout: timeoutMs}
	c := doctorContext(env, prof, deep, cf.timeout())
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	checks := doctor.Checks()
	findings := doctor.Run(ctx, c, checks)

	// Prompt policy (doc/supervision.md §6.2).
	tty := stdinIsTTY(env)
	interactive := !nonInteractive && (tty || yes)
	apply := (fix || repair || yes) && interactive
	// repairable counts what a 'y' would run: a repair that needs --force
	// is skipped without it, so offering it would only disappoint.
	repairable, needForce := doctor.CountRepairs(findings, force)
	header := func() {
		fmt.Fprintf(env.Stdout, "Clawdbot doctor: profile %s, config %s\n\n", prof.DisplayName(), prof.ConfigPath)
	}
	asked := false
	if !apply && interactive && tty && !asJSON && repairable > 0 && !nonInteractive {
		header()
		doctor.WriteReport(env.Stdout, checks, findings, nil, nil, env.Hint)
		more := ""
		if needForce > 0 {
			more = fmt.Sprintf(" (%d more need --force)", needForce)
		}
		fmt.Fprintf(env.Stdout, "\nApply %d repair(s) now?%s [y/N] ", repairable, more)
		line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
		apply = strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")
		if !apply {
			return doctorExit(findings)
		}
		asked = true
	}
	var actions []doctor.Action
	var after []doctor.Finding
	opts := doctor.FixOptions{Force: force}
	switch {
	case apply:
	case genToken:
		// An explicit request: it runs even when doctor only reports.
		opts.Only = []doctor.Step{doctor.StepToken}
	default:
		opts.Only = []doctor.Step{}
	}
	if len(opts.Only) > 0 || opts.Only == nil {
		actions = doctor.Fix(ctx, c, findings, opts)
		if actions == nil {
			actions = []doctor.Action{}
		}
		after = doctor.Run(ctx, c, checks)
		if after == nil {
			after = []doctor.Finding{}
		}
	}
	final := findings
	if after != nil {
		final = after
	}
	if asJSON {
		out := doctorJSON{
			OK: doctor.Summarize(final).Errors == 0, Profile: prof.DisplayName(), ConfigPath: prof.ConfigPath,
			Summary: doctor.Summarize(final), Findings: orEmpty(findings), Applied: actions != nil,
			Actions: actions, Remaining: after,
		}
		if out.Actions == nil {
			out.Actions = []doctor.Action{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(out)
		return doctorExit(final)
	}
	if asked {
		// The findings are on screen above the prompt: show what changed.
		doctor.WriteRepairs(env.Stdout, findings, actions, after, env.Hint)
		return doctorExit(final)
	}
	header()
	doctor.WriteReport(env.Stdout, checks, findings, actions, after, env.Hint)
	if actions == nil && needForce > 0 {
		fmt.Fprintf(env.Stdout, "%d repair(s) need --force: they overwrite or remove service definitions clawdbot did not write or that belong to another profile (%s).\n",
			needForce, env.Hint("clawdbot doctor --fix --force"))
	}
	if actions == nil && repairable+needForce > 0 && (fix || repair || yes) && !apply {
		if nonInteractive {
			// --yes would not help here: --non-interactive wins.
			fmt.Fprintf(env.Stdout, "Not repairing: --non-interactive only reports; drop it to repair (%s).\n", env.Hint("clawdbot doctor --fix --yes"))
		} else {
			fmt.Fprintf(env.Stdout, "Not repairing: no TTY to confirm on; rerun with --yes (%s).\n", env.Hint("clawdbot doctor --fix --yes"))
		}
	}
	return doctorExit(final)
}

func orEmpty(fs []doctor.Finding) []doctor.Finding {
	if fs == nil {
		return []doctor.Finding{}
	}
	return fs
}

func doctorExit(fs []doctor.Finding) int {
	if doctor.Summarize(fs).Errors > 0 {
		return ExitFailure
	}
	return ExitOK
}
