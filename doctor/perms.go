package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// permSubject decides which file a permission repair of path may change.
// A plain path is itself. A symlink is followed only when its target stays
// inside the state dir: chmod on a link into a dotfiles checkout or a
// shared directory would change a file that is not ours (and, run as root,
// could open up anything). A state dir that is itself a link is never
// followed. why says, when target is "", why no repair is offered.
func permSubject(path, stateDir string, isStateDir bool) (target, why string) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err.Error()
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return path, ""
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Sprintf("%s is a symlink that cannot be resolved: %v", path, err)
	}
	if isStateDir {
		return "", fmt.Sprintf("%s is a symlink to %s; doctor does not chmod through it", path, real)
	}
	realState, err := filepath.EvalSymlinks(stateDir)
	if err != nil || !within(realState, real) {
		return "", fmt.Sprintf("%s is a symlink to %s, outside the state dir %s; doctor changes no file outside it", path, real, stateDir)
	}
	return real, ""
}

// within reports whether path is dir or below it (both cleaned, absolute).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// chmodRepair sets mode on target, the file permSubject chose for path at
// check time. It decides again when it runs (the user may answer the prompt
// much later) and refuses when the answer changed, and it never follows a
// symlink in the last component (chmodNoFollow).
func chmodRepair(path, stateDir, target string, isStateDir bool, mode os.FileMode) *Repair {
	return &Repair{Step: StepPermissions, Key: "chmod:" + path, Title: fmt.Sprintf("chmod %o %s", mode, target),
		Run: func(ctx context.Context, c *Context) ([]string, error) {
			now, why := permSubject(path, stateDir, isStateDir)
			if now != target {
				if why == "" {
					why = fmt.Sprintf("%s now resolves to %s", path, now)
				}
				return nil, fmt.Errorf("%s changed since the check (%s); left it alone", path, why)
			}
			if err := chmodNoFollow(target, mode, isStateDir); err != nil {
				return nil, err
			}
			return []string{fmt.Sprintf("chmod %o %s", mode, target)}, nil
		}}
}
