// Package cli implements the clawdbot command tree on spf13/pflag. Each
// command group lives in its own file and registers its commands from init
// with Register, so adding a command never touches a central table.
//
// Commands write only to the injected Env streams and return an exit code:
// 0 ok, 1 failure, 2 usage error (the gateway also uses 78 for a fatal
// misconfiguration). Nothing here calls os.Exit, so every command is testable
// in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// Exit codes shared by all commands.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	ExitConfig  = 78 // EX_CONFIG: fatal misconfiguration; supervisors must not respawn
)

// Version information, set with -ldflags -X by the Makefile.
var (
	Version = "dev"
	Commit  = ""
)

// Env is everything a command may touch: its streams, its environment and
// the global flags given before the command word.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	// Getenv reads the command's environment (os.Getenv in the real process).
	Getenv func(string) string
	// Environ is the full environment as KEY=VALUE lines.
	Environ func() []string
	// Home is the user's home directory ("" if unknown).
	Home string
	// ProfileFlag is the --profile value ("" if not given); Dev is --dev.
	ProfileFlag string
	Dev         bool
	// NoColor is the global --no-color (output is plain already; kept so
	// scripts written for the original keep working).
	NoColor bool
	// Executable is the absolute path of the running binary ("" if unknown).
	Executable string
	// Context is cancelled when the command should stop (SIGINT/SIGTERM for
	// commands that do not handle signals themselves).
	Context context.Context

	// Platform is the service platform the gateway service commands,
	// gateway status and doctor manage (the running OS's when unset).
	Platform supervise.Platform
	// ServiceRunner runs launchctl/systemctl/loginctl/journalctl/schtasks
	// for the service commands, gateway status and doctor (real processes
	// when unset). Tests inject a recorder here instead of touching a
	// package variable, so they cannot leak into each other.
	ServiceRunner supervise.Runner
	// ServiceManager returns the service manager for a platform (when
	// unset: supervise.NewManager over ServiceRunner).
	ServiceManager func(supervise.Platform) (supervise.Manager, error)
}

// ProcessEnv is the Env of the real process.
func ProcessEnv() *Env {
	home, _ := os.UserHomeDir()
	exe, _ := os.Executable()
	return &Env{
		Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin,
		Getenv: os.Getenv, Environ: os.Environ, Home: home, Executable: exe,
		Context: context.Background(),
	}
}

// ResolveProfile resolves the active profile from the global flags, the
// environment and the config file. portFlag is the command's --port (0 when
// not given).
func (e *Env) ResolveProfile(portFlag int) (profiles.Profile, error) {
	return profiles.Resolve(profiles.Input{
		ProfileFlag: e.ProfileFlag,
		Dev:         e.Dev,
		PortFlag:    portFlag,
		Getenv:      e.Getenv,
		Home:        e.Home,
	})
}

// ProfileName is the name of the active profile as far as the flags and the
// environment tell: "dev" for --dev, else --profile, else CLAWDBOT_PROFILE;
// "" for the default profile. It does not validate (ResolveProfile does).
func (e *Env) ProfileName() string {
	switch {
	case e.Dev:
		return "dev"
	case e.ProfileFlag != "":
		return e.ProfileFlag
	case e.Getenv != nil:
		return strings.TrimSpace(e.Getenv("CLAWDBOT_PROFILE"))
	}
	return ""
}

// Hint formats a printed fix command for the active profile, e.g.
// "clawdbot doctor --fix" → "clawdbot --profile work doctor --fix"
// (supervision spec §1.7). Use it for every command a message tells the user
// to run.
func (e *Env) Hint(cmd string) string { return FormatHint(e.ProfileName(), cmd) }

// FormatHint inserts "--profile <name>" (or "--dev") after "clawdbot" in cmd
// for a named profile; see profiles.FormatHint.
func FormatHint(profile, cmd string) string { return profiles.FormatHint(profile, cmd) }

// Errorf prints a one-line error to stderr and returns ExitFailure.
func (e *Env) Errorf(format string, args ...any) int {
	fmt.Fprintf(e.Stderr, "clawdbot: "+format+"\n", args...)
	return ExitFailure
}

