// Package cli implements the clawdbot command tree on spf13/pflag. Each
// command group lives in its own file and registers its commands from init
// with Register, so adding a command never touches a central table.
//
// Commands write only to the injected Env streams and return an exit code
// from one table (ExitCodes), which every --help screen shows. Problems are
// printed through Env.Fail, Env.Warnf and Env.Hintf only: one set of
// prefixes in text mode ("error: ", "warning: ", "hint: ") and one JSON
// error shape under --json. Nothing here calls os.Exit, so every command is
// testable in-process.
package cli

import (
	"context"
	"encoding/json"
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

// Exit codes shared by all commands; ExitCodes is their documentation.
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2
	ExitMismatch = 3  // gateway status: the CLI and the service disagree
	ExitConfig   = 78 // EX_CONFIG: fatal misconfiguration; supervisors must not respawn
)

// ExitCode is one row of the exit-code table.
type ExitCode struct {
	Code    int
	Meaning string
}

// exitCodes is the one exit-code table of the CLI, shown by the root help,
// the README and (the rows a command can return) every command's --help.
var exitCodes = []ExitCode{
	{ExitOK, "ok"},
	{ExitFailure, "runtime failure"},
	{ExitUsage, "usage error (bad flag, argument or value)"},
	{ExitMismatch, "gateway status: the CLI and the service disagree (config file or port)"},
	{ExitConfig, "fatal misconfiguration of the gateway; services do not restart on it (RestartPreventExitStatus=78)"},
}

// ExitCodes returns a copy of the exit-code table.
func ExitCodes() []ExitCode { return append([]ExitCode(nil), exitCodes...) }

// defaultExits are the codes of a command that declares none.
var defaultExits = []ExitCode{{Code: ExitOK}, {Code: ExitFailure}, {Code: ExitUsage}}

// exitMeaning is the table's meaning of code ("" if it is not in the table).
func exitMeaning(code int) string {
	for _, e := range exitCodes {
		if e.Code == code {
			return e.Meaning
		}
	}
	return ""
}

// writeExitCodes prints an "Exit codes:" section; a row without a meaning
// takes the table's.
func writeExitCodes(w io.Writer, rows []ExitCode) {
	fmt.Fprintln(w, "\nExit codes:")
	for _, r := range rows {
		m := r.Meaning
		if m == "" {
			m = exitMeaning(r.Code)
		}
		fmt.Fprintf(w, "  %-3d %s\n", r.Code, wrap(m, 72, "\n      "))
	}
}

// wrap breaks s at spaces into lines of at most width bytes, joined by sep.
func wrap(s string, width int, sep string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(word) > width:
			b.WriteString(sep)
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// Message prefixes: every problem the CLI reports in text mode starts with
// one of these, printed by Fail, Warnf and Hintf (and nowhere else).
const (
	prefixError   = "error: "
	prefixWarning = "warning: "
	prefixHint    = "hint: "
)

// Error codes of the JSON error shape that are not the gateway's own wire
// codes (a method error carries the gateway's code, e.g. INVALID_REQUEST).
const (
	CodeUsage       = "usage"
	CodeFailed      = "failed"
	CodeConfig      = "config"
	CodeUnreachable = "gateway-unreachable"
	CodeRefused     = "gateway-refused"
	CodeClosed      = "gateway-closed"
	CodeTimeout     = "timeout"
	CodeBadResponse = "bad-response"
)

// jsonError is the one error shape under --json:
// {"ok":false,"error":{"code","message","fix"}}. Type is set only by logs,
// whose --json output is a stream of records that readers tell apart by
// "type" (the original's logs writes {"type":"error",...}).
type jsonError struct {
	Type  string          `json:"type,omitempty"`
	OK    bool            `json:"ok"`
	Error jsonErrorDetail `json:"error"`
}

type jsonErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

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
	// Setenv changes the process environment (os.Setenv in the real
	// process; nil in tests, where nothing is exported). The gateway uses
	// it for the config's env.vars.
	Setenv func(key, value string) error
	// Unsetenv removes a variable (os.Unsetenv in the real process): a
	// reload unsets the env.vars entries the gateway set and the config
	// dropped. nil: they are set to "" instead.
	Unsetenv func(key string) error
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

	// json is set by Parse when the command runs with --json: Fail then
	// prints the JSON error shape on stdout instead of text on stderr.
	json bool
	// errType is the "type" field of a JSON error (logs only).
	errType string
}

