package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/profiles"
)

// GatewayRun is everything `clawdbot gateway` resolved before serving; the
// lifecycle uses it to rebuild the runtime on restart.
type GatewayRun struct {
	Profile  profiles.Profile
	BindHost string
	Flags    GatewayFlags
	Logger   *slog.Logger
	// Lock is the single-instance lock, taken before the port is bound;
	// the lifecycle releases it when the gateway stops.
	Lock *ports.Lock
	// logs re-applies logging.* when the config changes.
	logs *gatewayLog
	// banner is the first screen, printed once the gateway listens.
	banner *gatewayBanner
	// env keeps env.vars applied across reloads (nil without Setenv).
	env *profiles.ConfigEnv
}

// GatewayFlags are the command-line overrides of `clawdbot gateway`.
type GatewayFlags struct {
	Port              int
	Bind              string
	Token             string
	Password          string
	Auth              string
	AllowUnconfigured bool
	Verbose           bool
	Force             bool
}

func init() {
	Register(&Command{Path: "gateway", Summary: "run the gateway in the foreground (and manage its service: see subcommands)", Run: runGateway, Exits: gatewayExits})
	Register(&Command{Path: "gateway run", Summary: "run the gateway in the foreground", Run: runGatewayRun, Exits: gatewayExits})
}

var gatewayExits = []ExitCode{
	{ExitOK, "stopped cleanly"},
	{ExitFailure, "runtime failure (port in use, another gateway on this config, ...)"},
	{Code: ExitUsage},
	{ExitConfig, "fatal misconfiguration (no or invalid config, gateway.mode not local, unsafe bind, auth mode without its token or password); services do not restart on it (RestartPreventExitStatus=78)"},
}

func runGateway(env *Env, args []string) int { return gatewayMain(env, "gateway", args) }

func runGatewayRun(env *Env, args []string) int { return gatewayMain(env, "gateway run", args) }

