//go:build unix

package gateway

import (
	"os"
	"os/signal"
	"syscall"
)

// handledSignals are delivered to Run.
var handledSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1}

func isRestartSignal(s os.Signal) bool { return s == syscall.SIGUSR1 }

// ignoreSignals ignores SIGPIPE: a write to a closed stdout (journald
// restarted, terminal gone) must be an error, not death.
func ignoreSignals() { signal.Ignore(syscall.SIGPIPE) }
