package gateway

import (
	"fmt"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/reload"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Config hot reload: the watcher's callback diffs the new file against the
// last one and follows the reload plan (restart, hot apply, or nothing).

// onConfigChange is the watcher callback (never concurrent with itself).
func (l *lifecycle) onConfigChange() {
	snap, cfg, err := l.loadConfig()
	if err != nil {
		l.refuse(l.reloadLog, "config reload skipped (invalid config)", err, false)
		return
	}
	// A file the gateway would refuse to start with is refused before
	// anything is planned, and stays out of the diff baseline: the
	// running config is what the next good file is compared with.
	if _, _, err := l.vet(cfg); err != nil {
		l.refuse(l.reloadLog, "config reload refused", err, false)
		return
	}
	l.accepted()
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
	if channelPaths(paths) {
		l.s.reloadChannels()
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
	l.applyEnv(cfg)
	// Unknown keys are ignored, not fatal: said once per key on every
	// load, with the did-you-mean of 'clawdbot config validate', and
	// shown in health/status until the file no longer has them.
	for _, is := range snap.UnknownKeys() {
		l.reloadLog.Warn("config: " + is.String())
	}
	l.s.f.system.SetConfigWarnings(configWarnings(snap))
	if l.lo.Dynamic != nil {
		if err := l.lo.Dynamic(cfg); err != nil {
			l.reloadLog.Warn("config setting not applied; keeping the previous value", "err", err)
		}
	}
	return snap, cfg, nil
}

// applyEnv exports the config's env section (LifecycleOptions.Env): new
// and changed variables are set, removed ones unset, and what the process
// had before start is left alone.
func (l *lifecycle) applyEnv(cfg *profiles.Config) {
	if l.lo.Env == nil {
		return
	}
	set, unset, err := l.lo.Env.Apply(cfg)
	if len(set) > 0 {
		l.reloadLog.Info("config env set: " + strings.Join(set, ", "))
	}
	if len(unset) > 0 {
		l.reloadLog.Info("config env unset (removed from the config): " + strings.Join(unset, ", "))
	}
	if err != nil {
		l.reloadLog.Warn("config env not fully applied", "err", err)
	}
}

// configWarnings are the unknown keys of snap as health and status carry
// them.
func configWarnings(snap *profiles.Snapshot) []wire.ConfigWarning {
	var out []wire.ConfigWarning
	for _, is := range snap.UnknownKeys() {
		out = append(out, wire.ConfigWarning{Path: is.Path, Message: is.Message, Line: is.Line, Column: is.Column})
	}
	return out
}
