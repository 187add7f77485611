package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/clawdbot/clawdbot/profiles"
)

// ErrForeignDefinition is returned when install would overwrite a service
// file that lacks our marker: someone else wrote it.
var ErrForeignDefinition = errors.New("existing service definition was not written by clawdbot")

// InstallAction is what install did to the definition on disk.
type InstallAction string

// Install actions reported by Manager.Install (and `gateway install --json`).
const (
	ActionInstalled InstallAction = "installed" // there was no definition
	ActionUpdated   InstallAction = "updated"   // the definition differed and was rewritten
	ActionUnchanged InstallAction = "unchanged" // the definition on disk is what we would write
)

// writeDefinition renders want, compares it with the file on disk and
// writes it atomically when it differs (or when force is set). It refuses to
// replace a file without our marker unless force is set.
func writeDefinition(want Spec, force bool, perm os.FileMode) (action InstallAction, written bool, err error) {
	action, body, write, err := planDefinition(want, force)
	if err != nil || !write {
		return action, false, err
	}
	if err := WriteFileAtomic(want.DefinitionPath(), body, perm); err != nil {
		return "", false, err
	}
	return action, true, nil
}

// planDefinition is writeDefinition without the write: what install would
// do to the file on disk, and the bytes it would write. It is pure apart
// from reading the file, so install can refuse before asking the manager.
func planDefinition(want Spec, force bool) (action InstallAction, body []byte, write bool, err error) {
	body, err = Render(want)
	if err != nil {
		return "", nil, false, err
	}
	path := want.DefinitionPath()
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		action = ActionInstalled
	case err != nil:
		return "", nil, false, fmt.Errorf("read %s: %w", path, err)
	case bytes.Equal(old, body) && !force:
		return ActionUnchanged, body, false, nil
	case bytes.Equal(old, body):
		action = ActionUnchanged
	default:
		if !force && !hasMarker(want.Platform, old) {
			return "", nil, false, fmt.Errorf("%w: %s lacks %s=%s; move it away or rerun with --force to replace it",
				ErrForeignDefinition, path, EnvMarker, MarkerValue)
		}
		action = ActionUpdated
	}
	return action, body, true, nil
}

// hasMarker reports whether a definition carries our service marker.
func hasMarker(pl Platform, body []byte) bool {
	s, err := Parse(pl, body)
	return err == nil && s.Env[EnvMarker] == MarkerValue
}

// WriteFileAtomic writes data to path atomically (profiles.WriteFileAtomic:
// temp file in the same directory, fsync, rename), so a crash leaves the old
// file or the new one, never half of either. Missing directories are
// created 0755, as service directories (~/.config/systemd/user,
// ~/Library/LaunchAgents) are.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := profiles.WriteFileAtomic(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
