// Package notify reports the gateway's lifecycle state to whatever supervises
// it: sd_notify on Linux (READY=1, RELOADING=1 with MONOTONIC_USEC, STOPPING=1,
// STATUS=…), a hook that the Windows service runner maps onto SCM status, and
// nothing elsewhere. The rest of the gateway calls Ready/Reloading/Stopping
// and never needs to know which supervisor, if any, is listening
// (STYLE.md practice 8, modelled on caddy's notify package).
//
// Every call is a cheap no-op when no supervisor asked for notifications
// (NOTIFY_SOCKET unset and no hook installed).
package notify

import "sync/atomic"

// State is a lifecycle state a supervisor may be told about.
type State int

// The states, in the order a gateway usually goes through them.
const (
	StateReady     State = iota + 1 // startup finished; the listener is bound and serving
	StateReloading                  // an in-process restart or hot reload has begun
	StateStopping                   // graceful shutdown has begun
	StateStatus                     // free-form status text only
)

// String names the state the way logs show it.
func (s State) String() string {
	switch s {
	case StateReady:
		return "ready"
	case StateReloading:
		return "reloading"
	case StateStopping:
		return "stopping"
	case StateStatus:
		return "status"
	}
	return "unknown"
}

// Hook receives every state change in addition to the platform transport.
// The Windows service runner installs one that translates states into SCM
// status (Running, StartPending, StopPending); tests may install one too.
type Hook func(state State, status string)

var hook atomic.Pointer[Hook]

// SetHook installs h (nil removes it). It is safe to call at any time.
func SetHook(h Hook) {
	if h == nil {
		hook.Store(nil)
		return
	}
	hook.Store(&h)
}

func callHook(s State, status string) {
	if h := hook.Load(); h != nil {
		(*h)(s, status)
	}
}

// Ready tells the supervisor that the gateway is serving. Call it only after
// the listener is bound, and again after every reload finished.
func Ready() error {
	callHook(StateReady, "")
	return send(StateReady, "")
}

// Reloading tells the supervisor that a reload or in-process restart began;
// a Ready must follow when it is done.
func Reloading() error {
	callHook(StateReloading, "")
	return send(StateReloading, "")
}

// Stopping tells the supervisor that a graceful shutdown began.
func Stopping() error {
	callHook(StateStopping, "")
	return send(StateStopping, "")
}

// Status sets the one-line status text the supervisor shows
// (`systemctl status` prints it as "Status:").
func Status(msg string) error {
	callHook(StateStatus, msg)
	return send(StateStatus, msg)
}
