package gateway

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// configMu serialises config writes so two concurrent set/patch calls
// cannot both pass the base-hash check against the same file.
var configMu sync.Mutex

func (s *Server) registerConfigMethods(rt *runtime) {
	rt.register(&method{name: "config.get", handle: s.mConfigGet})
	rt.register(&method{name: "config.set", handle: s.mConfigSet})
	rt.register(&method{name: "config.apply", handle: func(cl *call) (any, *wire.ErrorShape) { return s.mConfigApply(cl, false) }})
	rt.register(&method{name: "config.patch", handle: func(cl *call) (any, *wire.ErrorShape) { return s.mConfigApply(cl, true) }})
}

func (s *Server) loadConfig() (*profiles.Snapshot, *wire.ErrorShape) {
	snap, err := profiles.Load(s.opts.ConfigPath)
	if err != nil {
		return nil, errShape(wire.ErrUnavailable, err.Error())
	}
	return snap, nil
}

// toSnapshot is the config.get result (spec §3.5). A missing or
// unparsable file reports parsed/config as {}; issues carry only
// {path, message}, as the original's do.
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
	if snap.Parsed != nil {
		out.Parsed = mustJSON(snap.Parsed)
	}
	if snap.Config != nil {
		out.Config = mustJSON(snap.Config)
	}
	return out
}

var emptyObject = json.RawMessage("{}")

// mustJSON encodes a value decoded from JSON (or a config struct), which
// always encodes; a failure would be a bug, reported as null rather than a
// dropped response.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return wire.NullPayload
	}
	return b
}

// nonNil keeps an empty issue list a JSON [] in error details.
func nonNil(is []profiles.Issue) []profiles.Issue {
	if is == nil {
		return []profiles.Issue{}
	}
	return is
}

// configIssues are issues as the wire carries them ({path, message}).
func configIssues(is []profiles.Issue) []wire.ConfigIssue {
	out := make([]wire.ConfigIssue, 0, len(is))
	for _, i := range is {
		out = append(out, wire.ConfigIssue{Path: i.Path, Message: i.Message})
	}
	return out
}

func (s *Server) mConfigGet(cl *call) (any, *wire.ErrorShape) {
	snap, e := s.loadConfig()
	if e != nil {
		return nil, e
	}
	return toSnapshot(snap), nil
}

// checkBaseHash is the base-hash guard of spec §3.5.
func checkBaseHash(snap *profiles.Snapshot, base string) *wire.ErrorShape {
	if !snap.Exists {
		return nil
	}
	if snap.Hash == "" {
		return invalid("config base hash unavailable; re-run config.get and retry")
	}
	if base == "" {
		return invalid("config base hash required; re-run config.get and retry")
	}
	if base != snap.Hash {
		return invalid("config changed since last load; re-run config.get and retry")
	}
	return nil
}

// validateAndSave parses raw as a config, refuses it with its issues, else
// writes it atomically.
func (s *Server) validateAndSave(raw []byte) (*profiles.Snapshot, *wire.ErrorShape) {
	next := profiles.ParseConfig(s.opts.ConfigPath, raw, os.Getenv)
	if !next.Valid {
		e := invalid("invalid config")
		if len(next.Issues) == 1 && next.Issues[0].Path == "" {
			e.Message = next.Issues[0].Message // a parse error: the parser's message
		}
		e.Details = map[string]any{"issues": nonNil(next.Issues)}
		return nil, e
	}
	if err := profiles.Save(s.opts.ConfigPath, raw); err != nil {
		return nil, errShape(wire.ErrUnavailable, err.Error())
	}
	return next, nil
}

// writeConfig is the write path shared by config.set, config.apply and
// config.patch (spec §3.5): load the file, check the base hash, take raw as
// the new file (set, apply) or merge it into the current one (patch), then
// validate and save it. The caller holds configMu, so apply/patch keep
// their restart sentinel in step with the file they wrote.
func (s *Server) writeConfig(baseHash, raw string, patch bool) (*profiles.Snapshot, *wire.ErrorShape) {
	snap, e := s.loadConfig()
	if e != nil {
		return nil, e
	}
	if e := checkBaseHash(snap, baseHash); e != nil {
		return nil, e
	}
	next := []byte(raw)
	if patch {
		if next, e = mergeIntoFile(snap, raw); e != nil {
			return nil, e
		}
	}
	return s.validateAndSave(next)
}

// mergeIntoFile applies raw, a JSON merge patch, to the current (valid)
// config file: config.patch's new file.
func mergeIntoFile(snap *profiles.Snapshot, raw string) ([]byte, *wire.ErrorShape) {
	if !strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return nil, invalid("config.patch raw must be an object")
	}
	if !snap.Valid {
		return nil, invalid("invalid config; fix before patching")
	}
	base := snap.Raw
	if !snap.Exists {
		base = []byte("{}")
	}
	merged, err := profiles.MergePatch(base, []byte(raw))
	if err != nil {
		return nil, invalid(err.Error())
	}
	return merged, nil
}

func (s *Server) mConfigSet(cl *call) (any, *wire.ErrorShape) {
	var p wire.ConfigSetParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	configMu.Lock()
	defer configMu.Unlock()
	next, e := s.writeConfig(p.BaseHash, p.Raw, false)
	if e != nil {
		return nil, e
	}
	return wire.ConfigSetResult{OK: true, Path: s.opts.ConfigPath, Config: mustJSON(next.Config)}, nil
}

func (s *Server) mConfigApply(cl *call, patch bool) (any, *wire.ErrorShape) {
	var p wire.ConfigApplyParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	mode := "config.apply"
	if patch {
		mode = "config.patch"
	}
	configMu.Lock()
	defer configMu.Unlock()
	next, e := s.writeConfig(p.BaseHash, p.Raw, patch)
	if e != nil {
		return nil, e
	}
	var note *string
	if p.Note != "" {
		note = &p.Note
	}
	sent := wire.RestartSentinelPayload{
		Kind: wire.SentinelConfigApply, Status: wire.SentinelOK, TS: s.now().UnixMilli(), SessionKey: p.SessionKey, Message: note,
		DoctorHint: "Run: clawdbot doctor --non-interactive",
		Stats:      map[string]any{"mode": mode, "root": s.opts.ConfigPath},
	}
	res := wire.ConfigApplyResult{OK: true, Path: s.opts.ConfigPath, Config: mustJSON(next.Config),
		Sentinel: wire.SentinelInfo{Payload: sent}}
	if path, err := WriteRestartSentinel(s.opts.StateDir, sent); err == nil {
		res.Sentinel.Path = &path
	} else {
		s.callLog.Warn("write restart sentinel", "err", err)
	}
	delay := int64(2000)
	if p.RestartDelayMs != nil {
		delay = min(max(*p.RestartDelayMs, 0), 60000)
	}
	res.Restart = wire.RestartInfo{OK: false, PID: os.Getpid(), Signal: "SIGUSR1", DelayMs: delay, Reason: mode, Mode: "none"}
	if s.opts.ScheduleRestart != nil {
		res.Restart = s.opts.ScheduleRestart(mode, time.Duration(delay)*time.Millisecond)
	}
	return res, nil
}
