//go:build linux

package ports

import "testing"

// noProc points the /proc reader at an empty directory, as on a system
// without /proc mounted, so the lsof fallback is what runs.
func noProc(t *testing.T) {
	t.Helper()
	old := procRoot
	procRoot = t.TempDir()
	t.Cleanup(func() { procRoot = old })
}
