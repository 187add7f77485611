package gateway

import (
	"log/slog"

	"github.com/clawdbot/clawdbot/profiles"
)

// A reload or restart whose config the gateway would refuse to start with
// is refused the same way everywhere: the old runtime keeps serving, one
// error line names the fix, and health/status (configError), `gateway
// status` and doctor show the reason until a good file replaces it.

// vet is what a restart would run with cfg: LifecycleOptions.Runtime (the
// CLI's start rules: mode, auth, bind, --allow-unconfigured) and then the
// core's own rule on the listeners that keep serving (checkServable). It
// builds nothing, so a reload can refuse before it plans anything.
func (l *lifecycle) vet(cfg *profiles.Config) (RuntimeConfig, string, error) {
	rc, addr, err := l.lo.Runtime(cfg)
	if err == nil {
		err = l.s.checkServable(resolvedAuth(rc.Auth), cfg, l.s.lns)
	}
	return rc, addr, err
}

// refuse records err as the config error and logs it once: always when
// always is set (an explicit SIGUSR1 deserves an answer), else only when it
// differs from the refusal already reported (one edit, one line, even when
// the watcher fires twice for it).
func (l *lifecycle) refuse(log *slog.Logger, what string, err error, always bool) {
	msg := err.Error()
	l.mu.Lock()
	repeat := l.refused == msg
	l.refused = msg
	l.mu.Unlock()
	l.s.SetConfigError(l.s.opts.ConfigPath, err)
	if repeat && !always {
		log.Debug(what+" (unchanged); still serving the previous config", "err", msg)
		return
	}
	log.Error(what + "; still serving the previous config: " + msg)
}

// accepted clears the refusal and the config error once a config was
// taken.
func (l *lifecycle) accepted() {
	l.mu.Lock()
	l.refused = ""
	l.mu.Unlock()
	l.s.SetConfigError(l.s.opts.ConfigPath, nil)
}
