//go:build !windows

package doctor

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// chmodNoFollow changes the mode of path through a descriptor opened with
// O_NOFOLLOW, so a symlink swapped in after the check is refused (ELOOP)
// instead of followed, and the mode lands on the very file that was
// checked to be a regular file (or a directory for the state dir).
// O_NONBLOCK keeps a FIFO planted there from blocking the open.
func chmodNoFollow(path string, mode os.FileMode, wantDir bool) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
			return fmt.Errorf("%s is a symlink; not following it", path)
		}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if wantDir && !fi.IsDir() {
		return fmt.Errorf("%s is not a directory; left it alone", path)
	}
	if !wantDir && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file; left it alone", path)
	}
	return f.Chmod(mode)
}
