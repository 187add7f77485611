package filelog

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// A log file deleted, renamed or replaced while the gateway runs is noticed
// on the next write: the line goes to a file at the path again, created
// 0600, instead of into an inode nobody can see.
func TestReopenAfterDeleteOrRename(t *testing.T) {
	tests := []struct {
		name  string
		fixed bool // logging.file instead of the per-day file
		do    func(t *testing.T, path string)
		// oldKeeps is the file the first line must still be in afterwards
		// ("" when it is gone).
		oldKeeps func(path string) string
	}{
		{"deleted", false, func(t *testing.T, p string) { must(t, os.Remove(p)) }, nil},
		{"deleted with its directory", false, func(t *testing.T, p string) { must(t, os.RemoveAll(filepath.Dir(p))) }, nil},
		{"renamed (rotated)", false, func(t *testing.T, p string) { must(t, os.Rename(p, p+".1")) },
			func(p string) string { return p + ".1" }},
		{"replaced by another file", false, func(t *testing.T, p string) {
			must(t, os.Remove(p))
			must(t, os.WriteFile(p, nil, 0o644))
		}, nil},
		{"fixed file deleted", true, func(t *testing.T, p string) { must(t, os.Remove(p)) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "logs")
			o := Options{Dir: dir}
			if tt.fixed {
				o.File = filepath.Join(t.TempDir(), "gw.log")
			}
			h := newHandler(t, o)
			h.s.checkEvery = 0 // check on every write; the default is once a second
			path := h.PathFor(fixed)
			logAt(t, h, fixed, slog.LevelInfo, "first")
			tt.do(t, path)
			logAt(t, h, fixed, slog.LevelInfo, "second")

			lines := readLines(t, path)
			if len(lines) != 1 || msgOf(lines[0]) != "second" {
				t.Fatalf("%s after %s = %q, want just the line written since", path, tt.name, lines)
			}
			if runtime.GOOS != "windows" {
				st, err := os.Stat(path)
				must(t, err)
				if st.Mode().Perm() != 0o600 {
					t.Errorf("recreated file mode %v, want 0600", st.Mode().Perm())
				}
			}
			if tt.oldKeeps != nil {
				if old := readLines(t, tt.oldKeeps(path)); len(old) != 1 || msgOf(old[0]) != "first" {
					t.Errorf("rotated file = %q, want the first line", old)
				}
			}
		})
	}
}

// The check is throttled: within the interval a deleted file is not looked
// for again, and the next check after it reopens.
func TestReopenCheckIsThrottled(t *testing.T) {
	h := newHandler(t, Options{Dir: filepath.Join(t.TempDir(), "logs")})
	now := time.Now() // the handler opened the file (and last checked) just before
	h.s.clock = func() time.Time { return now }
	path := h.PathFor(fixed)
	logAt(t, h, fixed, slog.LevelInfo, "first")
	must(t, os.Remove(path))
	now = now.Add(h.s.checkEvery / 2)
	logAt(t, h, fixed, slog.LevelInfo, "lost")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file reopened inside the check interval (stat: %v)", err)
	}
	now = now.Add(h.s.checkEvery)
	logAt(t, h, fixed, slog.LevelInfo, "second")
	if lines := readLines(t, path); len(lines) != 1 || msgOf(lines[0]) != "second" {
		t.Fatalf("after the interval: %q, want the new line", lines)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkWrite is one file-log line with the deleted-file check on every
// write (each) and throttled to once a second (default).
func BenchmarkWrite(b *testing.B) {
	for _, mode := range []string{"each", "default"} {
		b.Run(mode, func(b *testing.B) {
			h, err := New(Options{Dir: filepath.Join(b.TempDir(), "logs")})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			if mode == "each" {
				h.s.checkEvery = 0
			}
			line := []byte(`{"0":"a typical line of about a hundred bytes, give or take","_meta":{"logLevelName":"INFO"}}` + "\n")
			b.ReportAllocs()
			for b.Loop() {
				if err := h.s.write(fixed, line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
