//go:build linux

package ports

import (
	"context"
	"errors"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// NoDetailsFix is what lets us name a port's holder when we cannot: on
// Linux the kernel's tables need no tool, only the right to read the
// holder's /proc/<pid>/fd.
const NoDetailsFix = "run as root or as the user that owns the process"

// procRoot is where the kernel's process and socket tables live. A
// variable so tests can point it at a captured tree.
var procRoot = "/proc"

// findListeners lists the processes listening on TCP port from the kernel's
// tables, without lsof: /proc/net/tcp and tcp6 give the listening sockets'
// inodes, and /proc/<pid>/fd links ("socket:[inode]") name their owners.
// Sockets whose owner we cannot see (another user's process while we are
// not root) come back in hidden, with the owner's uid from the table.
// Without a readable /proc it falls back to lsof.
func findListeners(ctx context.Context, port int) (ls []Listener, hidden []HiddenListener, err error) {
	socks, err := procListenSockets(port)
	if err != nil {
		ls, err := lsof(ctx, port, "pcn")
		return ls, nil, err
	}
	if len(socks) == 0 {
		return nil, nil, nil
	}
	want := make(map[uint64]procSocket, len(socks))
	for _, s := range socks {
		want[s.Inode] = s
	}
	found := map[uint64]bool{}
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		addr := ""
		for _, ino := range pidSocketInodes(pid) {
			if s, ok := want[ino]; ok {
				found[ino] = true
				if addr == "" {
					addr = formatAddr(s.Addr)
				}
			}
		}
		if addr != "" {
			ls = append(ls, Listener{PID: pid, Command: procComm(pid), Address: addr})
		}
	}
	for _, s := range socks {
		if !found[s.Inode] {
			hidden = append(hidden, HiddenListener{Address: formatAddr(s.Addr), User: userName(s.UID)})
		}
	}
	return ls, hidden, nil
}

// procListenSockets reads both socket tables. A missing tcp6 (IPv6
// disabled) is fine; a missing tcp means no usable /proc.
func procListenSockets(port int) ([]procSocket, error) {
	var all []procSocket
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(procRoot, "net", name))
		if err != nil {
			if name == "tcp6" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		socks, err := parseProcNetTCP(io.Reader(f), port)
		f.Close()
		if err != nil {
			return nil, err
		}
		all = append(all, socks...)
	}
	return all, nil
}

// pidSocketInodes lists the socket inodes among pid's open files; empty
// when the fd directory is not ours to read.
func pidSocketInodes(pid int) []uint64 {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "fd")
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []uint64
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(dir, fd.Name()))
		if err != nil {
			continue
		}
		if ino, ok := socketInode(link); ok && !slices.Contains(out, ino) {
			out = append(out, ino)
		}
	}
	return out
}

// procComm is the kernel's short command name (what lsof calls COMMAND).
func procComm(pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// userName maps a uid to a login name, or the number when it has none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}