// Command is one command in the tree. Path is its words after "clawdbot",
// e.g. "gateway install".
type Command struct {
	Path    string
	Summary string
	// Run executes the command with the arguments that follow its path.
	Run func(env *Env, args []string) int
	// Hidden commands work but are not listed in help.
	Hidden bool
}

var commands = map[string]*Command{}

// groupSummaries describe command groups that have no command of their own
// (e.g. "config"), for help listings.
var groupSummaries = map[string]string{}

// RegisterGroup sets the help summary of a command group without a command
// of its own; its subcommands are listed after it.
func RegisterGroup(path, summary string) { groupSummaries[path] = summary }

// Register adds a command to the tree; it panics on a duplicate path because
// that is a programming error caught by any test run.
func Register(c *Command) {
	if _, dup := commands[c.Path]; dup {
		panic("cli: duplicate command " + c.Path)
	}
	commands[c.Path] = c
}

// Main runs the command named by args and returns its exit code. A panic in
// a command is reported as an internal error (exit 1) instead of a crash
// dump on the user's terminal.
func Main(args []string, env *Env) (code int) {
	fillDefaults(env)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(env.Stderr, "clawdbot: internal error: %v (please report it)\n%s", r, debug.Stack())
			code = ExitFailure
		}
	}()
	rest, code, ok := parseGlobal(args, env)
	if !ok {
		return code
	}
	if len(rest) == 0 {
		printRootHelp(env.Stdout)
		return ExitOK
	}
	if rest[0] == "help" {
		return runHelp(env, rest[1:])
	}
	cmd, cmdArgs := lookup(rest)
	if cmd == nil {
		return unknownCommand(env, rest)
	}
	return cmd.Run(env, cmdArgs)
}

// fillDefaults makes a partly filled Env (as tests build them) safe to use.
func fillDefaults(env *Env) {
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Environ == nil {
		env.Environ = func() []string { return nil }
	}
	if env.Context == nil {
		env.Context = context.Background()
	}
	if env.Platform == "" {
		env.Platform = supervise.PlatformFor(runtime.GOOS)
	}
	if env.ServiceRunner == nil {
		env.ServiceRunner = supervise.ExecRunner{}
	}
	if env.ServiceManager == nil {
		env.ServiceManager = func(pl supervise.Platform) (supervise.Manager, error) {
			return supervise.NewManager(pl, env.ServiceRunner, os.Getuid())
		}
	}
}

// unknownCommand handles words that name no command: a bare group
// ("clawdbot gateway" when only "gateway install" etc. exist) or a group
// with --help prints the group's help; anything else is a usage error.
func unknownCommand(env *Env, rest []string) int {
	words := unknownWords(rest)
	if len(words) == 0 { // only after "--": name what was given
		words = rest[:1]
	}
	for n := len(words); n > 0; n-- {
		group := strings.Join(words[:n], " ")
		if !isGroup(group) {
			continue
		}
		extra := rest[n:]
		if len(extra) == 0 || (len(extra) == 1 && (extra[0] == "--help" || extra[0] == "-h")) {
			printGroupHelp(env.Stdout, group)
			return ExitOK
		}
		fmt.Fprintf(env.Stderr, "clawdbot: unknown command %q; run '%s' for the list\n",
			strings.Join(words, " "), env.Hint("clawdbot "+group+" --help"))
		return ExitUsage
	}
	fmt.Fprintf(env.Stderr, "clawdbot: unknown command %q; run '%s' for the list\n",
		strings.Join(words, " "), env.Hint("clawdbot --help"))
	return ExitUsage
}

// runHelp implements "clawdbot help [command...]".
func runHelp(env *Env, words []string) int {
	if len(words) == 0 {
		printRootHelp(env.Stdout)
		return ExitOK
	}
	if c := commands[strings.Join(words, " ")]; c != nil {
		return c.Run(env, []string{"--help"})
	}
	if path := strings.Join(words, " "); isGroup(path) {
		printGroupHelp(env.Stdout, path)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "clawdbot: unknown command %q; run 'clawdbot --help' for the list\n", strings.Join(words, " "))
	return ExitUsage
}

