//go:build windows

package gateway

import (
	"os"
	"syscall"
)

// handledSignals are delivered to Run. Windows has no SIGUSR1: restarts come
// from config.apply/patch and the config reloader (in process), or from the
// service manager.
var handledSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

func isRestartSignal(os.Signal) bool { return false }

func ignoreSignals() {}
