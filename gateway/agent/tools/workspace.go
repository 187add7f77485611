//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim, and they start with a capital and end with a period there

package tools

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// workspace is the agent's workspace opened as an os.Root: every file
// tool goes through it, so that no path — "..", an absolute path, or a
// symlink pointing out (to /etc) — reaches outside it.
type workspace struct {
	dir  string
	real string // dir with symlinks resolved, for absolute paths
	root *os.Root
}

// openWorkspace opens c.Workspace; create makes it when missing (the
// write tools), as the original's ensureAgentWorkspace does.
func openWorkspace(c *Call, create bool) (*workspace, error) {
	dir := c.Workspace
	if dir == "" {
		return nil, errors.New("no workspace configured: set agents.defaults.workspace")
	}
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create workspace %s: %v", dir, err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("workspace %s does not exist", dir)
		}
		return nil, err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	return &workspace{dir: dir, real: real, root: root}, nil
}

func (w *workspace) Close() { w.root.Close() }

// rel turns a tool's path argument into a name inside the root. "~" is
// the home dir as the original's expandPath has it; an absolute path must
// lie inside the workspace.
func (w *workspace) rel(p string) (string, error) {
	orig := p
	p = normalizeSpaces(p)
	p = expandHome(p)
	if p == "" {
		p = "."
	}
	if filepath.IsAbs(p) {
		clean := filepath.Clean(p)
		r, ok := within(w.dir, clean)
		if !ok {
			r, ok = within(w.real, clean)
		}
		if !ok {
			return "", w.escape(orig)
		}
		p = r
	}
	p = filepath.Clean(p)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", w.escape(orig)
	}
	return p, nil
}

func within(root, p string) (string, bool) {
	r, err := filepath.Rel(root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, "../") || filepath.IsAbs(r) {
		return "", false
	}
	return r, true
}

// escape is the original's sandbox message (sandbox-paths.js).
func (w *workspace) escape(p string) error {
	return fmt.Errorf("Path escapes sandbox root (%s): %s", shortHome(w.dir), p)
}

// fsErr rewrites os.Root's refusals as the escape message and keeps the
// rest.
func (w *workspace) fsErr(p string, err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return w.escape(p)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", p, pe.Err)
	}
	return err
}

// writeAtomic writes data to name through a temp file in the same
// directory and a rename, keeping an existing file's mode.
func (w *workspace) writeAtomic(name string, data []byte) error {
	mode := fs.FileMode(0o644)
	if fi, err := w.root.Stat(name); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory", name)
		}
		mode = fi.Mode().Perm()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp-"+hex.EncodeToString(b[:]))
	f, err := w.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.root.Rename(tmp, name)
	}
	if err != nil {
		_ = w.root.Remove(tmp)
	}
	return err
}

// normalizeSpaces maps the Unicode spaces the original's expandPath
// normalizes to a plain space.
func normalizeSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0xA0 || (r >= 0x2000 && r <= 0x200A) || r == 0x202F || r == 0x205F || r == 0x3000 {
			return ' '
		}
		return r
	}, s)
}

func shortHome(p string) string {
	if h, err := os.UserHomeDir(); err == nil && h != "" && strings.HasPrefix(p, h) {
		return "~" + p[len(h):]
	}
	return p
}
