package gateway

import (
	"context"
	"fmt"
	"net"
	"os"
	"reflect"
	"time"

	"github.com/clawdbot/clawdbot/gateway/notify"
	"github.com/clawdbot/clawdbot/wire"
)

// The in-process restart: its authorization (commands.restart, or an
// internal one from config.apply/patch or the reloader), the scheduled
// SIGUSR1 emission, and the restart itself.

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
		l.log.Error("gateway restart skipped: config invalid; still serving the previous config: " + err.Error())
		return
	}
	rc, addr, err := l.vet(cfg)
	if err != nil {
		l.refuse(l.log, "gateway restart refused", err, true)
		return
	}
	if cur := l.s.Addr().String(); addr != "" && !sameAddr(addr, cur) {
		l.log.Warn(fmt.Sprintf("gateway address changed to %s; the listener stays on %s until the process restarts (clawdbot gateway restart)", addr, cur))
	}
	// The canvas host is part of the runtime: a changed canvasHost config
	// builds a new one that Restart mounts with the new runtime (and stops,
	// leaving the old one serving, when the swap fails); an unchanged one
	// carries over.
	if !reflect.DeepEqual(cfg.CanvasHost, l.canvasCfg) {
		rc.Canvas = l.buildCanvas(cfg)
	} else {
		rc.Canvas = l.s.rt.Load().canvas
	}
	if err := l.s.Restart(ctx, rc); err != nil {
		// vet checked what Restart checks, so this is a build failure.
		l.log.Error(err.Error())
		l.s.SetConfigError(l.s.opts.ConfigPath, err)
		return
	}
	l.accepted()
	l.canvasCfg = cfg.CanvasHost
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
