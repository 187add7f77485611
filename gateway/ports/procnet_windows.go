package ports

import (
	"context"
	"net"
	"strconv"

	psnet "github.com/shirou/gopsutil/v4/net"
)

// NoDetailsFix is what lets us name a port's holder when we cannot: the
// rights to open other users' processes.
const NoDetailsFix = "run as an administrator"

// findListeners reads the system's TCP tables (GetExtendedTcpTable,
// through gopsutil) instead of lsof, which Windows does not have: every
// socket in LISTEN on port, with its owning pid. A listener whose process
// cannot be opened is still named by pid; enrich fills in what it can.
func findListeners(ctx context.Context, port int) ([]Listener, []HiddenListener, error) {
	conns, err := psnet.ConnectionsWithContext(ctx, "tcp")
	if err != nil {
		return nil, nil, err
	}
	var ls []Listener
	seen := map[int32]bool{}
	for _, c := range conns {
		if c.Status != "LISTEN" || int(c.Laddr.Port) != port {
			continue
		}
		if c.Pid == 0 || seen[c.Pid] {
			continue
		}
		seen[c.Pid] = true
		addr := net.JoinHostPort(c.Laddr.IP, strconv.Itoa(port))
		if c.Laddr.IP == "0.0.0.0" || c.Laddr.IP == "::" {
			addr = "*:" + strconv.Itoa(port)
		}
		ls = append(ls, Listener{PID: int(c.Pid), Address: addr})
	}
	return ls, nil, nil
}
