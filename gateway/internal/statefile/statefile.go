// Package statefile reads and writes the gateway's small JSON state files
// (devices/, nodes/, the restart sentinel): a missing or empty file reads
// as nothing, a broken one is an error naming the fix, and a write is
// atomic and 0600 because these files hold tokens.
package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
)

// Read decodes path into v; a missing or blank file leaves v as it is.
func Read(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is not valid JSON (%v); fix or remove it", path, err)
	}
	return nil
}

// Write encodes v (indented, newline-terminated) to path atomically with
// mode 0600, creating its directory (0700).
func Write(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return profiles.WriteFileAtomic(path, append(b, '\n'), 0o600)
}