// ProcessEnv is the Env of the real process.
func ProcessEnv() *Env {
	home, _ := os.UserHomeDir()
	exe, _ := os.Executable()
	return &Env{
		Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin,
		Getenv: os.Getenv, Environ: os.Environ, Setenv: os.Setenv, Unsetenv: os.Unsetenv, Home: home, Executable: exe,
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
// (doc/supervision.md §1.7). Use it for every command a message tells the user
// to run.
func (e *Env) Hint(cmd string) string { return FormatHint(e.ProfileName(), cmd) }

// FormatHint inserts "--profile <name>" (or "--dev") after "clawdbot" in cmd
// for a named profile; see profiles.FormatHint.
func FormatHint(profile, cmd string) string { return profiles.FormatHint(profile, cmd) }

// Errorf reports a runtime failure (see Fail) and returns ExitFailure.
func (e *Env) Errorf(format string, args ...any) int {
	return e.Fail(ExitFailure, CodeFailed, fmt.Sprintf(format, args...), "")
}

// Fail reports a problem and returns exit. Under --json it prints
// {"ok":false,"error":{"code","message","fix"}} on stdout (the one error
// shape of every --json command); otherwise "error: <message>" on stderr
// and, when there is a fix, "hint: <fix>" below it. code is one of the
// Code* constants or the gateway's wire error code.
func (e *Env) Fail(exit int, code, message, fix string) int {
	return e.failDetail(exit, code, message, fix, nil)
}

// failDetail is Fail with detail lines printed between the error and the
// hint in text mode; under --json they are appended to the message.
func (e *Env) failDetail(exit int, code, message, fix string, detail []string) int {
	if e.json {
		if len(detail) > 0 {
			message += " (" + strings.Join(detail, "; ") + ")"
		}
		b, _ := json.Marshal(jsonError{Type: e.errType, Error: jsonErrorDetail{Code: code, Message: message, Fix: fix}})
		fmt.Fprintf(e.Stdout, "%s\n", b)
		return exit
	}
	fmt.Fprintf(e.Stderr, "%s%s\n", prefixError, message)
	for _, d := range detail {
		fmt.Fprintf(e.Stderr, "  %s\n", d)
	}
	if fix != "" {
		e.Hintf("%s", fix)
	}
	return exit
}

// Usagef reports a usage error (exit 2) naming the command's help.
func (e *Env) Usagef(path, format string, args ...any) int {
	help := "clawdbot --help"
	if path != "" {
		help = "clawdbot " + path + " --help"
	}
	return e.Fail(ExitUsage, CodeUsage, fmt.Sprintf(format, args...), "see '"+e.Hint(help)+"'")
}

// Warnf prints "warning: ..." on stderr (never on stdout: it must not
// break a --json reader).
func (e *Env) Warnf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, prefixWarning+format+"\n", args...)
}

// Hintf prints "hint: ..." on stderr.
func (e *Env) Hintf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, prefixHint+format+"\n", args...)
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
	// Exits are the exit codes the command can return, listed by its
	// --help; a row without a meaning takes the table's. Unset: 0, 1, 2.
	Exits []ExitCode
}

