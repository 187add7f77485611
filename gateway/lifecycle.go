package gateway

// The process lifecycle around a Server: signals, in-process restart
// with its authorization (lifecycle_restart.go), config hot reload
// (lifecycle_reload.go), supervisor readiness, the canvas host
// (lifecycle_canvas.go), the restart sentinel (sentinel.go) and the
// single-instance lock. Modelled on caddy's
// sigtrap/Load: a restart builds the new runtime first and swaps it in while
// the listener stays open, so no client ever sees "connection refused"; a
// runtime that fails to build leaves the old one serving.
//
// Signals (Unix):
//   - SIGTERM, SIGINT: graceful stop (shutdown event "gateway stopping",
//     close 1012, in-flight requests get up to 5 s), exit 0. A second
//     SIGINT exits at once; past 5 s the stop is abandoned ("shutdown timed
//     out; exiting without full cleanup"), exit 0 as in the original.
//   - SIGUSR1: in-process restart, only when authorized (commands.restart, or
//     an internal authorization from config.apply/patch or the reloader).
//   - SIGPIPE: ignored, so a vanished journald/terminal cannot kill us.
//   - SIGHUP keeps its default (terminate), as for any foreground program.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/notify"
	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/gateway/reload"
	"github.com/clawdbot/clawdbot/profiles"
)

// Lifecycle timing (doc/protocol.md §9.3).
const (
	// ShutdownTimeout bounds a graceful stop.
	ShutdownTimeout = 5 * time.Second
	// DefaultRestartDelay is the delay of a scheduled restart when none is given.
	DefaultRestartDelay = 2000 * time.Millisecond
	// MaxRestartDelay clamps scheduled restart delays.
	MaxRestartDelay = 60 * time.Second
	// restartGrace is how long an internal authorization outlives its delay.
	restartGrace = 5 * time.Second
)

// SIGUSR1IgnoredMessage is logged for an unauthorized SIGUSR1.
const SIGUSR1IgnoredMessage = "SIGUSR1 restart ignored (not authorized; enable commands.restart or use gateway tool)"

// ErrForcedExit is returned by Run when a second SIGINT cut a graceful stop short.
var ErrForcedExit = errors.New("gateway: forced exit on second interrupt")

// LifecycleOptions configure Server.Run.
type LifecycleOptions struct {
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
	// Home and Workspace resolve canvasHost.root (default <workspace>/canvas).
	Home, Workspace string
	// Initial is the config snapshot the server was started from (nil when
	// running unconfigured); reload diffs start from it.
	Initial *profiles.Snapshot
	// Runtime rebuilds the runtime and the listen address from a freshly
	// loaded config (the CLI applies its flags here). Required.
	Runtime func(cfg *profiles.Config) (rc RuntimeConfig, addr string, err error)
	// HotApply runs the hot actions of a reload plan (reload.Kind* values).
	// nil: hot changes are only logged (the subsystems they restart come in
	// later issues).
	HotApply func(kinds []string, cfg *profiles.Config) error
	// Dynamic applies the settings the original reads dynamically instead
	// of through the reload plan: the CLI sets logging.level and
	// logging.file with it. It runs with every config Run loads
	// successfully: each change the watcher reports, whatever
	// gateway.reload.mode says (the original re-reads these from disk, so
	// the mode does not gate them), and each in-process restart. An error
	// is logged and the rest of the reload goes on. nil: nothing is
	// applied dynamically.
	Dynamic func(cfg *profiles.Config) error
	// Env keeps the process environment in step with the config's env
	// section: the caller applies it to the initial config before New,
	// Run applies it to every config it loads later (reload, restart).
	// nil: env.vars is not applied after start.
	Env *profiles.ConfigEnv
	// Signals replaces the process signal source (tests). nil: the real
	// signals via signal.Notify.
	Signals <-chan os.Signal
	// Lock is the single-instance lock when the caller took it before
	// binding the port, as the CLI does: a second gateway for the same
	// config then fails on the lock (naming the running pid) whatever port
	// it asked for, and never binds or --force-frees a port first. Run
	// releases it when it returns. nil: Run takes the lock itself.
	Lock *ports.Lock
	// Listening runs once, right after the "gateway listening" line: the
	// CLI prints its first screen (auth, how to talk to it, how to stop)
	// there. nil: nothing.
	Listening func(addr net.Addr)
}

// lifecycle is the state of one Run.
type lifecycle struct {
	s         *Server
	lo        LifecycleOptions
	log       *slog.Logger // subsystem "gateway": start, signals, restarts, stop
	reloadLog *slog.Logger // subsystem "gateway/reload": the config watcher
	canvasLog *slog.Logger // subsystem "gateway/canvas"
	lock      *ports.Lock

	mu             sync.Mutex
	parsed         map[string]any // baseline of the next config diff
	cfg            *profiles.Config
	commandRestart bool
	auths          []time.Time // internal restart authorizations, by expiry
	restartQueued  bool
	// refused is the message of the refusal last reported (lifecycle_refuse.go), "" when
	// the current file was accepted.
	refused string

	// canvasCfg is the canvasHost config of the serving runtime's canvas
	// host; a restart builds a new host only when it changed.
	canvasCfg profiles.CanvasHostConfig

	internal chan string // in-process "SIGUSR1" emissions, with a reason
	restarts atomic.Int64
	// watcher is set once the config watcher runs; its callback may fire
	// before Run stores it, hence the atomic.
	watcher atomic.Pointer[reload.Watcher]
}

