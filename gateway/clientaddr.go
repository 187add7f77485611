package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The client address behind reverse proxies (doc/protocol.md §10.5), and
// whether the client is local.
//
// Only a peer listed in gateway.trustedProxies is believed. Its
// X-Forwarded-For is read from the right, as nginx's real_ip_recursive
// does: each proxy appends the address it received the request from, so
// the right-most entry that is not itself a trusted proxy is the client;
// everything to its left was written by the client and proves nothing.
// (The original takes the first entry, so prefixing "127.0.0.1, ..."
// made any remote client local.) When every entry is a trusted proxy the
// left-most one is the client. Without X-Forwarded-For, X-Real-IP is used.
//
// A forwarded client is never local, whatever its address: the proxy
// connects from loopback for every client it serves, so a local address
// behind it says nothing about where the client is. Locality drives the
// failed-auth exemption, silent pairing and the device nonce, so it must
// only ever come from the socket itself. A trusted proxy's own request
// (no forwarding header) is judged by the proxy's address.
//
// An untrusted peer's headers are ignored (2026.1.24 behaviour): the peer
// address is the client.

// proxySet is gateway.trustedProxies: exact IPs, and CIDR prefixes as an
// extension of ours (an operator listing a proxy subnet means all of it).
type proxySet struct {
	addrs    map[netip.Addr]bool
	prefixes []netip.Prefix
}

// newProxySet parses the configured entries; unparsable ones are skipped
// (config validation reports them).
func newProxySet(entries []string) proxySet {
	ps := proxySet{addrs: map[netip.Addr]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			ps.prefixes = append(ps.prefixes, p.Masked())
			continue
		}
		if a, ok := parseHop(e); ok {
			ps.addrs[a] = true
		}
	}
	return ps
}

func (ps proxySet) has(a netip.Addr) bool {
	if ps.addrs[a] {
		return true
	}
	for _, p := range ps.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop parses one address as proxies write it: an IP, possibly with a
// port ("1.2.3.4:80", "[::1]:80") or in brackets; IPv4-mapped IPv6 is
// unmapped, so one client has one key in the failed-auth limiter.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// resolveClient returns the client address of a request from remoteAddr
// with headers h, and whether it came through a trusted proxy's
// forwarding header.
func resolveClient(remoteAddr string, h http.Header, trusted proxySet) (ip string, forwarded bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	peer, ok := parseHop(host)
	if !ok {
		return host, false
	}
	if !trusted.has(peer) {
		return peer.String(), false
	}
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		// Several headers are one list, in order (RFC 9110 §5.3).
		hops := strings.Split(strings.Join(xff, ","), ",")
		cur := peer
		for i := len(hops) - 1; i >= 0; i-- {
			if strings.TrimSpace(hops[i]) == "" {
				continue
			}
			a, ok := parseHop(hops[i])
			if !ok {
				// Garbage where an address belongs: the hop that wrote
				// it is the last address known.
				break
			}
			cur = a
			if !trusted.has(a) {
				break
			}
		}
		return cur.String(), true
	}
	if xr := h.Get("X-Real-IP"); strings.TrimSpace(xr) != "" {
		if a, ok := parseHop(xr); ok {
			return a.String(), true
		}
		return peer.String(), true
	}
	return peer.String(), false
}

// clientAddr resolves the client IP and whether the client is local: a
// loopback address on the socket itself, never a forwarded one.
func (s *Server) clientAddr(r *http.Request, rt *runtime) (string, bool) {
	ip, forwarded := resolveClient(r.RemoteAddr, r.Header, rt.trusted)
	local := false
	if a, err := netip.ParseAddr(ip); err == nil && !forwarded && a.IsLoopback() {
		local = true
	}
	if s.opts.IsLocal != nil {
		local = s.opts.IsLocal(r)
	}
	return ip, local
}
