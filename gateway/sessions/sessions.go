// Package sessions answers the session methods (sessions.list, .preview,
// .resolve, .patch, .reset, .delete, .compact) and chat.history over the
// session store (gateway/sessionstore), with the original's params,
// result shapes and error messages (doc/messaging.md §1.6, §1.11).
package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// ModelResolver checks a model a session is patched to ("provider/model"
// or an alias) and returns what to store.
type ModelResolver interface {
	ResolveModel(raw string) (provider, model string, err error)
}

// Deps is what the session methods need.
type Deps struct {
	Store *sessionstore.Store
	// Aborter stops a session's turns before sessions.delete; nil when no
	// agent runtime is wired (nothing can be running).
	Aborter sessionstore.RunAborter
	// Models validates sessions.patch model; nil answers the original's
	// UNAVAILABLE "model catalog unavailable".
	Models ModelResolver
	// HistoryMaxBytes caps chat.history's messages JSON (0: 6 MiB, the
	// original's default).
	HistoryMaxBytes int
	// AbortWait bounds the wait for a running turn in sessions.delete (0:
	// 15 s, the original's).
	AbortWait time.Duration
}

// Register adds the session methods and chat.history to reg.
func Register(reg *rpc.Registry, d Deps) { register(reg, d) }

func register(reg *rpc.Registry, d Deps) *handlers {
	h := &handlers{d: d}
	reg.Handle("sessions.list", h.list)
	reg.Handle("sessions.preview", h.preview)
	reg.Handle("sessions.resolve", h.resolve)
	reg.Handle("sessions.patch", h.patch)
	reg.Handle("sessions.reset", h.reset)
	reg.HandleAsync("sessions.delete", h.delete)
	reg.Handle("sessions.compact", h.compact)
	reg.Handle("chat.history", h.history)
	return h
}

type handlers struct {
	d     Deps
	cache rowCache
}

func (h *handlers) now() time.Time { return h.d.Store.Now() }

func entryJSON(e sessionstore.Entry) json.RawMessage {
	b, _ := e.MarshalJSON()
	return b
}

func (h *handlers) reset(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SessionKeyParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	key := strings.TrimSpace(p.Key)
	if key == "" {
		return nil, rpc.Invalid("key required")
	}
	now := h.now()
	t := h.d.Store.Target(key)
	e, err := h.d.Store.Update(key, func(e *sessionstore.Entry) error {
		// sessions.reset keeps only these (d:gateway/server-methods/sessions.js).
		old := *e
		*e = sessionstore.Entry{
			SessionID: sessionstore.NewSessionID(), UpdatedAt: now.UnixMilli(),
			SystemSent: sessionstore.Bool(false), AbortedLastRun: sessionstore.Bool(false),
			ThinkingLevel: old.ThinkingLevel, VerboseLevel: old.VerboseLevel, ReasoningLevel: old.ReasoningLevel,
			ResponseUsage: old.ResponseUsage, Model: old.Model, ContextTokens: old.ContextTokens,
			SendPolicy: old.SendPolicy, Label: old.Label, Origin: snapshotOrigin(old),
			LastChannel: old.LastChannel, LastTo: old.LastTo,
			InputTokens: sessionstore.Int(0), OutputTokens: sessionstore.Int(0), TotalTokens: sessionstore.Int(0),
		}
		if s := old.ExtraField("skillsSnapshot"); s != nil {
			e.SetExtra("skillsSnapshot", s)
		}
		return nil
	})
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return wire.SessionsResetResult{OK: true, Key: t.Key, Entry: entryJSON(e)}, nil
}

// snapshotOrigin is the original's snapshotSessionOrigin: the stored
// origin, else one built from the entry's channel fields, else none.
func snapshotOrigin(e sessionstore.Entry) json.RawMessage {
	if len(e.Origin) > 0 {
		return e.Origin
	}
	return nil
}

