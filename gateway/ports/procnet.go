package ports

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// procSocket is one listening socket read from /proc/net/tcp or tcp6.
type procSocket struct {
	Addr  netip.AddrPort
	UID   int
	Inode uint64
}

// tcpListen is the kernel's TCP_LISTEN state as /proc/net/tcp prints it
// (the st column, hex).
const tcpListen = "0A"

// maxProcNetLines bounds one table read: a host with millions of sockets
// must not make `gateway status` take minutes.
const maxProcNetLines = 1 << 20

// parseProcNetTCP reads a /proc/net/tcp or /proc/net/tcp6 table and returns
// the sockets in LISTEN state on port (0: every port). The format, per the
// kernel's tcp4_seq_show/tcp6_seq_show: a header line, then per socket
// whitespace-separated fields "sl local rem st tx:rx tr:when retrnsmt uid
// timeout inode ...", with addresses as hex IP:port. The port is in network
// order, the IP is the raw in_addr/in6_addr printed as 32-bit words in host
// byte order. Malformed lines are skipped; the error is only a read error.
func parseProcNetTCP(r io.Reader, port int) ([]procSocket, error) {
	var out []procSocket
	sc := bufio.NewScanner(r)
	// Big reads: rendering the table in the kernel is most of the cost of
	// a lookup, and fewer read calls means fewer restarts of its walk.
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	// A busy host has tens of thousands of sockets, nearly none listening:
	// split each line in place and look at the state before converting.
	f := make([][]byte, 0, 10)
	for n := 0; sc.Scan() && n < maxProcNetLines; n++ {
		f = splitFields(f[:0], sc.Bytes(), 10)
		if len(f) < 10 || string(f[3]) != tcpListen || !bytes.HasSuffix(f[0], []byte(":")) {
			continue // the header, a short line, or not a listener
		}
		addr, err := parseProcNetAddr(string(f[1]))
		if err != nil || (port != 0 && int(addr.Port()) != port) {
			continue
		}
		uid, err := strconv.Atoi(string(f[7]))
		if err != nil {
			continue
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil || inode == 0 {
			continue // inode 0: a socket being torn down, no owner to find
		}
		out = append(out, procSocket{Addr: addr, UID: uid, Inode: inode})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading socket table: %w", err)
	}
	return out, nil
}

// splitFields appends to dst up to n space-separated fields of line,
// sharing line's memory.
func splitFields(dst [][]byte, line []byte, n int) [][]byte {
	for len(dst) < n {
		line = bytes.TrimLeft(line, " \t")
		if len(line) == 0 {
			break
		}
		end := bytes.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		dst = append(dst, line[:end])
		line = line[end:]
	}
	return dst
}

// parseProcNetAddr decodes "0100007F:1F90" (127.0.0.1:8080) or the 32-hex-
// digit IPv6 form. An IPv4-mapped IPv6 address stays as the kernel wrote it.
func parseProcNetAddr(s string) (netip.AddrPort, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok || len(portHex) != 4 {
		return netip.AddrPort{}, fmt.Errorf("bad socket address %q", s)
	}
	p, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad socket port %q", s)
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad socket address %q", s)
	}
	// Each 32-bit word was printed as a host-order integer: turn the
	// printed (big-endian) digits back into the bytes in memory.
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(raw[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

// socketInode extracts the inode from a /proc/<pid>/fd link target
// ("socket:[12345]"); ok is false for anything else.
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// formatAddr renders a listening address as lsof does: "127.0.0.1:18789",
// "[::1]:18789", and "*:18789" for a wildcard.
func formatAddr(a netip.AddrPort) string {
	if a.Addr().IsUnspecified() {
		return "*:" + strconv.Itoa(int(a.Port()))
	}
	return a.String()
}
