package filelog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixed is a moment in the middle of a local day, so day arithmetic in the
// tests never straddles midnight by accident.
var fixed = time.Date(2026, 1, 9, 12, 30, 45, 123_000_000, time.Local)

func logAt(t *testing.T, h slog.Handler, at time.Time, level slog.Level, msg string, attrs ...any) {
	t.Helper()
	if !h.Enabled(context.Background(), level) { // as slog.Logger does
		return
	}
	r := slog.NewRecord(at, level, msg, 0)
	r.Add(attrs...)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func readLines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func newHandler(t *testing.T, o Options) *Handler {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return fixed }
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestLineShapeGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	h := newHandler(t, Options{Dir: dir, Level: slog.LevelDebug})
	ws := h.WithAttrs([]slog.Attr{slog.String(SubsystemKey, "gateway/ws")})
	at := time.Date(2026, 1, 9, 1, 38, 41, 523_000_000, time.UTC)
	logAt(t, ws, at, slog.LevelInfo, "connected", "conn", "abc", "n", 3)
	logAt(t, h, at, slog.LevelWarn, "plain <root> & line")
	logAt(t, h.WithAttrs([]slog.Attr{slog.String(ModuleKey, "cron")}).WithGroup("job"), at, slog.LevelDebug, "tick", "id", "j1",
		"err", errors.New("boom"), "d", 1500*time.Millisecond)
	logAt(t, ws, at, slog.LevelError, "failed")

	got, err := os.ReadFile(DayPath(dir, at))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "lines.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("lines differ from %s:\n got: %s\nwant: %s", golden, got, want)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("not one JSON object per line: %s", l)
		}
	}
}

// TestOwnLinesReadLikeTheOriginal checks our lines with the original
// reader's rules: what `clawdbot logs` (either implementation) shows.
func TestOwnLinesReadLikeTheOriginal(t *testing.T) {
	dir := t.TempDir()
	h := newHandler(t, Options{Dir: dir})
	at := time.Date(2026, 1, 9, 1, 38, 41, 523_000_000, time.UTC)
	logAt(t, Subsystem(slog.New(h), "gateway/channels/whatsapp").Handler(), at, slog.LevelInfo, "connected")
	logAt(t, h, at, slog.LevelError, "root failure", "code", 7)
	lines := readLines(t, DayPath(dir, at))
	want := []Entry{
		{Time: "2026-01-09T01:38:41.523Z", Level: "info", Subsystem: "gateway/channels/whatsapp",
			Message: `{"subsystem":"gateway/channels/whatsapp"} connected`},
		{Time: "2026-01-09T01:38:41.523Z", Level: "error", Message: `{"code":7} root failure`},
	}
	for i, l := range lines {
		e, ok := ParseLine(l)
		if !ok || e != want[i] {
			t.Errorf("line %d parsed as %+v (ok %v), want %+v", i, e, ok, want[i])
		}
	}
}

// TestParseLineMatchesOriginalCLI feeds the raw lines of a real
// `clawdbot logs --json` capture through ParseLine and compares with the
// fields the original CLI derived from them.
func TestParseLineMatchesOriginalCLI(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "original-cli-logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var rec struct {
			Type, Time, Level, Subsystem, Module, Message, Raw string
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Type != "log" {
			continue
		}
		n++
		e, ok := ParseLine(rec.Raw)
		want := Entry{Time: rec.Time, Level: rec.Level, Subsystem: rec.Subsystem, Module: rec.Module, Message: rec.Message}
		if !ok || e != want {
			t.Errorf("raw %.120s…\n got %+v\nwant %+v", rec.Raw, e, want)
		}
	}
	if n < 10 {
		t.Fatalf("only %d log records in the capture", n)
	}
	if _, ok := ParseLine("not json"); ok {
		t.Error("a non-JSON line parsed")
	}
}