func (h *handlers) delete(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SessionsDeleteParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	key := strings.TrimSpace(p.Key)
	if key == "" {
		return nil, rpc.Invalid("key required")
	}
	cfg := h.d.Store.Config()
	mainKey := cfg.MainKey()
	t := h.d.Store.Target(key)
	if t.Key == mainKey {
		return nil, rpc.Invalid(fmt.Sprintf("Cannot delete the main session (%s).", mainKey))
	}
	cur, _ := h.d.Store.Get(key)
	if cur.SessionID != "" && h.d.Aborter != nil {
		wait := h.d.AbortWait
		if wait <= 0 {
			wait = 15 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		idle := h.d.Aborter.AbortSession(ctx, t.Key, cur.SessionID)
		cancel()
		if !idle {
			return nil, rpc.Unavailable(fmt.Sprintf("Session %s is still active; try again in a moment.", key))
		}
	}
	old, existed, err := h.d.Store.Delete(key)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	archived := []string{}
	if (p.DeleteTranscript == nil || *p.DeleteTranscript) && old.SessionID != "" {
		for _, path := range h.d.Store.TranscriptCandidates(t, old) {
			if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
				continue
			}
			if a, err := archive(path, "deleted", h.now()); err == nil {
				h.d.Store.ForgetTranscript(path)
				archived = append(archived, a)
			}
		}
	}
	return wire.SessionsDeleteResult{OK: true, Key: t.Key, Deleted: existed, Archived: archived}, nil
}

// archive renames path to <path>.<reason>.<ISO time with ':' as '-'>.
func archive(path, reason string, now time.Time) (string, error) {
	to := path + "." + reason + "." + strings.ReplaceAll(sessionstore.ISOTime(now), ":", "-")
	return to, os.Rename(path, to)
}

// maxCompactBytes bounds the transcript sessions.compact reads whole.
const maxCompactBytes = 512 << 20