func gatewayMain(env *Env, path string, args []string) int {
	var f GatewayFlags
	fs := env.FlagSet(path, path+` [flags]

Signals:
  SIGTERM, SIGINT  stop gracefully: clients get a shutdown event and close 1012
                   (5 s at most); a second SIGINT exits at once
  SIGUSR1          restart in process, keeping the port open, when
                   commands.restart is true (otherwise logged and ignored)
  config edits     applied live or by an in-process restart (gateway.reload.mode)`)
	fs.IntVar(&f.Port, "port", 0, "port for WebSocket + HTTP (default: profile port: 18789, dev 19001)")
	fs.StringVar(&f.Bind, "bind", "", "bind mode: loopback | lan | tailnet | auto | <host> (default: gateway.bind or loopback)")
	fs.StringVar(&f.Token, "token", "", "shared token clients must send (overrides gateway.auth.token)")
	fs.StringVar(&f.Password, "password", "", "shared password clients must send (overrides gateway.auth.password)")
	fs.StringVar(&f.Auth, "auth", "", "auth mode: token | password (default: from config or what is set)")
	fs.BoolVar(&f.AllowUnconfigured, "allow-unconfigured", false, "start without a config file or without gateway.mode=local")
	fs.BoolVar(&f.Verbose, "verbose", false, "log debug lines to stdout too")
	fs.BoolVar(&f.Force, "force", false, "terminate every process listening on the port (any program; SIGTERM, then SIGKILL)\n"+
		"and this profile's running gateway, print what was terminated, then start;\n"+
		"refuses a gateway run by launchd/systemd (stop it with 'clawdbot gateway stop')")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	if code, ok := env.PortFlag(fs, "port", f.Port); !ok {
		return code
	}
	if f.Auth != "" && f.Auth != gateway.AuthToken && f.Auth != gateway.AuthPassword {
		return env.Usagef(path, "%s: invalid --auth %q (use token or password)", path, f.Auth)
	}
	prof, err := env.ResolveProfile(f.Port)
	if err != nil {
		return configError(env, err.Error())
	}
	// Temp files of interrupted atomic writes (a kill -9 mid-save) may hold
	// the token: remove ours before anything reads the config.
	swept := sweepStaleTemp(prof)
	snap, err := profiles.LoadEnv(prof.ConfigPath, env.Getenv)
	if err != nil {
		return configError(env, err.Error())
	}
	chk := gatewayStartCheck(env, prof, f)
	chk.Snapshot = snap
	if err := profiles.CheckStartable(snap.Config, chk); err != nil {
		return configError(env, err.Error())
	}
	cfg := snap.Config
	if cfg == nil {
		cfg = &profiles.Config{}
	}
	// env.vars and env string entries, for this process and what it runs;
	// variables already set win, and reloads keep them in step
	// (profiles.ConfigEnv).
	var cfgEnv *profiles.ConfigEnv
	if env.Setenv != nil {
		cfgEnv = profiles.NewConfigEnv(env.Getenv, env.Setenv, env.Unsetenv)
		if _, _, err := cfgEnv.Apply(cfg); err != nil {
			fmt.Fprintf(env.Stderr, "clawdbot gateway: warning: config env not fully applied: %v\n", err)
		}
	}
	rc, bindHost, err := GatewayRuntime(env, prof, cfg, f)
	if err != nil {
		return configError(env, err.Error())
	}

	logs, err := newGatewayLog(env, prof, cfg, f.Verbose)
	if err != nil {
		return configError(env, err.Error())
	}
	defer logs.close()
	startLog := filelog.Subsystem(logs.logger, "gateway")
	for _, p := range swept {
		startLog.Info("removed a temp file left by an interrupted write: " + p)
	}
	// Unknown keys are ignored, not fatal: say so once per key, with the
	// same did-you-mean as 'clawdbot config validate'.
	for _, is := range snap.UnknownKeys() {
		startLog.Warn("config: " + is.String())
	}
	stopCap := make(chan struct{})
	defer close(stopCap)
	capStdioFiles([]io.Writer{env.Stdout, env.Stderr}, stdioCapBytes, stdioCapEvery, filepath.Dir(logs.file.PathFor(time.Now())), stopCap)

	// The single-instance lock comes before the port: a second gateway for
	// this config must fail naming the running one, not bind another port
	// first. --force terminates that one and the port's listeners, then
	// takes the lock.
	addr := net.JoinHostPort(bindHost, strconv.Itoa(prof.Ports.Gateway))
	var lock *ports.Lock
	if f.Force {
		lock, err = forceTakeover(env, prof.ConfigPath, addr)
	} else {
		lock, err = ports.AcquireLock(prof.ConfigPath, env.Getenv)
	}
	if err != nil {
		return env.Errorf("%v", err)
	}
	defer lock.Release()
	srv, err := gateway.New(gateway.Options{
		Addr: addr, StateDir: prof.StateDir, ConfigPath: prof.ConfigPath, Workspace: prof.WorkspaceFor(nil),
		Version: Version, Commit: Commit, Logger: logs.logger, Runtime: rc,
		// logs.tail reads the file the gateway writes, logging.file
		// included, and follows it when a reload moves it.
		LogFile: func() string { return logs.file.PathFor(time.Now()) },
	})
	if err != nil {
		if errors.Is(err, profiles.ErrNotStartable) {
			return configError(env, err.Error())
		}
		if ports.IsAddrInUse(err) {
			return env.Errorf("%s", describePortHeld(prof.Ports.Gateway))
		}
		return env.Errorf("%v", err)
	}
	banner := newGatewayBanner(env, prof, cfg, f, rc.Auth, bindHost)
	run := GatewayRun{Profile: prof, BindHost: bindHost, Flags: f, Logger: logs.logger, Lock: lock, logs: logs, banner: &banner, env: cfgEnv}
	return serveGateway(env, srv, run)
}

// gatewayStartCheck is the context of profiles.CheckStartable for this
// command line: the flags the gateway applies on top of the config.
func gatewayStartCheck(env *Env, prof profiles.Profile, f GatewayFlags) profiles.StartCheck {
	return profiles.StartCheck{
		AllowUnconfigured: f.AllowUnconfigured, Getenv: env.Getenv,
		AuthMode: f.Auth, Token: f.Token, Password: f.Password, Bind: f.Bind,
		Port: prof.Ports.Gateway, Profile: env.ProfileName(),
	}
}

// GatewayRuntime resolves the config-derived runtime (auth, proxies) and
// the bind host, refusing what profiles.CheckStartable refuses (doc/protocol.md
// §10.3). A restart calls it with the new config.
func GatewayRuntime(env *Env, prof profiles.Profile, cfg *profiles.Config, f GatewayFlags) (gateway.RuntimeConfig, string, error) {
	chk := gatewayStartCheck(env, prof, f)
	if err := profiles.CheckStartable(cfg, chk); err != nil {
		return gateway.RuntimeConfig{}, "", err
	}
	// Config and environment resolve as for every client (profiles), so the
	// gateway and the CLI agree on the secret; flags apply on top.
	ra := chk.ResolveAuth(cfg)
	auth := gateway.Auth{Mode: ra.Mode, Token: ra.Token, Password: ra.Password}
	host, err := chk.ResolveHost(cfg)
	if err != nil {
		return gateway.RuntimeConfig{}, "", err
	}
	rc := gateway.RuntimeConfig{
		Config: cfg, Auth: auth, TrustedProxies: cfg.Gateway.TrustedProxies,
		AllowInsecureControlUI: cfg.Gateway.ControlUI.AllowInsecureAuth,
	}
	return rc, host, nil
}

