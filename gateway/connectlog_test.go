package gateway

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// recordHandler keeps every record it is given, at every level.
type recordHandler struct {
	mu   *sync.Mutex
	recs *[]slog.Record
}

func newRecordHandler() recordHandler {
	return recordHandler{mu: new(sync.Mutex), recs: new([]slog.Record)}
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.recs = append(*h.recs, r.Clone())
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

// levelOf returns the level of the first record with msg whose attribute
// key equals val.
func (h recordHandler) levelOf(msg, key, val string) (slog.Level, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range *h.recs {
		if r.Message != msg {
			continue
		}
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key && a.Value.String() == val {
				found = true
				return false
			}
			return true
		})
		if found {
			return r.Level, true
		}
	}
	return 0, false
}

// One-shot CLI connections (and probes) log "client connected" at debug:
// `logs --follow` opens one per poll and would fill the log it shows.
// Long-lived clients (UI, nodes, TUI) stay at info.
func TestClientConnectedLevel(t *testing.T) {
	h := newRecordHandler()
	s := startServer(t, func(o *Options) { o.Logger = slog.New(h) })
	cases := []struct {
		id, mode string
		want     slog.Level
	}{
		{"cli", "cli", slog.LevelDebug},
		{"clawdbot-probe", "probe", slog.LevelDebug},
		{"clawdbot-macos", "ui", slog.LevelInfo},
		{"gateway-client", "backend", slog.LevelInfo},
		{"node-host", "node", slog.LevelInfo},
	}
	for _, c := range cases {
		p := connectParams(testToken)
		p["client"] = map[string]any{"id": c.id, "mode": c.mode, "platform": "linux", "version": "1"}
		if c.mode == "node" {
			p["role"] = "node"
			delete(p, "scopes")
		}
		cl := dial(t, s)
		cl.Connect(p)
		var got slog.Level
		gatewaytest.WaitFor(t, 5*time.Second, func() bool {
			var ok bool
			got, ok = h.levelOf("client connected", "mode", c.mode)
			return ok
		})
		if got != c.want {
			t.Errorf("mode %s: client connected at %v, want %v", c.mode, got, c.want)
		}
	}
}
