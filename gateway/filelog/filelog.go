// Package filelog is the gateway's log output: a log/slog handler that
// writes JSON lines to a per-day file under the profile's state dir, a
// human-readable handler for the console, the reader side (ParseLine) used by
// `clawdbot logs`, and Tail, the logs.tail algorithm.
//
// The line shape stays compatible with the original's tslog "hidden" lines
// (doc/supervision.md §8.1) so the original `clawdbot logs` and ours render
// each other's files: numeric keys "0", "1", … hold the arguments (for a
// subsystem logger "0" is the JSON string {"subsystem":"<name>"}, then an
// attrs object when there are attrs, then the message), "_meta" carries name,
// date, logLevelId and logLevelName, and "time" is an ISO timestamp. We add
// "level" and "msg" for jq users; the original's reader only looks at numeric
// keys, _meta and time, so the extra keys do not change what it shows.
//
// Unlike the original, which shares one world-readable /tmp/clawdbot file
// across every profile on a host, files live in <state>/logs (0700) and are
// created 0600, and a week of files is kept instead of 24 hours.
package filelog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// DefaultRetention is how long per-day files are kept.
const DefaultRetention = 7 * 24 * time.Hour

// reopenCheckInterval is how often a write checks that the open file is
// still the one at its path (deleted, renamed by logrotate, replaced). The
// check is two stat calls; once a second keeps it off the hot path of a
// chatty gateway while a deleted file costs at most a second of lines.
const reopenCheckInterval = time.Second

// SubsystemKey and ModuleKey are the attribute keys that name the part of
// the gateway a line comes from; they go into _meta.name rather than the
// attrs object, as the original's subsystem loggers do.
const (
	SubsystemKey = "subsystem"
	ModuleKey    = "module"
)

// Subsystem returns l tagged with a subsystem name such as "gateway/ws".
func Subsystem(l *slog.Logger, name string) *slog.Logger { return l.With(SubsystemKey, name) }

