//go:build !linux

package notify

// send is a no-op: launchd has no readiness protocol, and on Windows the
// service runner's Hook (see SetHook) carries the state to the SCM.
func send(State, string) error { return nil }
