package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"syscall"
)

// The listen addresses of a bind host, as the original binds them
// (doc/protocol.md §7 "Listen address", §10.2):
//
//   - an IPv4 host listens on IPv4 only ("tcp4"): Go's "tcp" on 0.0.0.0
//     opens a dual-stack [::] socket, which --bind lan must not (the
//     original's 0.0.0.0 is IPv4 only);
//   - an IPv6 host listens on IPv6 only ("tcp6");
//   - a loopback bind (127.0.0.1 or localhost) listens on 127.0.0.1 and, best
//     effort, on ::1 with the same port, so a client that resolves
//     localhost to ::1 reaches the gateway too. A machine without IPv6
//     loopback serves on 127.0.0.1 alone.
//
// The first listener is the primary one: Server.Addr reports it.

// loopbackV6Retries bounds how often a loopback bind on port 0 picks a new
// port when the port the kernel gave 127.0.0.1 is taken on ::1.
const loopbackV6Retries = 8

// listenAll binds addr as described above. log (may be nil) hears why ::1
// was left out.
func listenAll(addr string, log *slog.Logger) ([]net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if host != "localhost" && host != "127.0.0.1" {
		ln, err := net.Listen(listenNetwork(host), addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		return []net.Listener{ln}, nil
	}
	v4 := net.JoinHostPort("127.0.0.1", port)
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp4", v4)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", v4, err)
		}
		p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln6, err6 := net.Listen("tcp6", net.JoinHostPort("::1", p))
		if err6 == nil {
			return []net.Listener{ln, ln6}, nil
		}
		if port == "0" && errors.Is(err6, syscall.EADDRINUSE) && attempt < loopbackV6Retries {
			// Another program holds [::1]:p; any port will do, so find
			// one free on both.
			_ = ln.Close()
			continue
		}
		if log != nil {
			if errors.Is(err6, syscall.EADDRINUSE) {
				log.Warn(fmt.Sprintf("[::1]:%s is in use by another program: serving on 127.0.0.1:%s only (clients that resolve localhost to ::1 reach that program)", p, p))
			} else {
				log.Debug("no IPv6 loopback; serving on 127.0.0.1 only", "err", err6)
			}
		}
		return []net.Listener{ln}, nil
	}
}

// listenNetwork is the network that binds host to its own family alone.
func listenNetwork(host string) string {
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return "tcp" // a name or "": whatever it resolves to
	case ip.To4() != nil:
		return "tcp4"
	default:
		return "tcp6"
	}
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}
