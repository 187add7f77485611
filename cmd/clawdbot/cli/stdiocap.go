package cli

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Console output of a supervised gateway goes to files nobody rotates: the
// launchd plist points stdout/stderr at <state>/logs/gateway.log and
// gateway.err.log, and launchd never rotates them (doc/supervision.md §10,
// gap 5). The complete record is the gateway's own file log (per day, 7 days
// kept), so a console file that passes its cap is truncated in place, with a
// line saying where the full log is.
const (
	stdioCapBytes = 10 << 20
	stdioCapEvery = 10 * time.Minute
)

// capStdioFiles checks the writers that are regular files now and then
// every interval until stop is closed. Terminals, pipes and the journal's
// socket are left alone.
func capStdioFiles(ws []io.Writer, limit int64, every time.Duration, fullLog string, stop <-chan struct{}) {
	var files []*os.File
	for _, w := range ws {
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return
	}
	check := func() {
		for _, f := range files {
			capFile(f, limit, fullLog)
		}
	}
	check()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				check()
			}
		}
	}()
}

// capFile truncates f when it is larger than limit. Seeking back matters for
// a file opened without O_APPEND (a shell's `>`): its offset would otherwise
// stay at the old end and leave a hole.
func capFile(f *os.File, limit int64, fullLog string) bool {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= limit {
		return false
	}
	if f.Truncate(0) != nil {
		return false
	}
	_, _ = f.Seek(0, io.SeekStart)
	fmt.Fprintf(f, "%s clawdbot: this console log passed %d MiB and was truncated; the full log is %s\n",
		time.Now().Format(time.RFC3339), limit>>20, fullLog)
	return true
}
