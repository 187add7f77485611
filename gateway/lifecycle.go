package gateway

// The process lifecycle around a Server (issue #4): signals, in-process
// restart with its authorization, config hot reload, supervisor readiness,
// the canvas host and the single-instance lock. Modelled on caddy's
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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawdbot/clawdbot/gateway/canvas"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/notify"
	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/gateway/reload"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Lifecycle timing (protocol spec §9.3).
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

	canvas       canvasSwitch
	canvasCfg    profiles.CanvasHostConfig
	canvasCancel context.CancelFunc

	internal chan string // in-process "SIGUSR1" emissions, with a reason
	restarts atomic.Int64
	// watcher is set once the config watcher runs; its callback may fire
	// before Run stores it, hence the atomic.
	watcher atomic.Pointer[reload.Watcher]
}

// canvasSwitch lets the canvas host be replaced on restart while the
// server's mux keeps one handler.
type canvasSwitch struct{ h atomic.Pointer[canvas.Host] }

func (c *canvasSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := c.h.Load()
	if h == nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	h.ServeHTTP(w, r)
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
			_ = s.ln.Close()
			return err
		}
	}
	l.lock = lock
	defer lock.Release()

	// Wiring that must be in place before the first request: the server
	// has not started serving yet, so plain field writes are safe here.
	s.opts.CanvasHost = &l.canvas
	s.opts.ScheduleRestart = l.scheduleRestart
	s.rt.Load().canvas = l.setupCanvas(l.cfg)
	defer l.closeCanvas()

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
	if lo.Listening != nil {
		lo.Listening(s.Addr())
	}
	l.consumeSentinel()
	l.notifyReady()

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

// authorize consumes one live internal authorization, else falls back to
// commands.restart.
func (l *lifecycle) authorize() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	live := l.auths[:0]
	for _, exp := range l.auths {
		if exp.After(now) {
			live = append(live, exp)
		}
	}
	l.auths = live
	if len(l.auths) > 0 {
		l.auths = l.auths[1:]
		return true
	}
	return l.commandRestart
}

// addAuthorization records an internal authorization valid for delay+grace.
func (l *lifecycle) addAuthorization(delay time.Duration) {
	l.mu.Lock()
	l.auths = append(l.auths, time.Now().Add(delay+restartGrace))
	l.mu.Unlock()
}

// emit queues an in-process SIGUSR1; one pending emission is enough.
func (l *lifecycle) emit(reason string) {
	select {
	case l.internal <- reason:
	default:
	}
}

// scheduleRestart is Options.ScheduleRestart: authorize, then emit SIGUSR1
// in process after delay (clamped to 0..60 s; negative means the default).
func (l *lifecycle) scheduleRestart(reason string, delay time.Duration) wire.RestartInfo {
	if delay < 0 {
		delay = DefaultRestartDelay
	}
	delay = min(delay, MaxRestartDelay)
	l.addAuthorization(delay)
	time.AfterFunc(delay, func() { l.emit(reason) })
	return wire.RestartInfo{OK: true, PID: os.Getpid(), Signal: "SIGUSR1", DelayMs: delay.Milliseconds(), Reason: reason, Mode: "emit"}
}

// restart is the in-process restart: re-read the config, build and swap the
// runtime with Server.Restart (the listener stays open; the old runtime's
// clients are closed in the background, so one that stopped reading cannot
// hold up the next SIGUSR1 or READY=1), and report to the supervisor. Any
// failure keeps the current runtime serving.
func (l *lifecycle) restart(ctx context.Context, reason string) {
	start := time.Now()
	_ = notify.Reloading()
	defer l.notifyReady()
	l.mu.Lock()
	l.restartQueued = false
	l.mu.Unlock()
	l.log.Info("gateway restarting", "reason", reason)

	snap, cfg, err := l.loadConfig()
	if err != nil {
		l.log.Warn("gateway restart skipped: config invalid; still serving the previous config", "err", err)
		return
	}
	rc, addr, err := l.lo.Runtime(cfg)
	if err != nil {
		l.log.Warn("gateway restart skipped; still serving the previous config", "err", err)
		l.s.SetConfigError(l.s.opts.ConfigPath, err)
		return
	}
	l.s.SetConfigError(l.s.opts.ConfigPath, nil)
	if cur := l.s.Addr().String(); addr != "" && !sameAddr(addr, cur) {
		l.log.Warn(fmt.Sprintf("gateway address changed to %s; the listener stays on %s until the process restarts (clawdbot gateway restart)", addr, cur))
	}
	if !reflect.DeepEqual(cfg.CanvasHost, l.canvasCfg) {
		l.closeCanvas()
		rc.CanvasHostMounted = l.setupCanvas(cfg)
	} else {
		rc.CanvasHostMounted = l.canvas.h.Load() != nil
	}
	if err := l.s.Restart(ctx, rc); err != nil {
		l.log.Warn("gateway restart failed", "err", err)
		return
	}
	l.mu.Lock()
	l.cfg, l.parsed, l.commandRestart = cfg, snap.Parsed, cfg.Commands.Restart
	l.mu.Unlock()
	n := l.restarts.Add(1)
	l.log.Info(fmt.Sprintf("gateway restarted in process (#%d, %dms)", n, time.Since(start).Milliseconds()))
	l.consumeSentinel()
}

