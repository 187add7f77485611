package sessionstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The original's session store lock (d:config/sessions/store.js,
// withSessionStoreLock): a writer creates <store>.lock exclusively and
// writes {"pid":N,"startedAt":ms} into it, polls every 25 ms while it
// exists, gives up after 10 s, and removes a lock whose mtime is more than
// 30 s old (its owner died). Honouring the same file lets the original's
// CLI or gateway share a state directory with ours.
const (
	lockPoll    = 25 * time.Millisecond
	lockTimeout = 10 * time.Second
	lockStale   = 30 * time.Second
)

// lockTimings are the lock's timings, variables only so tests can shorten
// the stale and timeout periods.
var lockTimings = struct{ poll, timeout, stale time.Duration }{lockPoll, lockTimeout, lockStale}

// acquireLock takes <storePath>.lock and returns its release.
func acquireLock(storePath string) (func(), error) {
	lockPath := storePath + ".lock"
	start := time.Now()
	if err := os.MkdirAll(filepath.Dir(storePath), 0o700); err != nil {
		return nil, err
	}
	for {
		f, err := os.OpenFile(lockPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprintf(f, `{"pid":%d,"startedAt":%d}`, os.Getpid(), time.Now().UnixMilli())
			f.Close()
			return func() { os.Remove(lockPath) }, nil
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			_ = os.MkdirAll(filepath.Dir(storePath), 0o700)
		case !errors.Is(err, fs.ErrExist):
			return nil, err
		default:
			if time.Since(start) > lockTimings.timeout {
				return nil, fmt.Errorf("timeout acquiring session store lock: %s (remove it if no clawdbot process is writing sessions)", lockPath)
			}
			if st, serr := os.Stat(lockPath); serr == nil && time.Since(st.ModTime()) > lockTimings.stale {
				os.Remove(lockPath)
				continue
			}
		}
		time.Sleep(lockTimings.poll)
	}
}
