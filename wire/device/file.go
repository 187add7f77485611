package device

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// writeJSONFile writes v as 2-space indented JSON with a trailing newline
// (the Node CLI's format) via temp file + fsync + rename, mode 0600, so a
// crash never leaves a truncated key or token file behind.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil && !isChmodUnsupported() {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

// tempPattern names the temp file of a write of path
// ".<name>.clawdbot-tmp-<digits>": the scheme of profiles.WriteFileAtomic,
// whose SweepTemp removes what a crash leaves (a copy of the device key or
// token). wire does not import profiles (both sit at the bottom of the
// package graph), so the scheme is repeated here and a test pins the two
// together.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".clawdbot-tmp-*" }
