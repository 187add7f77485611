package whatsapp

import (
	"os"
	"path/filepath"
	"strings"
)

// expandHome resolves a leading "~" like the original's resolveUserPath.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

func removeAll(dir string) error { return os.RemoveAll(dir) }
