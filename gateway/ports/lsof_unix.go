//go:build !windows

package ports

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// lsofPath finds lsof on PATH. The original also tried /usr/sbin/lsof and
// /usr/bin/lsof directly, for launchd's minimal PATH; the service
// definitions we write put /usr/sbin and /usr/bin on PATH, so PATH alone
// decides, which also lets tests and users turn lsof off.
func lsofPath() (string, error) {
	p, err := exec.LookPath("lsof")
	if err != nil {
		return "", ErrNoLsof
	}
	return p, nil
}

// lsofTimeout bounds one lsof run (it can hang on stale NFS mounts).
const lsofTimeout = 5 * time.Second

// lsof runs lsof for port with the given field selection and parses it.
// Exit status 1 with no output means "no listeners".
func lsof(ctx context.Context, port int, fields string) ([]Listener, error) {
	bin, err := lsofPath()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, lsofTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-nP", "-iTCP:"+strconv.Itoa(port), "-sTCP:LISTEN", "-F"+fields).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 && len(strings.TrimSpace(string(out))) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("lsof on port %d: %w", port, err)
	}
	return parseLsof(string(out)), nil
}