// isGroup reports whether some registered command lives below path.
func isGroup(path string) bool {
	for p := range commands {
		if strings.HasPrefix(p, path+" ") {
			return true
		}
	}
	return false
}

// parseGlobal consumes --dev, --profile NAME, --profile=NAME, --help and
// --version before the first positional word (supervision spec §1.1); flags
// after the command word belong to the command.
func parseGlobal(args []string, env *Env) (rest []string, code int, ok bool) {
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			break
		}
		switch {
		case a == "--":
			i++
			return args[i:], 0, true
		case a == "--dev":
			if env.ProfileFlag != "" && !strings.EqualFold(env.ProfileFlag, "dev") {
				return nil, usageError(env, "Cannot combine --dev with --profile"), false
			}
			env.Dev = true
		case a == "--profile" || strings.HasPrefix(a, "--profile="):
			var v string
			if a == "--profile" {
				if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
					return nil, usageError(env, "--profile requires a value"), false
				}
				i++
				v = args[i]
			} else {
				v = strings.TrimPrefix(a, "--profile=")
			}
			v = strings.TrimSpace(v)
			if v == "" {
				return nil, usageError(env, "--profile requires a value"), false
			}
			if !profiles.ValidName(v) {
				return nil, usageError(env, `Invalid --profile (use letters, numbers, "_", "-" only)`), false
			}
			if env.Dev {
				return nil, usageError(env, "Cannot combine --dev with --profile"), false
			}
			env.ProfileFlag = v
		case a == "--no-color":
			env.NoColor = true
		case a == "-h" || a == "--help":
			printRootHelp(env.Stdout)
			return nil, ExitOK, false
		case a == "-V" || a == "--version":
			fmt.Fprintln(env.Stdout, Version)
			return nil, ExitOK, false
		default:
			return nil, usageError(env, fmt.Sprintf("unknown global flag %s (global flags: --dev, --profile NAME); command flags go after the command", a)), false
		}
	}
	if env.Dev && strings.EqualFold(env.ProfileFlag, "dev") {
		env.ProfileFlag = "" // --profile dev --dev is tolerated: the same profile
	}
	return args[i:], 0, true
}

func usageError(env *Env, msg string) int {
	fmt.Fprintf(env.Stderr, "[clawdbot] %s\n", msg)
	return ExitUsage
}

// lookup finds the longest registered path that prefixes the positional
// words of args.
func lookup(args []string) (*Command, []string) {
	for n := len(args); n > 0; n-- {
		words := args[:n]
		if strings.HasPrefix(words[n-1], "-") {
			continue
		}
		positional := true
		for _, w := range words {
			if strings.HasPrefix(w, "-") {
				positional = false
				break
			}
		}
		if !positional {
			continue
		}
		if c := commands[strings.Join(words, " ")]; c != nil {
			return c, args[n:]
		}
	}
	return nil, nil
}

func unknownWords(args []string) []string {
	var w []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		w = append(w, a)
	}
	return w
}

