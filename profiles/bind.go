package profiles

import (
	"fmt"
	"net"
	"strings"
)

// BindHost maps a bind mode (gateway.bind or --bind) to the address the
// gateway listens on (doc/protocol.md §10.2): loopback/auto/"" → 127.0.0.1,
// lan → 0.0.0.0, tailnet → this host's Tailscale IPv4 (else 127.0.0.1),
// custom → customHost (must be IPv4); any other value must be an IP address
// or "localhost" (--bind <host>). The gateway and the status/doctor probes
// both use it, so they always agree on where the gateway is.
func BindHost(mode, customHost string) (string, error) {
	switch m := strings.TrimSpace(mode); m {
	case "", "loopback", "auto":
		return "127.0.0.1", nil
	case "lan":
		return "0.0.0.0", nil
	case "tailnet":
		if ip := TailnetIPv4(); ip != "" {
			return ip, nil
		}
		return "127.0.0.1", nil
	case "custom":
		h := strings.TrimSpace(customHost)
		if net.ParseIP(h).To4() == nil {
			return "", fmt.Errorf("gateway.bind is custom but gateway.customBindHost %q is not an IPv4 address (set it, or use --bind loopback)", customHost)
		}
		return h, nil
	default:
		if net.ParseIP(m) == nil && m != "localhost" {
			return "", fmt.Errorf("invalid --bind %q (use loopback, lan, tailnet, auto or an IP address)", mode)
		}
		return m, nil
	}
}

// IsLoopbackHost reports whether h is a loopback address or "localhost".
func IsLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// TailnetIPv4 is this host's first address in Tailscale's CGNAT range
// (100.64.0.0/10), or "" when it has none.
func TailnetIPv4() string {
	_, cgnat, _ := net.ParseCIDR("100.64.0.0/10")
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && cgnat.Contains(ipn.IP) {
			return ipn.IP.String()
		}
	}
	return ""
}
