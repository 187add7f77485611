package profiles

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Hash is the config base hash: SHA-256 hex of the raw file text. A missing
// file (nil raw) hashes as sha256 of "" (protocol spec §3.5).
func Hash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Save writes raw to the config file at path atomically: a temp file in the
// same directory, fsync, rename. The file is 0600 (it holds tokens) and a
// missing directory is created 0700. The previous content, if any and if
// different, is kept in <path>.bak. A symlinked config is written through to
// its target so the link survives.
func Save(path string, raw []byte) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if bytes.Equal(old, raw) {
			return nil // nothing to do; keep the existing .bak
		}
		if err := WriteFileAtomic(path+".bak", old, 0o600); err != nil {
			return fmt.Errorf("save config backup: %w", err)
		}
	case !os.IsNotExist(err):
		return fmt.Errorf("save config: %w", err)
	}
	if err := WriteFileAtomic(path, raw, 0o600); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// SaveJSON writes v as indented JSON (plus a final newline) with Save.
func SaveJSON(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return Save(path, buf.Bytes())
}

// WriteFileAtomic writes data to path through a temp file in the same
// directory, fsyncs it and renames it over path, so a reader (or a crash)
// sees either the old or the new content, never a partial file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable; best effort because some platforms
// (Windows) cannot fsync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// PatchFile merges patch (RFC 7386) into the config file at path, keeping
// its other keys and their order, and saves it atomically (0600, previous
// file kept as .bak). A missing file starts from {}; a file that does not
// parse is refused rather than replaced, so a user's broken edit is never
// clobbered.
func PatchFile(path string, getenv func(string) string, patch map[string]any) error {
	snap, err := LoadEnv(path, getenv)
	if err != nil {
		return err
	}
	if snap.Exists && snap.Parsed == nil {
		return fmt.Errorf("config %s does not parse (%v); fix it first", path, snap.Err())
	}
	p, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	raw, err := MergePatch(snap.Raw, p)
	if err != nil {
		return err
	}
	return Save(path, raw)
}

// GatewayTokenBytes is the entropy of a generated gateway token: 32 random
// bytes, 64 hex characters (the original's doctor used 24).
const GatewayTokenBytes = 32

// NewGatewayToken returns a fresh gateway token from crypto/rand as hex.
func NewGatewayToken() (string, error) {
	b := make([]byte, GatewayTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot generate a gateway token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