func (h *handlers) compact(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SessionsCompactParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	key := strings.TrimSpace(p.Key)
	if key == "" {
		return nil, rpc.Invalid("key required")
	}
	maxLines := int64(400)
	if p.MaxLines != nil {
		maxLines = max(1, *p.MaxLines)
	}
	t := h.d.Store.Target(key)
	res := wire.SessionsCompactResult{OK: true, Key: t.Key}
	e, ok := h.d.Store.Get(key)
	if !ok || e.SessionID == "" {
		res.Reason = "no sessionId"
		return res, nil
	}
	path := h.d.Store.FindTranscript(t, e)
	if path == "" {
		res.Reason = "no transcript"
		return res, nil
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() > maxCompactBytes {
		return nil, rpc.Unavailable(fmt.Sprintf("transcript %s is too large to compact here (over %d MiB)", path, maxCompactBytes>>20))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	var lines []string
	for l := range strings.SplitSeq(string(raw), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if int64(len(lines)) <= maxLines {
		n := int64(len(lines))
		res.Kept = &n
		return res, nil
	}
	// As the original: the old file is kept as <file>.bak.<ts> and the
	// last maxLines lines (possibly without the header) written anew.
	kept := lines[int64(len(lines))-maxLines:]
	archived, err := archive(path, "bak", h.now())
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	h.d.Store.ForgetTranscript(path)
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	now := h.now().UnixMilli()
	_, _ = h.d.Store.Update(key, func(e *sessionstore.Entry) error {
		e.InputTokens, e.OutputTokens, e.TotalTokens = nil, nil, nil
		e.UpdatedAt = now
		return nil
	})
	n := int64(len(kept))
	res.Compacted, res.Archived, res.Kept = true, archived, &n
	return res, nil
}

func (h *handlers) resolve(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SessionsResolveParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	key, sid, label := strings.TrimSpace(p.Key), strings.TrimSpace(p.SessionID), strings.TrimSpace(p.Label)
	n := 0
	for _, s := range []string{key, sid, label} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, rpc.Invalid("Provide either key, sessionId, or label (not multiple)")
	case n == 0:
		return nil, rpc.Invalid("Either key, sessionId, or label is required")
	case key != "":
		if _, ok := h.d.Store.Get(key); !ok {
			return nil, rpc.Invalid("No session found: " + key)
		}
		return wire.SessionsKeyResult{OK: true, Key: h.d.Store.Target(key).Key}, nil
	}
	opts := listOpts{includeGlobal: flag(p.IncludeGlobal), includeUnknown: flag(p.IncludeUnknown), spawnedBy: p.SpawnedBy, agentID: p.AgentID}
	what := sid
	if sid != "" {
		opts.search = strings.ToLower(sid)
	} else {
		opts.label, what = label, label
	}
	opts.limit = 8
	rows := h.rows(opts)
	var keys []string
	for _, r := range rows {
		if sid == "" || r.entry.SessionID == sid || r.key == sid {
			keys = append(keys, r.key)
		}
	}
	switch {
	case len(keys) == 0:
		return nil, rpc.Invalid("No session found: " + what)
	case len(keys) > 1 && sid != "":
		return nil, rpc.Invalid(fmt.Sprintf("Multiple sessions found for sessionId: %s (%s)", sid, strings.Join(keys, ", ")))
	case len(keys) > 1:
		return nil, rpc.Invalid(fmt.Sprintf("Multiple sessions found for label: %s (%s)", label, strings.Join(keys, ", ")))
	}
	return wire.SessionsKeyResult{OK: true, Key: keys[0]}, nil
}

func flag(p *bool) bool { return p != nil && *p }

// levels accepted by sessions.patch, normalised as the original's
// normalizers do (lowercase, trimmed; a few aliases).
var (
	thinkingLevels = map[string]string{"off": "off", "minimal": "minimal", "min": "minimal", "low": "low", "on": "low",
		"medium": "medium", "med": "medium", "high": "high", "max": "high", "xhigh": "xhigh"}
	onOff      = map[string]string{"on": "on", "off": "off", "full": "full"}
	reasoning  = map[string]string{"on": "on", "off": "off", "stream": "stream"}
	usage      = map[string]string{"off": "off", "tokens": "tokens", "full": "full", "on": "full"}
	elevated   = map[string]string{"on": "on", "off": "off", "ask": "ask", "full": "full"}
	execHosts  = map[string]string{"sandbox": "sandbox", "gateway": "gateway", "node": "node"}
	execSec    = map[string]string{"deny": "deny", "allowlist": "allowlist", "full": "full"}
	execAsk    = map[string]string{"off": "off", "on-miss": "on-miss", "always": "always"}
	sendPolicy = map[string]string{"allow": "allow", "deny": "deny"}
	activation = map[string]string{"mention": "mention", "always": "always"}
)

// setting applies one Nullable: null clears, a value must normalise
// through allowed (nil: any non-empty string), "off" clears when offClears.
func setting(n wire.Nullable, field *string, allowed map[string]string, offClears bool, bad string) *wire.ErrorShape {
	if !n.Set {
		return nil
	}
	if n.Null {
		*field = ""
		return nil
	}
	v := strings.TrimSpace(n.Value)
	if allowed != nil {
		norm, ok := allowed[strings.ToLower(v)]
		if !ok {
			return rpc.Invalid(bad)
		}
		v = norm
	} else if v == "" {
		return rpc.Invalid(bad)
	}
	if offClears && v == "off" {
		v = ""
	}
	*field = v
	return nil
}

func (h *handlers) patch(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SessionsPatchParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	key := strings.TrimSpace(p.Key)
	if key == "" {
		return nil, rpc.Invalid("key required")
	}
	var es *wire.ErrorShape
	now := h.now().UnixMilli()
	cfg := h.d.Store.Config()
	var out sessionstore.Entry
	var target sessionstore.Target
	err := h.d.Store.UpdateAll(key, func(t sessionstore.Target, all map[string]*sessionstore.Entry) error {
		target = t
		primary := t.StoreKeys[0]
		for _, k := range t.StoreKeys[1:] {
			if all[k] != nil && all[primary] == nil {
				all[primary] = all[k]
				delete(all, k)
			}
		}
		existing := all[primary]
		var next sessionstore.Entry
		if existing != nil {
			next = existing.Clone()
			next.UpdatedAt = max(next.UpdatedAt, now)
		} else {
			next = sessionstore.Entry{SessionID: sessionstore.NewSessionID(), UpdatedAt: now}
		}
		if es = applyPatch(&p, &next, existing, primary, all, cfg, h.d.Models); es != nil {
			return es
		}
		all[primary] = &next
		out = next
		return nil
	})
	if es != nil {
		return nil, es
	}
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return wire.SessionsPatchResult{OK: true, Path: target.StorePath, Key: target.Key, Entry: entryJSON(out)}, nil
}

func applyPatch(p *wire.SessionsPatchParams, next, existing *sessionstore.Entry, primary string, all map[string]*sessionstore.Entry, cfg sessionstore.Config, models ModelResolver) *wire.ErrorShape {
	if p.SpawnedBy.Set {
		switch {
		case p.SpawnedBy.Null:
			if existing != nil && existing.SpawnedBy != "" {
				return rpc.Invalid("spawnedBy cannot be cleared once set")
			}
		default:
			v := strings.TrimSpace(p.SpawnedBy.Value)
			_, rest, _ := sessionstore.ParseAgentKey(primary)
			switch {
			case v == "":
				return rpc.Invalid("invalid spawnedBy: empty")
			case !strings.HasPrefix(strings.ToLower(primary), "subagent:") && !strings.HasPrefix(strings.ToLower(rest), "subagent:"):
				return rpc.Invalid("spawnedBy is only supported for subagent:* sessions")
			case existing != nil && existing.SpawnedBy != "" && existing.SpawnedBy != v:
				return rpc.Invalid("spawnedBy cannot be changed once set")
			}
			next.SpawnedBy = v
		}
	}
	if l := p.Label.Nullable; l.Set {
		if l.Null {
			next.Label = ""
		} else {
			v := strings.TrimSpace(l.Value)
			if v == "" {
				return rpc.Invalid("invalid label: empty")
			}
			if len([]rune(v)) > 64 {
				return rpc.Invalid("invalid label: too long (max 64)")
			}
			for k, e := range all {
				if k != primary && e.Label == v {
					return rpc.Invalid("label already in use: " + v)
				}
			}
			next.Label = v
		}
	}
	for _, s := range []struct {
		n         wire.Nullable
		field     *string
		allowed   map[string]string
		offClears bool
		bad       string
	}{
		{p.ThinkingLevel, &next.ThinkingLevel, thinkingLevels, true, "invalid thinkingLevel (use off|minimal|low|medium|high)"},
		{p.VerboseLevel, &next.VerboseLevel, onOff, false, `invalid verboseLevel (use "on"|"off"|"full")`},
		{p.ReasoningLevel, &next.ReasoningLevel, reasoning, true, `invalid reasoningLevel (use "on"|"off"|"stream")`},
		{p.ResponseUsage, &next.ResponseUsage, usage, true, `invalid responseUsage (use "off"|"tokens"|"full")`},
		{p.ElevatedLevel, &next.ElevatedLevel, elevated, false, `invalid elevatedLevel (use "on"|"off"|"ask"|"full")`},
		{p.ExecHost, &next.ExecHost, execHosts, false, `invalid execHost (use "sandbox"|"gateway"|"node")`},
		{p.ExecSecurity, &next.ExecSecurity, execSec, false, `invalid execSecurity (use "deny"|"allowlist"|"full")`},
		{p.ExecAsk, &next.ExecAsk, execAsk, false, `invalid execAsk (use "off"|"on-miss"|"always")`},
		{p.ExecNode, &next.ExecNode, nil, false, "invalid execNode: empty"},
		{p.SendPolicy, &next.SendPolicy, sendPolicy, false, `invalid sendPolicy (use "allow"|"deny")`},
		{p.GroupActivation, &next.GroupActivation, activation, false, `invalid groupActivation (use "mention"|"always")`},
	} {
		if e := setting(s.n, s.field, s.allowed, s.offClears, s.bad); e != nil {
			return e
		}
	}
	if p.Model.Set {
		if p.Model.Null {
			next.ModelOverride, next.ProviderOverride = "", ""
		} else {
			v := strings.TrimSpace(p.Model.Value)
			if v == "" {
				return rpc.Invalid("invalid model: empty")
			}
			if models == nil {
				return rpc.Unavailable("model catalog unavailable")
			}
			prov, model, err := models.ResolveModel(v)
			if err != nil {
				return rpc.Invalid(err.Error())
			}
			if prov == cfg.ModelProvider && model == cfg.Model {
				next.ModelOverride, next.ProviderOverride = "", ""
			} else {
				next.ModelOverride, next.ProviderOverride = model, prov
			}
		}
	}
	return nil
}
