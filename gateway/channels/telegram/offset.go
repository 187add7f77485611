package telegram

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/internal/statefile"
)

// offsetFile is the original's update-offset file, so either gateway can
// take over polling from the other without re-delivering updates.
type offsetFile struct {
	Version      int    `json:"version"`
	LastUpdateID *int64 `json:"lastUpdateId"`
}

var offsetAccountBad = regexp.MustCompile(`(?i)[^a-z0-9._-]+`)

// OffsetPath is <stateDir>/telegram/update-offset-<account>.json, with the
// account id sanitised as the original does.
func OffsetPath(stateDir, accountID string) string {
	id := strings.TrimSpace(accountID)
	if id == "" {
		id = DefaultAccountID
	}
	id = offsetAccountBad.ReplaceAllString(id, "_")
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

// WriteOffset stores id atomically (0600, directory 0700).
func WriteOffset(path string, id int64) error {
	return statefile.Write(path, offsetFile{Version: 1, LastUpdateID: &id})
}
