package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/clawdbot/clawdbot/gateway/internal/statefile"
	"github.com/clawdbot/clawdbot/wire"
)

// SentinelFile is the restart sentinel's name under the state dir.
const SentinelFile = "restart-sentinel.json"

// RestartSentinel is <state>/restart-sentinel.json (doc/protocol.md §9.3):
// written before a restart that someone wants to hear about, read and
// deleted after the next start. Its payload is the wire type config.apply
// and config.patch also return as sentinel.payload.
type RestartSentinel struct {
	Version int                         `json:"version"`
	Payload wire.RestartSentinelPayload `json:"payload"`
}

// WriteRestartSentinel writes {version:1, payload} to <stateDir>/
// restart-sentinel.json atomically (temp, fsync, rename; 0600) and returns
// its path. A zero TS is stamped with the current time.
func WriteRestartSentinel(stateDir string, p wire.RestartSentinelPayload) (string, error) {
	if p.TS == 0 {
		p.TS = time.Now().UnixMilli()
	}
	path := filepath.Join(stateDir, SentinelFile)
	if err := statefile.Write(path, RestartSentinel{Version: 1, Payload: p}); err != nil {
		return "", fmt.Errorf("write restart sentinel: %w", err)
	}
	return path, nil
}

// consumeSentinel reads and deletes the sentinel, logging its notice. The
// original delivers "GatewayRestart:\n<json>" to the session; sessions come
// with the agent work, so for now the notice goes to the log.
func (l *lifecycle) consumeSentinel() {
	path := filepath.Join(l.s.opts.StateDir, SentinelFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	_ = os.Remove(path)
	var s RestartSentinel
	if err := json.Unmarshal(b, &s); err != nil || s.Version != 1 {
		l.log.Warn("restart sentinel unreadable; removed", "path", path)
		return
	}
	payload, _ := json.Marshal(s.Payload)
	l.log.Info("GatewayRestart:\n" + string(payload))
}
