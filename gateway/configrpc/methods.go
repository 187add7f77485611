package configrpc

import (
	"encoding/json"
	"log/slog"
	"os"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Deps are what the config methods need.
type Deps struct {
	// Store is the process-wide config store (NewStore).
	Store *Store
	// Now is the clock of the sentinel's ts.
	Now func() time.Time
	// WriteSentinel writes the restart sentinel and returns its path.
	WriteSentinel func(wire.RestartSentinelPayload) (string, error)
	// ScheduleRestart asks the lifecycle for a restart after delay; what
	// it reports becomes the restart field of apply/patch. ok is false
	// when nothing can restart the gateway (a Server without Run): the
	// config is still written and restart reports mode "none".
	ScheduleRestart func(reason string, delay time.Duration) (info wire.RestartInfo, ok bool)
	// Log receives the sentinel write failure.
	Log *slog.Logger
	// Version is config.schema's version (the gateway's).
	Version string
}

// Register adds config.get, config.set, config.apply, config.patch and
// config.schema.
func Register(reg *rpc.Registry, d Deps) {
	h := &handlers{d: d}
	reg.Handle("config.get", h.get)
	reg.Handle("config.set", h.set)
	reg.Handle("config.apply", func(c *rpc.Call) (any, *wire.ErrorShape) { return h.apply(c, false) })
	reg.Handle("config.patch", func(c *rpc.Call) (any, *wire.ErrorShape) { return h.apply(c, true) })
	reg.Handle("config.schema", h.schema)
}

type handlers struct{ d Deps }

// toSnapshot is the config.get result (doc/protocol.md §3.5): config is the whole
// resolved document with the original's load-time defaults
// (profiles.Snapshot.ConfigJSON). A missing or unparsable file reports
// parsed/config as {}; issues carry only {path, message}, as the
// original's do.
func toSnapshot(snap *profiles.Snapshot) wire.ConfigSnapshot {
	out := wire.ConfigSnapshot{
		Path: snap.Path, Exists: snap.Exists, Valid: snap.Valid, Hash: snap.Hash,
		Parsed: emptyObject, Config: emptyObject,
		Issues: configIssues(snap.Issues), Warnings: configIssues(snap.Warnings), LegacyIssues: []wire.ConfigIssue{},
	}
	if snap.Exists {
		r := string(snap.Raw)
		out.Raw = &r
	}
	// parsed and config in the file's key order with every section, ours
	// or not: a client that edits config and writes it back (config.set)
	// must not lose or reshuffle what it did not touch.
	out.Parsed = snap.ParsedJSON()
	out.Config = snap.ConfigJSON()
	return out
}

var emptyObject = json.RawMessage("{}")

// configIssues are issues as the wire carries them ({path, message}).
func configIssues(is []profiles.Issue) []wire.ConfigIssue {
	out := make([]wire.ConfigIssue, 0, len(is))
	for _, i := range is {
		out = append(out, wire.ConfigIssue{Path: i.Path, Message: i.Message})
	}
	return out
}

func (h *handlers) get(*rpc.Call) (any, *wire.ErrorShape) {
	snap, e := h.d.Store.load()
	if e != nil {
		return nil, e
	}
	return toSnapshot(snap), nil
}

func (h *handlers) set(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ConfigSetParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	st := h.d.Store
	st.mu.Lock()
	defer st.mu.Unlock()
	next, e := st.writeLocked(p.BaseHash, p.Raw, false)
	if e != nil {
		return nil, e
	}
	return wire.ConfigSetResult{OK: true, Path: st.path, Config: next.ConfigJSON()}, nil
}

func (h *handlers) apply(c *rpc.Call, patch bool) (any, *wire.ErrorShape) {
	var p wire.ConfigApplyParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	mode := "config.apply"
	if patch {
		mode = "config.patch"
	}
	st := h.d.Store
	st.mu.Lock()
	defer st.mu.Unlock()
	next, e := st.writeLocked(p.BaseHash, p.Raw, patch)
	if e != nil {
		return nil, e
	}
	var note *string
	if p.Note != "" {
		note = &p.Note
	}
	sent := wire.RestartSentinelPayload{
		Kind: wire.SentinelConfigApply, Status: wire.SentinelOK, TS: h.d.Now().UnixMilli(), SessionKey: p.SessionKey, Message: note,
		DoctorHint: "Run: clawdbot doctor --non-interactive",
		Stats:      map[string]any{"mode": mode, "root": st.path},
	}
	res := wire.ConfigApplyResult{OK: true, Path: st.path, Config: next.ConfigJSON(),
		Sentinel: wire.SentinelInfo{Payload: sent}}
	if path, err := h.d.WriteSentinel(sent); err == nil {
		res.Sentinel.Path = &path
	} else {
		h.d.Log.Warn("write restart sentinel", "err", err)
	}
	delay := int64(2000)
	if p.RestartDelayMs != nil {
		delay = min(max(*p.RestartDelayMs, 0), 60000)
	}
	res.Restart = wire.RestartInfo{OK: false, PID: os.Getpid(), Signal: "SIGUSR1", DelayMs: delay, Reason: mode, Mode: "none"}
	if info, ok := h.d.ScheduleRestart(mode, time.Duration(delay)*time.Millisecond); ok {
		res.Restart = info
	}
	return res, nil
}
