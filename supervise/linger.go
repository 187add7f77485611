package supervise

import (
	"context"
	"strings"
)

// Lingering: without it a user's systemd manager, and so a user-scope
// gateway, starts only at login and stops at logout (systemd/systemd#11507).

// LingerEnabled asks logind whether lingering is on for user.
func LingerEnabled(ctx context.Context, r Runner, user string) (bool, error) {
	out, err := run(ctx, r, "loginctl", "show-user", user, "--property=Linger", "--value")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out.Stdout) == "yes", nil
}

// EnableLinger turns lingering on for user (polkit allows it for oneself on
// most distributions; otherwise it needs root).
func EnableLinger(ctx context.Context, r Runner, user string) error {
	_, err := run(ctx, r, "loginctl", "enable-linger", user)
	return err
}

// LingerCommand is the exact command that enables lingering for user.
func LingerCommand(user string) string { return "loginctl enable-linger " + user }