func sameAddr(a, b string) bool {
	ah, ap, err1 := net.SplitHostPort(a)
	bh, bp, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	if ap != bp {
		return ap == "0" // port 0 was resolved at bind time
	}
	ai, bi := net.ParseIP(ah), net.ParseIP(bh)
	return ah == bh || (ai != nil && bi != nil && ai.Equal(bi))
}

// onConfigChange is the watcher callback (never concurrent with itself).
func (l *lifecycle) onConfigChange() {
	snap, cfg, err := l.loadConfig()
	if err != nil {
		l.reloadLog.Warn("config reload skipped (invalid config); still serving the previous config", "err", err)
		return
	}
	l.s.SetConfigError(l.s.opts.ConfigPath, nil)
	l.mu.Lock()
	paths := reload.Diff(l.parsed, snap.Parsed)
	l.mu.Unlock()
	if len(paths) == 0 {
		return
	}
	// The reload settings (gateway.reload.*) are re-read on every change,
	// as the original does: the mode just below, the debounce here.
	if w := l.watcher.Load(); w != nil {
		w.SetDebounce(time.Duration(cfg.Gateway.Reload.DebounceMs) * time.Millisecond)
	}
	mode, valid := reload.ParseMode(cfg.Gateway.Reload.Mode)
	if !valid {
		l.reloadLog.Warn(fmt.Sprintf("invalid gateway.reload.mode %q; using hybrid", cfg.Gateway.Reload.Mode))
	}
	plan := reload.NewPlan(paths, mode)
	l.reloadLog.Info("config change detected", "paths", strings.Join(paths, ", "), "mode", string(plan.Mode))

	// The new file is the baseline from now on, whatever the plan does.
	l.mu.Lock()
	l.parsed = snap.Parsed
	l.mu.Unlock()

	if len(plan.Ignored) > 0 {
		l.reloadLog.Info(fmt.Sprintf("config change not applied (gateway.reload.mode=%s): %s", plan.Mode, strings.Join(plan.Ignored, ", ")))
	}
	if plan.Restart {
		l.reloadLog.Info("config change requires gateway restart: " + strings.Join(plan.RestartPaths, ", "))
		l.mu.Lock()
		queued := l.restartQueued
		l.restartQueued = true
		l.mu.Unlock()
		if !queued { // one restart per reloader at a time
			l.addAuthorization(0)
			l.emit("config change")
		}
		return
	}
	if plan.Mode == reload.ModeOff {
		return
	}
	// Hot apply: refresh the SIGUSR1 policy and hand the kinds over.
	l.mu.Lock()
	l.cfg, l.commandRestart = cfg, cfg.Commands.Restart
	l.mu.Unlock()
	if len(plan.HotKinds) == 0 {
		return
	}
	if l.lo.HotApply != nil {
		if err := l.lo.HotApply(plan.HotKinds, cfg); err != nil {
			l.reloadLog.Warn("config hot reload failed", "err", err)
			return
		}
	}
	l.reloadLog.Info("config hot reload applied: " + strings.Join(plan.HotKinds, ", "))
}

