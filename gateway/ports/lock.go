package ports

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockInfo is the JSON content of a lock file (same fields as the original).
type LockInfo struct {
	PID        int    `json:"pid"`
	CreatedAt  string `json:"createdAt"`
	ConfigPath string `json:"configPath"`
	// StartTime is /proc/<pid>/stat field 22 on Linux (0 elsewhere): it tells
	// a live owner from a new process that reused the pid.
	StartTime int64 `json:"startTime,omitempty"`
}

// Lock is a held single-instance lock. The kernel releases it when the
// process dies, crash included, so a stale lock file never blocks a new
// gateway: unlike the original, there is no 30 s staleness wait or polling.
type Lock struct {
	Path string
	f    *os.File // nil for the bypass lock
}

// ErrLocked is wrapped by AcquireLock's error when another live gateway holds
// the lock for the same config.
var ErrLocked = errors.New("gateway already running")

// LockDir is $XDG_RUNTIME_DIR (per-user, cleaned at logout) or the temp dir,
// plus clawdbot-<uid>.
func LockDir(getenv func(string) string) string {
	base := getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "clawdbot-"+strconv.Itoa(os.Getuid()))
}

// LockPath is the lock file for configPath: gateway.<sha1(path)[:8]>.lock
// in LockDir. The hash is over the path as given (already resolved by
// profiles), so each profile has its own lock.
func LockPath(configPath string, getenv func(string) string) string {
	sum := sha1.Sum([]byte(configPath))
	return filepath.Join(LockDir(getenv), "gateway."+hex.EncodeToString(sum[:])[:8]+".lock")
}

// AcquireLock takes the single-instance lock for configPath without waiting.
// CLAWDBOT_ALLOW_MULTI_GATEWAY=1 bypasses it (a Lock that holds nothing is
// returned). If another process holds it, the error wraps ErrLocked and
// names the holder and the fix.
func AcquireLock(configPath string, getenv func(string) string) (*Lock, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	path := LockPath(configPath, getenv)
	if getenv("CLAWDBOT_ALLOW_MULTI_GATEWAY") == "1" {
		return &Lock{Path: path}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("gateway lock: %w", err)
	}
	f, err := openLocked(path)
	if err != nil {
		return nil, err
	}
	// The content is rewritten in place, not via temp+rename: renaming would
	// swap the inode out from under the lock we hold.
	info := LockInfo{PID: os.Getpid(), CreatedAt: time.Now().UTC().Format(time.RFC3339Nano), ConfigPath: configPath}
	if st, err := processStartTime(info.PID); err == nil {
		info.StartTime = st
	}
	b, _ := json.Marshal(info)
	if err := writeAll(f, b); err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("gateway lock %s: %w", path, err)
	}
	return &Lock{Path: path, f: f}, nil
}

// openLocked opens and flocks path. A previous owner's Release unlinks the
// file while holding the lock, so a lock won on a file that is no longer at
// path is worthless: retry on the new file.
func openLocked(path string) (*os.File, error) {
	for range 5 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("gateway lock %s: %w", path, err)
		}
		if err := tryLock(f); err != nil {
			f.Close()
			if !errors.Is(err, errWouldBlock) {
				return nil, fmt.Errorf("gateway lock %s: %w", path, err)
			}
			return nil, lockedError(path)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		unlock(f)
		f.Close()
	}
	return nil, fmt.Errorf("gateway lock %s: the lock file keeps being replaced; is another gateway starting?", path)
}

func writeAll(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	// No fsync: other processes read the content through the page cache as
	// soon as WriteAt returns, and after a crash the holder is dead anyway,
	// so durability buys nothing and costs milliseconds before the bind.
	_, err := f.WriteAt(b, 0)
	return err
}

func lockedError(path string) error {
	info, err := ReadLock(path)
	if err != nil || info.PID <= 0 {
		return fmt.Errorf("%w (lock %s is held by another process); stop that gateway "+
			"or set CLAWDBOT_ALLOW_MULTI_GATEWAY=1 with a distinct config, state dir and port", ErrLocked, path)
	}
	note := ""
	if !OwnerAlive(info) {
		// The recorded owner exited but the lock is still held: a child it
		// spawned inherited the descriptor.
		note = "; the recorded owner exited, a process it started still holds the lock"
	}
	return fmt.Errorf("%w (pid %d, config %s%s); %s or set "+
		"CLAWDBOT_ALLOW_MULTI_GATEWAY=1 with a distinct config, state dir and port", ErrLocked, info.PID, info.ConfigPath, note, stopHolder(info.PID))
}

// stopHolder is how to stop the gateway with pid: its service's stop
// command, with its own profile flags, when a service manager started it;
// Ctrl+C or kill for one started by hand, which 'gateway stop' cannot reach.
func stopHolder(pid int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info := readProc(ctx, pid)
	l := Classified(Listener{PID: pid, CommandLine: info.cmdline, ServiceMarker: info.env["CLAWDBOT_SERVICE_MARKER"], Profile: info.env["CLAWDBOT_PROFILE"]})
	if l.Supervised() {
		return fmt.Sprintf("it runs as a service: stop it with '%s'", StopCommand(l.Profile))
	}
	return fmt.Sprintf("it was started by hand: stop it with Ctrl+C where it runs, or 'kill %d'", pid)
}

// ReadLock reads a lock file's content.
func ReadLock(path string) (LockInfo, error) {
	var info LockInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(b))), &info); err != nil {
		return info, fmt.Errorf("lock %s: %w", path, err)
	}
	return info, nil
}

// OwnerAlive reports whether the process recorded in info still runs (and,
// where the start time is known, is the same process rather than a reuse of
// its pid).
func OwnerAlive(info LockInfo) bool {
	if info.PID <= 0 || !alive(info.PID) {
		return false
	}
	if info.StartTime != 0 {
		if st, err := processStartTime(info.PID); err == nil && st != info.StartTime {
			return false
		}
	}
	return true
}

// Release drops the lock and removes the file. Safe to call twice.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Remove first, while still holding the lock, so a racing acquirer
	// either sees our lock or a fresh file, never an unlocked file we are
	// about to delete.
	rmErr := os.Remove(l.Path)
	unlock(f)
	if err := f.Close(); err != nil {
		return err
	}
	if rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		return rmErr
	}
	return nil
}