// dayName matches the files this package writes, for pruning.
var dayName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^gateway-\d{4}-\d{2}-\d{2}\.log$`) })

// DayPath is the per-day log file for the local date of t in dir.
func DayPath(dir string, t time.Time) string {
	return filepath.Join(dir, "gateway-"+t.Local().Format("2006-01-02")+".log")
}

// Options configure a file Handler.
type Options struct {
	// Dir holds the per-day files (normally <state>/logs).
	Dir string
	// File, when set (config logging.file), is one fixed file used instead
	// of the per-day files; it is never pruned.
	File string
	// Level is the minimum level written (default slog.LevelInfo).
	Level slog.Leveler
	// Retention is how old (by mtime) a per-day file may get before it is
	// deleted when a new day's file is opened (default DefaultRetention).
	Retention time.Duration
	// Now is the clock used for pruning (default time.Now). The file a line
	// goes to follows the record's own time.
	Now func() time.Time
}

// Handler is a slog.Handler writing JSON lines to the log file. Handlers
// derived with WithAttrs/WithGroup share the open file. A file deleted,
// renamed or replaced while the gateway runs is noticed within a second
// and created again (0600) at its path.
type Handler struct {
	s     *sink
	level slog.Leveler
	ctx   attrCtx
}

// New returns a file Handler and opens today's file, so a permission
// problem shows up at start-up rather than on the first line.
func New(o Options) (*Handler, error) {
	if o.File == "" && o.Dir == "" {
		return nil, fmt.Errorf("filelog: no log directory or file given")
	}
	if o.Level == nil {
		o.Level = slog.LevelInfo
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &sink{o: o, checkEvery: reopenCheckInterval, clock: time.Now}
	if err := s.open(o.Now()); err != nil {
		return nil, err
	}
	return &Handler{s: s, level: o.Level}, nil
}

// Path is the file the handler currently writes to.
func (h *Handler) Path() string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.path
}

// PathFor is the file a line logged at t would go to; the gateway passes it
// to Tail so logs.tail follows the day switch (and SetFile).
func (h *Handler) PathFor(t time.Time) string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.pathFor(t)
}

// SetFile re-points the handler, and every handler derived from it, at file
// (config logging.file), or back at the per-day files under Options.Dir
// when file is "". The gateway calls it when the config changes, since the
// original reads logging.file dynamically. The new file is opened at once
// so a bad path is reported here; on error the handler keeps writing where
// it did.
func (h *Handler) SetFile(file string) error {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if file == s.o.File {
		return nil
	}
	if file == "" && s.o.Dir == "" {
		return fmt.Errorf("filelog: no log directory to go back to (set logging.file)")
	}
	old := s.o.File
	s.o.File = file
	if err := s.openLocked(s.o.Now()); err != nil {
		s.o.File = old
		return err
	}
	return nil
}

// Close closes the file. Lines logged afterwards reopen it.
func (h *Handler) Close() error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if h.s.f == nil {
		return nil
	}
	err := h.s.f.Close()
	h.s.f, h.s.path = nil, ""
	return err
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.ctx = h.ctx.withAttrs(as)
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.ctx = h.ctx.withGroup(name)
	return &c
}

// Handle implements slog.Handler: one JSON line per record.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = h.s.o.Now()
	}
	line := encodeJSONLine(h.ctx, r, t)
	return h.s.write(t, line)
}

// sink is the open file shared by a Handler and its derivatives.
type sink struct {
	mu   sync.Mutex
	o    Options
	f    *os.File
	path string

	// checkEvery throttles the is-it-still-there check (0: every write);
	// clock is the real clock for it (Options.Now may be a fixed test time).
	checkEvery time.Duration
	clock      func() time.Time
	checked    time.Time
}

func (s *sink) pathFor(t time.Time) string {
	if s.o.File != "" {
		return s.o.File
	}
	return DayPath(s.o.Dir, t)
}

func (s *sink) write(t time.Time, line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var reopenErr error
	switch {
	case s.f == nil || s.path != s.pathFor(t):
		if err := s.openLocked(t); err != nil {
			return err
		}
	case s.gone():
		// On failure keep writing to the open file: the line may still be
		// read from it (a rotated file), and the error says why not here.
		reopenErr = s.openLocked(t)
	}
	if _, err := s.f.Write(line); err != nil {
		return err
	}
	return reopenErr
}

// gone reports, at most once per checkEvery, whether the open file is no
// longer the one at s.path: deleted, renamed away or replaced. Writes would
// otherwise go on into a file no one can open.
func (s *sink) gone() bool {
	now := s.clock()
	if s.checkEvery > 0 && now.Sub(s.checked) < s.checkEvery {
		return false
	}
	s.checked = now
	at, err := os.Stat(s.path)
	if err != nil {
		return true // missing, or unreadable: a reopen says which
	}
	open, err := s.f.Stat()
	return err == nil && !os.SameFile(at, open)
}

func (s *sink) open(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openLocked(t)
}

// openLocked switches to the file for t and prunes old per-day files.
func (s *sink) openLocked(t time.Time) error {
	p := s.pathFor(t)
	dir := filepath.Dir(p)
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		// Only a directory we create gets our mode; an existing one (say a
		// user-chosen logging.file dir) is left as the user set it.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("filelog: create log dir: %w", err)
		}
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("filelog: open log file: %w", err)
	}
	// A file created by an older build or another tool may be world
	// readable; logs carry message text, so tighten it.
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		_ = f.Chmod(0o600)
	}
	if s.f != nil {
		_ = s.f.Close()
	}
	s.f, s.path = f, p
	s.checked = s.clock()
	if s.o.File == "" {
		s.prune(p)
	}
	return nil
}

// prune deletes per-day files in the log dir whose mtime is older than the
// retention, never the file in use.
func (s *sink) prune(current string) {
	entries, err := os.ReadDir(s.o.Dir)
	if err != nil {
		return
	}
	cutoff := s.o.Now().Add(-s.o.Retention)
	for _, e := range entries {
		if e.IsDir() || !dayName().MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(s.o.Dir, e.Name())
		if p == current {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			_ = os.Remove(p)
		}
	}
}

// TextHandler writes human-readable lines for the console:
// `<time> <level> <subsystem> <message> key=value…`.
type TextHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	ctx   attrCtx
}

// NewText returns a console handler writing to w (nil level: info).
func NewText(w io.Writer, level slog.Leveler) *TextHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &TextHandler{mu: &sync.Mutex{}, w: w, level: level}
}

// Enabled implements slog.Handler.
func (h *TextHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs implements slog.Handler.
func (h *TextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.ctx = h.ctx.withAttrs(as)
	return &c
}

// WithGroup implements slog.Handler.
func (h *TextHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.ctx = h.ctx.withGroup(name)
	return &c
}

// Handle implements slog.Handler.
func (h *TextHandler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	line := encodeTextLine(h.ctx, r, t)
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(line)
	return err
}