func TestDaySwitchAtMidnight(t *testing.T) {
	dir := t.TempDir()
	h := newHandler(t, Options{Dir: dir})
	before := time.Date(2026, 3, 1, 23, 59, 59, 0, time.Local)
	after := before.Add(2 * time.Second)
	logAt(t, h, before, slog.LevelInfo, "late")
	logAt(t, h, after, slog.LevelInfo, "early")
	if h.Path() != DayPath(dir, after) {
		t.Errorf("Path = %s, want %s", h.Path(), DayPath(dir, after))
	}
	for p, msg := range map[string]string{DayPath(dir, before): "late", DayPath(dir, after): "early"} {
		lines := readLines(t, p)
		if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"`+msg+`"`) {
			t.Errorf("%s: %q, want one %q line", filepath.Base(p), lines, msg)
		}
	}
	if filepath.Base(DayPath(dir, before)) != "gateway-2026-03-01.log" {
		t.Errorf("day file name %s", DayPath(dir, before))
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	dir := filepath.Join(t.TempDir(), "state", "logs")
	h := newHandler(t, Options{Dir: dir})
	logAt(t, h, fixed, slog.LevelInfo, "x")
	for p, want := range map[string]os.FileMode{dir: 0o700, h.Path(): 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", p, st.Mode().Perm(), want)
		}
	}
	// A pre-existing world-readable file is tightened when opened.
	loose := filepath.Join(t.TempDir(), "loose.log")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o644)
	newHandler(t, Options{File: loose})
	if st, _ := os.Stat(loose); st.Mode().Perm() != 0o600 {
		t.Errorf("existing file mode %o, want 600", st.Mode().Perm())
	}
}

func TestPruneKeepsAWeek(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := fixed.Add(-age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk("gateway-2025-12-31.log", 9*24*time.Hour)
	recent := mk("gateway-2026-01-03.log", 6*24*time.Hour)
	foreign := mk("notes-2025-01-01.log", 400*24*time.Hour)
	otherFamily := mk("clawdbot-2025-12-01.log", 40*24*time.Hour)
	newHandler(t, Options{Dir: dir})
	for p, wantExists := range map[string]bool{stale: false, recent: true, foreign: true, otherFamily: true, DayPath(dir, fixed): true} {
		_, err := os.Stat(p)
		if exists := err == nil; exists != wantExists {
			t.Errorf("%s exists=%v, want %v", filepath.Base(p), exists, wantExists)
		}
	}
}

func TestFixedFileOverride(t *testing.T) {
	dir := t.TempDir()
	fixedFile := filepath.Join(dir, "sub", "gw.log")
	old := filepath.Join(dir, "sub", "gateway-2000-01-01.log")
	os.MkdirAll(filepath.Dir(old), 0o700)
	os.WriteFile(old, nil, 0o600)
	os.Chtimes(old, fixed.AddDate(-1, 0, 0), fixed.AddDate(-1, 0, 0))
	h := newHandler(t, Options{Dir: dir, File: fixedFile})
	logAt(t, h, fixed, slog.LevelInfo, "one")
	logAt(t, h, fixed.AddDate(0, 0, 1), slog.LevelInfo, "two") // no day switch for a fixed file
	if got := readLines(t, fixedFile); len(got) != 2 {
		t.Errorf("fixed file has %d lines, want 2", len(got))
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("a fixed logging.file must not prune its directory: %v", err)
	}
}

func TestLevelFilter(t *testing.T) {
	h := newHandler(t, Options{Dir: t.TempDir(), Level: slog.LevelWarn})
	l := slog.New(h)
	if l.Enabled(context.Background(), slog.LevelInfo) || !l.Enabled(context.Background(), slog.LevelError) {
		t.Error("level filter not applied")
	}
}

func TestTextHandler(t *testing.T) {
	var b bytes.Buffer
	h := NewText(&b, nil)
	at := time.Date(2026, 1, 9, 1, 38, 41, 523_000_000, time.UTC)
	logAt(t, h.WithAttrs([]slog.Attr{slog.String(SubsystemKey, "gateway")}), at, slog.LevelInfo, "listening", "addr", "127.0.0.1:1", "note", "two words")
	logAt(t, h, at, slog.LevelDebug, "hidden")
	want := "2026-01-09T01:38:41.523Z info gateway listening addr=127.0.0.1:1 note=\"two words\"\n"
	if b.String() != want {
		t.Errorf("text line\n got %q\nwant %q", b.String(), want)
	}
}

func TestNewNeedsADestination(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without Dir or File succeeded")
	}
}