// gatewayLog is the gateway's logger: JSON lines to <state>/logs (or
// logging.file) and human lines to stdout. logging.level and logging.file
// are read dynamically in the original, so apply changes them in place when
// the config changes: the file handler's level is a LevelVar and the file
// handler can be re-pointed. The console stays at info (debug with
// --verbose) whatever logging.level says, as the original's console level is
// a separate setting.
type gatewayLog struct {
	logger  *slog.Logger
	file    *filelog.Handler
	level   *slog.LevelVar // the file handler's level
	verbose bool
	log     *slog.Logger // subsystem "gateway/reload", for what apply changed

	mu  sync.Mutex
	cur profiles.LoggingConfig // what was applied last
}

func newGatewayLog(env *Env, prof profiles.Profile, cfg *profiles.Config, verbose bool) (*gatewayLog, error) {
	g := &gatewayLog{level: new(slog.LevelVar), verbose: verbose, cur: cfg.Logging}
	g.level.Set(g.fileLevel(cfg.Logging.Level))
	file, err := filelog.New(filelog.Options{Dir: prof.LogDir(), File: cfg.Logging.File, Level: g.level})
	if err != nil {
		return nil, fmt.Errorf("open gateway log: %w (check permissions on %s)", err, prof.StateDir)
	}
	consoleLevel := slog.LevelInfo
	if verbose {
		consoleLevel = slog.LevelDebug
	}
	g.file = file
	g.logger = slog.New(slog.NewMultiHandler(file, filelog.NewText(env.Stdout, consoleLevel)))
	g.log = filelog.Subsystem(g.logger, "gateway/reload")
	return g, nil
}

// fileLevel maps logging.level onto the file handler's level; --verbose
// keeps the file at debug too.
func (g *gatewayLog) fileLevel(s string) slog.Level {
	if g.verbose {
		return slog.LevelDebug
	}
	return logLevel(s)
}

// logLevel maps the original's level names (silent, fatal, error, warn,
// info, debug, trace) onto slog levels; unset and unknown mean info.
func logLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug", "trace":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	case "fatal":
		return slog.LevelError + 4 // we log nothing at fatal: only fatal lines would pass
	case "silent":
		return slog.LevelError + 8
	}
	return slog.LevelInfo
}

// apply is gateway.LifecycleOptions.Dynamic: it makes a changed
// logging.level and logging.file take effect without a restart.
func (g *gatewayLog) apply(cfg *profiles.Config) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	next := cfg.Logging
	if next.Level != g.cur.Level {
		g.level.Set(g.fileLevel(next.Level))
		g.cur.Level = next.Level
		name := strings.ToLower(strings.TrimSpace(next.Level))
		if name == "" {
			name = "info"
		}
		msg := "logging.level is now " + name
		if g.verbose {
			msg += " (the file log stays at debug: --verbose)"
		}
		g.log.Info(msg)
	}
	if next.File != g.cur.File {
		if err := g.file.SetFile(next.File); err != nil {
			return fmt.Errorf("logging.file %q: %w (still logging to %s)", next.File, err, g.file.Path())
		}
		g.cur.File = next.File
		g.log.Info("log file is now " + g.file.Path())
	}
	return nil
}

func (g *gatewayLog) close() { _ = g.file.Close() }

// sweepStaleTemp removes the temp files interrupted atomic writes left in
// the config's directory and the state dir (identity, devices, sessions
// below it), and returns what it removed. Failures are not fatal: the
// sweep only tidies.
func sweepStaleTemp(prof profiles.Profile) []string {
	var out []string
	cfgDir := filepath.Dir(prof.ConfigPath)
	if prof.StateDir != "" {
		removed, _ := profiles.SweepTemp(prof.StateDir, 3)
		out = append(out, removed...)
	}
	if rel, err := filepath.Rel(prof.StateDir, cfgDir); prof.StateDir == "" || err != nil || rel != "." {
		removed, _ := profiles.SweepTemp(cfgDir, 0)
		out = append(out, removed...)
	}
	return out
}

// configError reports a configuration the gateway cannot start with: exit
// 78, which services do not restart on.
func configError(env *Env, msg string) int {
	return env.Fail(ExitConfig, CodeConfig, msg, "")
}