// loadConfig re-reads the config file for a restart or a reload. A file
// that cannot be read or is invalid becomes the config error health and
// status report, and err; the caller logs it and keeps serving. A good
// file's dynamic settings are applied at once (LifecycleOptions.Dynamic),
// before the caller logs anything, so its lines already follow them. cfg
// is never nil when err is nil.
func (l *lifecycle) loadConfig() (snap *profiles.Snapshot, cfg *profiles.Config, err error) {
	snap, err = profiles.LoadEnv(l.s.opts.ConfigPath, l.lo.Getenv)
	if err == nil && snap.Exists && !snap.Valid {
		err = snap.Err()
	}
	if err != nil {
		l.s.SetConfigError(l.s.opts.ConfigPath, err)
		return nil, nil, err
	}
	cfg = snap.Config
	if cfg == nil {
		cfg = &profiles.Config{}
	}
	if l.lo.Dynamic != nil {
		if err := l.lo.Dynamic(cfg); err != nil {
			l.reloadLog.Warn("config setting not applied; keeping the previous value", "err", err)
		}
	}
	return snap, cfg, nil
}

// setupCanvas starts the canvas host for cfg (mounted on the gateway port
// and, when that port is free, on canvasHost.port) and reports whether it runs.
func (l *lifecycle) setupCanvas(cfg *profiles.Config) bool {
	l.canvasCfg = cfg.CanvasHost
	if !canvas.Enabled(cfg.CanvasHost, l.lo.Getenv) {
		return false
	}
	root := canvas.RootFor(cfg.CanvasHost, l.lo.Workspace, l.lo.Home)
	h, err := canvas.New(canvas.Options{
		Root: root, LiveReload: canvas.LiveReloadEnabled(cfg.CanvasHost),
		Logf: func(f string, a ...any) { l.canvasLog.Warn(fmt.Sprintf(f, a...)) },
	})
	if err != nil {
		l.canvasLog.Warn("canvas host disabled", "err", err)
		return false
	}
	l.canvas.h.Store(h)
	host, portStr, _ := net.SplitHostPort(l.s.Addr().String())
	gwPort, _ := strconv.Atoi(portStr)
	if p := canvas.StandalonePort(cfg.CanvasHost, gwPort); p > 0 {
		addr := net.JoinHostPort(host, strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			l.canvasLog.Warn(fmt.Sprintf("canvas host: standalone port %s unavailable (%v); serving on the gateway port only", addr, err))
		} else {
			ctx, cancel := context.WithCancel(context.Background())
			l.canvasCancel = cancel
			go h.Serve(ctx, ln)
			l.canvasLog.Info(fmt.Sprintf("canvas host: http://%s%s (root %s)", addr, canvas.Prefix, root))
		}
	}
	return true
}

func (l *lifecycle) closeCanvas() {
	if l.canvasCancel != nil {
		l.canvasCancel()
		l.canvasCancel = nil
	}
	if h := l.canvas.h.Swap(nil); h != nil {
		h.Close()
	}
}

// SentinelFile is the restart sentinel's name under the state dir.
const SentinelFile = "restart-sentinel.json"

// RestartSentinel is <state>/restart-sentinel.json (protocol spec §9.3):
// written before a restart that someone wants to hear about, read and
// deleted after the next start. Its payload is the wire type config.apply
// and config.patch also return as sentinel.payload.
type RestartSentinel struct {
	Version int                         `json:"version"`
	Payload wire.RestartSentinelPayload `json:"payload"`
}

// WriteRestartSentinel writes {version:1, payload} to <stateDir>/
// restart-sentinel.json atomically (temp, fsync, rename; 0600) and returns
// its path. A zero TS is stamped with the current time.
func WriteRestartSentinel(stateDir string, p wire.RestartSentinelPayload) (string, error) {
	if p.TS == 0 {
		p.TS = time.Now().UnixMilli()
	}
	path := filepath.Join(stateDir, SentinelFile)
	if err := writeJSONFile(path, RestartSentinel{Version: 1, Payload: p}); err != nil {
		return "", fmt.Errorf("write restart sentinel: %w", err)
	}
	return path, nil
}

// consumeSentinel reads and deletes the sentinel, logging its notice. The
// original delivers "GatewayRestart:\n<json>" to the session; sessions come
// with the agent work, so for now the notice goes to the log.
func (l *lifecycle) consumeSentinel() {
	path := filepath.Join(l.s.opts.StateDir, SentinelFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	_ = os.Remove(path)
	var s RestartSentinel
	if err := json.Unmarshal(b, &s); err != nil || s.Version != 1 {
		l.log.Warn("restart sentinel unreadable; removed", "path", path)
		return
	}
	payload, _ := json.Marshal(s.Payload)
	l.log.Info("GatewayRestart:\n" + string(payload))
}
