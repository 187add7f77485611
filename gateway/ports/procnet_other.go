//go:build !linux && !windows

package ports

import "context"

// NoDetailsFix is what lets us name a port's holder when we cannot: lsof,
// with the rights to see other users' processes.
const NoDetailsFix = "install lsof or run as an admin user"

// findListeners asks lsof: macOS has no /proc (Linux reads /proc,
// Windows the system's TCP table). lsof shows every listener it
// may see, so nothing is reported hidden.
func findListeners(ctx context.Context, port int) ([]Listener, []HiddenListener, error) {
	ls, err := lsof(ctx, port, "pcn")
	return ls, nil, err
}
