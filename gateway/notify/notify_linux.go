//go:build linux

package notify

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// sendTimeout bounds one notification. daemon.SdNotify writes without a
// deadline, and a datagram write blocks once the receiver's queue is full
// (about 10 messages): a supervisor that stopped reading would freeze the
// restart loop. The protocol is the same; only the write is bounded.
const sendTimeout = 2 * time.Second

// send speaks the sd_notify protocol; without NOTIFY_SOCKET it is a no-op.
func send(s State, status string) error {
	msg := message(s, status)
	sock := os.Getenv("NOTIFY_SOCKET")
	if msg == "" || sock == "" {
		return nil
	}
	if err := write(sock, msg); err != nil {
		return fmt.Errorf("sd_notify %s: %w", s, err)
	}
	return nil
}

func write(sock, msg string) error {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(sendTimeout)); err != nil {
		return err
	}
	_, err = conn.Write([]byte(msg))
	return err
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
