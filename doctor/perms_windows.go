//go:build windows

package doctor

import (
	"errors"
	"os"
)

// chmodNoFollow is not used on Windows: the permission checks are Unix-only
// (Windows has ACLs, not modes).
func chmodNoFollow(path string, mode os.FileMode, wantDir bool) error {
	return errors.New("permission repairs are not supported on Windows")
}
