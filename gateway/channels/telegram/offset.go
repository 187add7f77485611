package telegram

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// offsetFile is the original's update-offset file, so either gateway can
// take over polling from the other without re-delivering updates.
type offsetFile struct {
	Version      int    `json:"version"`
	LastUpdateID *int64 `json:"lastUpdateId"`
}

var offsetAccountBad = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)[^a-z0-9._-]+`) })

// OffsetPath is <stateDir>/telegram/update-offset-<account>.json, with the
// account id sanitised as the original does.
func OffsetPath(stateDir, accountID string) string {
	id := strings.TrimSpace(accountID)
	if id == "" {
		id = DefaultAccountID
	}
	id = offsetAccountBad().ReplaceAllString(id, "_")
	return filepath.Join(stateDir, "telegram", "update-offset-"+id+".json")
}

// ReadOffset returns the last handled update id; ok is false when the file
// is missing, unreadable or not version 1 (the original then starts fresh).
func ReadOffset(path string) (last int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var f offsetFile
	if json.Unmarshal(b, &f) != nil || f.Version != 1 || f.LastUpdateID == nil {
		return 0, false
	}
	return *f.LastUpdateID, true
}

// WriteOffset stores id atomically (temp file + rename, 0600, directory
// 0700). Unlike the gateway's other state files it is not fsynced, as the
// original does not: it is written after every batch of updates, and
// after a power cut the worst case is a few updates delivered again.
func WriteOffset(path string, id int64) error {
	b, err := json.MarshalIndent(offsetFile{Version: 1, LastUpdateID: &id}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(append(b, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, 0o600)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
