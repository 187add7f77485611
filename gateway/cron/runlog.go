package cron

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Run log bounds of the original: past 2 MB a log is cut to its last
// 2000 lines.
const (
	runLogMaxBytes  = 2_000_000
	runLogKeepLines = 2000
)

// RunLogPath is <dir of jobs.json>/runs/<jobId>.jsonl.
func RunLogPath(storePath, jobID string) string {
	return filepath.Join(filepath.Dir(storePath), "runs", jobID+".jsonl")
}

// runLogMu serialises appends (and the prune that may follow) per file.
var runLogMu sync.Map // path → *sync.Mutex

// AppendRunLog appends one entry as a JSON line and prunes the file when
// it outgrows the bound (the prune is a temp + rename).
func AppendRunLog(path string, e wire.CronRunLogEntry) error {
	m, _ := runLogMu.LoadOrStore(path, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() <= runLogMaxBytes {
		return nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var lines [][]byte
	for _, l := range bytes.Split(raw, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) > runLogKeepLines {
		lines = lines[len(lines)-runLogKeepLines:]
	}
	return profiles.WriteFileAtomic(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600)
}

// ReadRunLog returns the last limit (1..5000, default 200) finished
// entries of jobID, oldest first; invalid lines are skipped as the
// original does. A missing log is empty.
func ReadRunLog(path, jobID string, limit int) []wire.CronRunLogEntry {
	if limit <= 0 {
		limit = 200
	}
	limit = min(limit, 5000)
	out := []wire.CronRunLogEntry{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	var all []wire.CronRunLogEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e wire.CronRunLogEntry
		var probe struct {
			TS *json.Number `json:"ts"`
		}
		if json.Unmarshal(line, &e) != nil || json.Unmarshal(line, &probe) != nil || probe.TS == nil {
			continue
		}
		if e.Action != "finished" || strings.TrimSpace(e.JobID) == "" || (jobID != "" && e.JobID != jobID) {
			continue
		}
		all = append(all, e)
	}
	if len(all) > limit {
		all = all[len(all)-limit:]
	}
	return append(out, all...)
}
