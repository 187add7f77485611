//go:build linux

package notify

import (
	"fmt"
	"strings"

	"github.com/coreos/go-systemd/v22/daemon"
)

// send speaks the sd_notify protocol. daemon.SdNotify returns (false, nil)
// when NOTIFY_SOCKET is unset, which makes every call a no-op outside systemd.
func send(s State, status string) error {
	msg := message(s, status)
	if msg == "" {
		return nil
	}
	if _, err := daemon.SdNotify(false, msg); err != nil {
		return fmt.Errorf("sd_notify %s: %w", s, err)
	}
	return nil
}

// message is the datagram for s. RELOADING=1 carries MONOTONIC_USEC because
// Type=notify-reload units require it to match the reload to its READY=1.
func message(s State, status string) string {
	switch s {
	case StateReady:
		return daemon.SdNotifyReady
	case StateReloading:
		return daemon.SdNotifyReloading + "\n" + strings.TrimSuffix(daemon.SdNotifyMonotonicUsec(), "\n")
	case StateStopping:
		return daemon.SdNotifyStopping
	case StateStatus:
		// A newline would start a new assignment; keep the status one line.
		return "STATUS=" + strings.ReplaceAll(status, "\n", " ")
	}
	return ""
}
