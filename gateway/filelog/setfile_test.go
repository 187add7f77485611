package filelog

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// logging.file is read dynamically: SetFile moves the handler and the
// handlers derived from it (the subsystem loggers) to the new file, and ""
// goes back to the per-day files.
func TestSetFileRepointsDerivedHandlers(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	h := newHandler(t, Options{Dir: logs})
	sub := h.WithAttrs([]slog.Attr{slog.String(SubsystemKey, "gateway/reload")})
	day := DayPath(logs, fixed)

	logAt(t, sub, fixed, slog.LevelInfo, "before")
	custom := filepath.Join(dir, "custom", "gw.log")
	if err := h.SetFile(custom); err != nil {
		t.Fatal(err)
	}
	if got := h.PathFor(fixed); got != custom {
		t.Errorf("PathFor after SetFile = %s, want %s", got, custom)
	}
	logAt(t, sub, fixed, slog.LevelInfo, "during")
	if err := h.SetFile(""); err != nil {
		t.Fatal(err)
	}
	logAt(t, sub, fixed, slog.LevelInfo, "after")

	for path, want := range map[string][]string{day: {"before", "after"}, custom: {"during"}} {
		lines := readLines(t, path)
		if len(lines) != len(want) {
			t.Fatalf("%s has %d lines, want %d: %q", path, len(lines), len(want), lines)
		}
		for i, l := range lines {
			if got := msgOf(l); got != want[i] {
				t.Errorf("%s line %d = %q, want message %q", path, i, l, want[i])
			}
		}
	}
}

// A file that cannot be opened is reported and changes nothing.
func TestSetFileBadPathKeepsCurrentFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a regular file as a parent directory")
	}
	dir := t.TempDir()
	custom := filepath.Join(dir, "gw.log")
	h := newHandler(t, Options{File: custom})
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.SetFile(filepath.Join(blocker, "x.log")); err == nil {
		t.Fatal("SetFile under a regular file succeeded")
	}
	if err := h.SetFile(""); err == nil {
		t.Error("SetFile(\"\") without a log dir succeeded")
	}
	logAt(t, h, fixed, slog.LevelInfo, "still here")
	if got := readLines(t, custom); len(got) != 1 {
		t.Errorf("current file has %d lines after failed SetFile, want 1", len(got))
	}
}

// The level is a slog.Leveler: a *slog.LevelVar changes what is written
// without rebuilding the handler (logging.level is read dynamically).
func TestLevelVarChangesLevelLive(t *testing.T) {
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	path := filepath.Join(t.TempDir(), "gw.log")
	h := newHandler(t, Options{File: path, Level: &lv})
	logAt(t, h, fixed, slog.LevelInfo, "dropped")
	lv.Set(slog.LevelDebug)
	logAt(t, h, fixed, slog.LevelDebug, "kept")
	lines := readLines(t, path)
	if len(lines) != 1 || msgOf(lines[0]) != "kept" {
		t.Errorf("lines = %q, want only the debug line logged after the level change", lines)
	}
}

// msgOf is the "msg" field of a file-log line ("" if there is none).
func msgOf(line string) string {
	var m struct {
		Msg string `json:"msg"`
	}
	_ = json.Unmarshal([]byte(line), &m)
	return m.Msg
}
