package supervise

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// prepareLogFiles creates the directories (0700) and files (0600) launchd
// will send a job's stdout/stderr to. For a system daemon that runs as
// another account (owner != ""), `sudo gateway install --system` would
// otherwise leave them root-owned: the gateway, running as owner, could not
// read its own console logs or cap their size. Existing files are kept
// (launchd appends to them) and only re-owned.
func prepareLogFiles(paths []string, owner string) error {
	uid, gid := -1, -1
	if owner != "" && geteuid() == 0 {
		u, err := user.Lookup(owner)
		if err != nil {
			return fmt.Errorf("log files for %s: %w (check the --user account)", owner, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	for _, p := range paths {
		if p == "" {
			continue
		}
		dir := filepath.Dir(p)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create log dir: %w", err)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("create log file: %w", err)
		}
		f.Close()
		if uid >= 0 {
			for _, q := range []string{dir, p} {
				if err := os.Lchown(q, uid, gid); err != nil {
					return fmt.Errorf("give %s to %s: %w", q, owner, err)
				}
			}
		}
	}
	return nil
}