// exits is the command's exit-code rows for its help.
func (c *Command) exits() []ExitCode {
	if len(c.Exits) == 0 {
		return defaultExits
	}
	return c.Exits
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
	env.json, env.errType = false, ""
	defer func() {
		if r := recover(); r != nil {
			code = env.Fail(ExitFailure, CodeFailed, fmt.Sprintf("internal error: %v (please report it)", r), "")
			fmt.Fprintf(env.Stderr, "%s", debug.Stack())
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
		return env.Usagef(group, "unknown command %q", strings.Join(words, " "))
	}
	return env.Usagef("", "unknown command %q", strings.Join(words, " "))
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
	return env.Usagef("", "unknown command %q", strings.Join(words, " "))
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
// --version before the first positional word (doc/supervision.md §1.1); flags
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

// usageError reports a bad global flag; the profile flags themselves may
// be what is wrong, so the hint carries none.
func usageError(env *Env, msg string) int {
	return env.Fail(ExitUsage, CodeUsage, msg, "see 'clawdbot --help'")
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
	writeExitCodes(w, exitCodes)
	fmt.Fprintln(w, "\nRun 'clawdbot <command> --help' for a command's flags and exit codes.")
}

func printGroupHelp(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: clawdbot %s <command> [flags]\n\nCommands:\n", group)
	for _, c := range children(group) {
		fmt.Fprintf(w, "  %-24s %s\n", c.Path, c.Summary)
	}
	// The group word alone only prints this help (0) or rejects an unknown
	// subcommand (2); the subcommands list their own codes.
	writeExitCodes(w, []ExitCode{{Code: ExitOK, Meaning: "help printed"}, {Code: ExitUsage, Meaning: "unknown subcommand"}})
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
		rows := defaultExits
		if c := commands[path]; c != nil {
			rows = c.exits()
		}
		writeExitCodes(w, rows)
	}
	return fs
}

// Parse parses args into fs. It returns (code, false) when the command must
// stop: ExitOK after --help, ExitUsage (with a one-line message) on a bad
// flag. maxArgs bounds the positional arguments (-1: any).
//
// A command with a --json flag that is given runs in JSON mode from here
// on: every Fail, usage errors included, prints the JSON error shape.
func (e *Env) Parse(fs *pflag.FlagSet, args []string, maxArgs int) (int, bool) {
	fs.SetOutput(io.Discard) // we print our own one-line error
	path := strings.TrimPrefix(fs.Name(), "clawdbot ")
	err := fs.Parse(args)
	if jf := fs.Lookup("json"); jf != nil {
		// After a parse error the flag may not have been reached: look
		// at the words themselves.
		e.json = jf.Value.String() == "true" || (err != nil && wantsJSON(args))
	}
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) { // pflag has already printed fs.Usage
			return ExitOK, false
		}
		return e.Usagef(path, "%s: %v", path, err), false
	}
	if maxArgs >= 0 && fs.NArg() > maxArgs {
		return e.Usagef(path, "%s: unexpected argument %q", path, fs.Arg(maxArgs)), false
	}
	return 0, true
}

// wantsJSON reports whether args ask for --json (before a "--").
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true", "--json=1":
			return true
		}
	}
	return false
}

// PortFlag checks a --port value: given, it must be 1-65535 (0 is not "any
// free port": the port is how clients find the gateway, so it must be
// known). Not given, it is 0 and the profile's port applies. It returns
// (code, false) after a usage error.
func (e *Env) PortFlag(fs *pflag.FlagSet, name string, port int) (int, bool) {
	if !fs.Changed(name) || (port >= 1 && port <= 65535) {
		return 0, true
	}
	path := strings.TrimPrefix(fs.Name(), "clawdbot ")
	return e.Usagef(path, "%s: invalid --%s %d (use 1-65535, or leave it out for the profile's port)", path, name, port), false
}

// SignalContext returns a context cancelled on SIGINT or SIGTERM, for
// commands that run until interrupted (logs --follow, ...).
func (e *Env) SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(e.Context, os.Interrupt, syscall.SIGTERM)
}