// Run serves s until SIGTERM/SIGINT (or ctx ends), handling SIGUSR1
// restarts, config reloads, readiness notifications, the canvas host and the
// single-instance lock (taken here unless LifecycleOptions.Lock holds it
// already). It returns nil after a graceful stop.
func (s *Server) Run(ctx context.Context, lo LifecycleOptions) error {
	if lo.Runtime == nil {
		return errors.New("gateway.Run: LifecycleOptions.Runtime is required")
	}
	if lo.Getenv == nil {
		lo.Getenv = os.Getenv
	}
	l := &lifecycle{s: s, lo: lo, log: s.log, internal: make(chan string, 1),
		reloadLog: filelog.Subsystem(s.opts.Logger, "gateway/reload"),
		canvasLog: filelog.Subsystem(s.opts.Logger, "gateway/canvas")}
	if lo.Initial != nil {
		l.parsed = lo.Initial.Parsed
		l.cfg = lo.Initial.Config
		// The caller logged them at start; health and status show them.
		s.f.system.SetConfigWarnings(configWarnings(lo.Initial))
	}
	if l.cfg == nil {
		l.cfg = &profiles.Config{}
	}
	l.commandRestart = l.cfg.Commands.Restart

	lock := lo.Lock
	if lock == nil {
		var err error
		lock, err = ports.AcquireLock(s.opts.ConfigPath, lo.Getenv)
		if err != nil {
			closeAll(s.lns)
			return err
		}
	}
	l.lock = lock
	defer lock.Release()

	// Wiring that must be in place before the first request: the server
	// has not started serving yet, so plain field writes are safe here.
	s.canvasPaths = true
	s.opts.ScheduleRestart = l.scheduleRestart
	rt := s.rt.Load()
	l.canvasCfg = l.cfg.CanvasHost
	rt.canvas = l.buildCanvas(l.cfg)
	rt.startMounts(nil)
	// Shutdown stops the mounts; this covers a Run that ends without one
	// (the listener failed, a forced exit).
	defer func() { s.rt.Load().stopMounts(nil) }()

	// The watcher starts before the gateway serves (and says so), so an
	// edit made as soon as it listens is never missed.
	if s.opts.ConfigPath != "" {
		w, err := reload.Watch(s.opts.ConfigPath, reload.WatchOptions{
			Debounce: time.Duration(l.cfg.Gateway.Reload.DebounceMs) * time.Millisecond,
			OnChange: l.onConfigChange,
			OnError:  func(err error) { l.reloadLog.Warn("config watcher", "err", err) },
		})
		if err != nil {
			l.reloadLog.Warn("config reload disabled", "err", err)
		} else {
			l.watcher.Store(w)
			defer w.Close()
		}
	}

	sigs := lo.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, handledSignals...)
		defer signal.Stop(ch)
		ignoreSignals()
		sigs = ch
	}

	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	l.log.Info(fmt.Sprintf("gateway listening on ws://%s", s.Addr()))
	for _, ln := range s.lns[1:] {
		l.log.Info(fmt.Sprintf("gateway also listening on ws://%s", ln.Addr()))
	}
	s.f.system.Prime()
	s.startCron()
	s.startChannels()
	if lo.Listening != nil {
		lo.Listening(s.Addr())
	}
	l.consumeSentinel()
	l.notifyReady()

	for {
		select {
		case err := <-errc:
			if err != nil {
				return fmt.Errorf("gateway: %w", err)
			}
			return nil
		case <-ctx.Done():
			return l.stop(sigs, errc)
		case sig := <-sigs:
			switch {
			case isRestartSignal(sig):
				if !l.authorize() {
					l.log.Warn(SIGUSR1IgnoredMessage)
					continue
				}
				l.restart(ctx, "SIGUSR1")
			default: // SIGTERM, SIGINT
				l.log.Info("signal received: " + sig.String())
				return l.stop(sigs, errc)
			}
		case reason := <-l.internal:
			if !l.authorize() {
				l.log.Warn(SIGUSR1IgnoredMessage)
				continue
			}
			l.restart(ctx, reason)
		}
	}
}

func (l *lifecycle) notifyReady() {
	if err := notify.Ready(); err != nil {
		l.log.Warn("supervisor notification failed", "err", err)
	}
	_ = notify.Status("serving on ws://" + l.s.Addr().String())
}

// stop shuts down gracefully within ShutdownTimeout; a second interrupt
// returns ErrForcedExit at once.
func (l *lifecycle) stop(sigs <-chan os.Signal, errc <-chan error) error {
	l.log.Info("gateway stopping")
	_ = notify.Stopping()
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.s.Shutdown(ctx) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				l.log.Warn("gateway shutdown", "err", err)
			}
			select {
			case <-errc:
			case <-time.After(time.Second):
			}
			return nil
		case sig := <-sigs:
			if sig == os.Interrupt {
				l.log.Warn("second interrupt: exiting without full cleanup")
				return ErrForcedExit
			}
		case <-time.After(ShutdownTimeout + 500*time.Millisecond):
			l.log.Warn("shutdown timed out; exiting without full cleanup")
			return nil
		}
	}
}