// Subcommands lists the registered commands directly below path, sorted.
func Subcommands(path string) []*Command {
	var out []*Command
	depth := 0
	if path != "" {
		depth = len(strings.Fields(path))
	}
	for p, c := range commands {
		words := strings.Fields(p)
		if c.Hidden || len(words) != depth+1 {
			continue
		}
		if path != "" && strings.Join(words[:depth], " ") != path {
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// children lists what is directly below path for help output: registered
// commands plus implicit groups (a first word shared by registered commands
// that has no command of its own), sorted.
func children(path string) []*Command {
	byPath := map[string]*Command{}
	for _, c := range Subcommands(path) {
		byPath[c.Path] = c
	}
	depth := len(strings.Fields(path))
	for p, c := range commands {
		words := strings.Fields(p)
		if c.Hidden || len(words) <= depth+1 {
			continue
		}
		if path != "" && strings.Join(words[:depth], " ") != path {
			continue
		}
		g := strings.Join(words[:depth+1], " ")
		if _, ok := byPath[g]; !ok && commands[g] == nil {
			summary := "(" + strings.Join(childNames(g), ", ") + ")"
			if gs := groupSummaries[g]; gs != "" {
				summary = gs + " " + summary
			}
			byPath[g] = &Command{Path: g, Summary: summary}
		}
	}
	out := make([]*Command, 0, len(byPath))
	for _, c := range byPath {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func childNames(group string) []string {
	seen := map[string]bool{}
	depth := len(strings.Fields(group))
	for p, c := range commands {
		if c.Hidden || !strings.HasPrefix(p, group+" ") {
			continue
		}
		seen[strings.Fields(p)[depth]] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printRootHelp(w io.Writer) {
	fmt.Fprintf(w, "clawdbot %s: run, supervise and diagnose the Clawdbot gateway\n\n", Version)
	fmt.Fprintln(w, "Usage: clawdbot [--dev | --profile NAME] <command> [flags]")
	fmt.Fprintln(w, "\nGlobal flags (before the command):")
	fmt.Fprintln(w, "  --dev            use the dev profile (~/.clawdbot-dev, port 19001)")
	fmt.Fprintln(w, "  --profile NAME   use profile NAME (~/.clawdbot-NAME)")
	fmt.Fprintln(w, "  --no-color       plain output")
	fmt.Fprintln(w, "  -h, --help       show this help")
	fmt.Fprintln(w, "  -V, --version    print the version")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range children("") {
		fmt.Fprintf(w, "  %-12s %s\n", c.Path, c.Summary)
	}
	fmt.Fprintln(w, "\nRun 'clawdbot <command> --help' for a command's flags.")
}

func printGroupHelp(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: clawdbot %s <command> [flags]\n\nCommands:\n", group)
	for _, c := range children(group) {
		fmt.Fprintf(w, "  %-24s %s\n", c.Path, c.Summary)
	}
}

// FlagSet makes a pflag set for the command at path that reports errors
// instead of exiting and prints usage, with subcommands, to env.Stderr.
func (e *Env) FlagSet(path, usage string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("clawdbot "+path, pflag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		w := e.Stdout
		fmt.Fprintf(w, "Usage: clawdbot %s\n", usage)
		if c := commands[path]; c != nil && c.Summary != "" {
			fmt.Fprintf(w, "\n%s\n", c.Summary)
		}
		if subs := children(path); len(subs) > 0 {
			fmt.Fprintln(w, "\nSubcommands:")
			for _, s := range subs {
				fmt.Fprintf(w, "  %-24s %s\n", s.Path, s.Summary)
			}
		}
		if fs.HasFlags() {
			fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
		}
	}
	return fs
}

// Parse parses args into fs. It returns (code, false) when the command must
// stop: ExitOK after --help, ExitUsage (with a one-line message) on a bad
// flag. maxArgs bounds the positional arguments (-1: any).
func (e *Env) Parse(fs *pflag.FlagSet, args []string, maxArgs int) (int, bool) {
	fs.SetOutput(io.Discard) // we print our own one-line error
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) { // pflag has already printed fs.Usage
			return ExitOK, false
		}
		fmt.Fprintf(e.Stderr, "clawdbot %s: %v (see --help)\n", strings.TrimPrefix(fs.Name(), "clawdbot "), err)
		return ExitUsage, false
	}
	if maxArgs >= 0 && fs.NArg() > maxArgs {
		fmt.Fprintf(e.Stderr, "clawdbot %s: unexpected argument %q (see --help)\n", strings.TrimPrefix(fs.Name(), "clawdbot "), fs.Arg(maxArgs))
		return ExitUsage, false
	}
	return 0, true
}

// SignalContext returns a context cancelled on SIGINT or SIGTERM, for
// commands that run until interrupted (logs --follow, ...).
func (e *Env) SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(e.Context, os.Interrupt, syscall.SIGTERM)
}
