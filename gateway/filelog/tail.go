package filelog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// logs.tail limits (doc/protocol.md §3.4): the defaults the server applies when
// a request leaves them out, and the schema maxima.
const (
	DefaultTailLimit    = 500
	DefaultTailMaxBytes = 250000
	MaxTailLimit        = 5000
	MaxTailMaxBytes     = 1000000
)

// TailResult is the result of logs.tail. Truncated and Reset are always
// sent, as the original server does, even though the schema marks them
// optional.
type TailResult struct {
	File      string   `json:"file"`
	Cursor    int64    `json:"cursor"`
	Size      int64    `json:"size"`
	Lines     []string `json:"lines"`
	Truncated bool     `json:"truncated"`
	Reset     bool     `json:"reset"`
}

// rollingName matches a per-day log file name: ours (gateway-…) and the
// original's (clawdbot-…), so a logging.file pointing at either kind falls
// back to the newest file of the same family.
var rollingName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(gateway|clawdbot)-\d{4}-\d{2}-\d{2}\.log$`) })

// Tail reads the end of the log file at path following the logs.tail
// algorithm of doc/protocol.md §3.4:
//
//   - no cursor: start at max(0, size−maxBytes); truncated when that is > 0;
//   - cursor > size (rotated or shrunk): reset, start at the tail;
//   - size−cursor > maxBytes: reset and truncated, start at size−maxBytes;
//   - otherwise start at the cursor.
//
// When reading starts mid-line the partial first line is dropped, a trailing
// empty line is dropped, only the last limit lines are kept, and the new
// cursor is the file size. A missing file gives an empty result; a missing
// file with a per-day name falls back to the newest file of that family in
// the same directory. limit and maxBytes ≤ 0 mean the defaults; larger
// values than the schema allows are clamped.
func Tail(path string, cursor *int64, limit, maxBytes int) (TailResult, error) {
	limit = clamp(limit, DefaultTailLimit, MaxTailLimit)
	maxBytes = clamp(maxBytes, DefaultTailMaxBytes, MaxTailMaxBytes)

	file := resolveTailFile(path)
	res := TailResult{File: file, Lines: []string{}}
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("log read failed: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("log read failed: %w", err)
	}
	size := st.Size()
	mb := int64(maxBytes)
	tail := max(0, size-mb)

	var start int64
	switch {
	case cursor == nil:
		start = tail
		res.Truncated = start > 0
	case *cursor > size:
		res.Reset = true
		start = tail
		res.Truncated = start > 0
	case size-max(0, *cursor) > mb:
		res.Reset = true
		res.Truncated = true
		start = tail
	default:
		start = max(0, *cursor)
	}
	res.Size = size
	res.Cursor = size
	if size == 0 || start >= size {
		return res, nil
	}

	// Read one byte before start, when there is one, to learn whether
	// reading begins on a line boundary.
	from := start
	if start > 0 {
		from = start - 1
	}
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return res, fmt.Errorf("log read failed: %w", err)
	}
	midLine := false
	if start > 0 {
		midLine = buf[0] != '\n'
		buf = buf[1:]
	}
	lines := strings.Split(string(buf), "\n")
	if midLine {
		lines = lines[1:]
	}
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if len(lines) > limit {
		lines = lines[len(lines)-limit:]
	}
	res.Lines = append(res.Lines, lines...)
	return res, nil
}

func clamp(v, def, hi int) int {
	if v <= 0 {
		return def
	}
	return min(v, hi)
}

// resolveTailFile returns path, or, when path does not exist and has a
// per-day name, the newest (by mtime) file of the same family in its
// directory; path itself when there is none.
func resolveTailFile(path string) string {
	if _, err := os.Stat(path); err == nil {
		return path
	}
	base := filepath.Base(path)
	m := rollingName().FindStringSubmatch(base)
	if m == nil {
		return path
	}
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return path
	}
	best := path
	var bestMod int64
	for _, e := range entries {
		n := e.Name()
		sm := rollingName().FindStringSubmatch(n)
		if sm == nil || sm[1] != m[1] || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if mt := info.ModTime().UnixNano(); best == path || mt > bestMod {
			best, bestMod = filepath.Join(dir, n), mt
		}
	}
	return best
}
