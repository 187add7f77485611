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
	"strings"
	"time"
)

// Hash is the config base hash: SHA-256 hex of the raw file text. A missing
// file (nil raw) hashes as sha256 of "" (doc/protocol.md §3.5).
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

// TempInfix marks the temp files of our atomic writes:
// ".<name>.clawdbot-tmp-<digits>" next to <name>. The name is recognisable
// so SweepTemp can remove what a crash (kill -9 between create and rename)
// left behind, which may hold a token, without touching anything else.
// wire/device writes its files under the same scheme.
const TempInfix = ".clawdbot-tmp-"

// TempPattern is the os.CreateTemp pattern for a temp copy of path.
func TempPattern(path string) string { return "." + filepath.Base(path) + TempInfix + "*" }

// IsTempName reports whether a file name (no directory) is one of our temp
// files: a leading dot, a non-empty target name, TempInfix, then only the
// digits os.CreateTemp puts in place of the "*".
func IsTempName(name string) bool {
	i := strings.LastIndex(name, TempInfix)
	if i < 2 || name[0] != '.' {
		return false
	}
	digits := name[i+len(TempInfix):]
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// WriteFileAtomic writes data to path through a temp file in the same
// directory (named by TempPattern, created 0600 so a secret is never
// readable by others, even mid-write), fsyncs it and renames it over path,
// so a reader (or a crash) sees either the old or the new content, never a
// partial file. The mode becomes perm just before the rename.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPattern(path))
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
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if testHookBeforeRename != nil {
		testHookBeforeRename(tmp)
	}
	if err = f.Chmod(perm); err != nil {
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

// testHookBeforeRename lets the crash test kill the process while the temp
// file exists.
var testHookBeforeRename func(tmp string)

// TempSweepAge is how old a temp file must be before SweepTemp removes it:
// a write in progress (another clawdbot process saving right now) takes
// milliseconds between create and rename, so ten seconds is only ever a
// crash's leftover.
const TempSweepAge = 10 * time.Second

// SweepTemp removes our stale temp files (IsTempName, regular files older
// than TempSweepAge) in dir and its subdirectories down to depth levels
// (0: dir only). Symlinked directories are not followed and nothing else is
// ever removed. It returns the paths removed; unreadable directories are
// skipped, the first removal error is returned.
//
// The gateway calls it at start for its config's directory and its state
// dir, so a kill -9 during a save does not leave copies of the token.
func SweepTemp(dir string, depth int) ([]string, error) {
	var removed []string
	var first error
	cutoff := time.Now().Add(-TempSweepAge)
	var walk func(d string, level int)
	walk = func(d string, level int) {
		entries, err := os.ReadDir(d)
		if err != nil {
			return
		}
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			switch {
			case e.IsDir():
				if level < depth {
					walk(p, level+1)
				}
			case e.Type().IsRegular() && IsTempName(e.Name()):
				info, err := e.Info()
				if err != nil || info.ModTime().After(cutoff) {
					continue
				}
				if err := os.Remove(p); err != nil {
					if first == nil && !os.IsNotExist(err) {
						first = err
					}
					continue
				}
				removed = append(removed, p)
			}
		}
	}
	walk(dir, 0)
	return removed, first
}

// syncDir makes a rename durable; best effort because some platforms
// (Windows) cannot fsync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// PatchFile merges patch (RFC 7386) into the config file at path by
// splicing the changed values into the user's text (PatchText: comments,
// key order, quoting and trailing commas of everything else are kept), and
// saves it atomically (0600, previous file kept as .bak). Every command
// that edits the config (setup, gateway install --port/--token, doctor
// --fix) goes through PatchText. A missing file starts from {}; a file that does not
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
	raw, err := PatchText(snap.Raw, p)
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
