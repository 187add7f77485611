package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

// The agent runtime's wiring: the adapters that give the agent feature the
// session store (agent.Sessions) and give the sessions feature the
// runner's abort (sessionstore.RunAborter). Features never import each
// other; the core translates between them here.

// historyLimit bounds the messages of one transcript a turn is built
// from: far above any conversation a model's context holds.
const historyLimit = 1 << 20

// agentSessions is agent.Sessions over the session store.
type agentSessions struct{ st *sessionstore.Store }

var _ agent.Sessions = agentSessions{}

func (a agentSessions) Canonical(key string) (string, string) {
	t := a.st.Target(key)
	return t.Key, t.AgentID
}

// Resolve is the session of a new turn: the store's Resolve, which writes
// only a created session or one rotated because it was stale by the reset
// policy (doc/messaging.md §3.5). A fresh session is not written here: its
// updatedAt moves with the run's own update (Update touches it), so the
// chat.send ack never waits for a store write.
func (a agentSessions) Resolve(key string) (agent.Session, error) {
	e, _, err := a.st.Resolve(key)
	if err != nil {
		return agent.Session{}, err
	}
	return a.session(key, e), nil
}

func (a agentSessions) Lookup(key string) (agent.Session, bool, error) {
	e, ok := a.st.Get(key)
	if !ok {
		return agent.Session{}, false, nil
	}
	return a.session(key, e), true, nil
}

// Update applies u to an existing entry under the store's lock; a missing
// one (deleted while the run went on) is agent.ErrSessionNotFound and is
// not recreated.
func (a agentSessions) Update(key string, u agent.SessionUpdate) error {
	cfg := a.st.Config()
	now := a.st.Now().UnixMilli()
	return a.st.UpdateAll(key, func(t sessionstore.Target, entries map[string]*sessionstore.Entry) error {
		for _, k := range t.StoreKeys {
			if e := entries[k]; e != nil {
				applyUpdate(e, u, cfg)
				e.UpdatedAt = now
				return nil
			}
		}
		return agent.ErrSessionNotFound
	})
}

// applyUpdate writes u into e as the original's session-store updates do
// (doc/messaging.md §3.3).
func applyUpdate(e *sessionstore.Entry, u agent.SessionUpdate, cfg sessionstore.Config) {
	if u.ThinkingLevel != nil {
		e.ThinkingLevel = *u.ThinkingLevel
	}
	if u.VerboseLevel != nil {
		e.VerboseLevel = *u.VerboseLevel
	}
	if u.QueueMode != nil {
		e.QueueMode = *u.QueueMode
	}
	if u.ModelOverride != nil {
		e.ProviderOverride, e.ModelOverride = "", ""
		if p, m, ok := strings.Cut(*u.ModelOverride, "/"); ok && p != "" && m != "" {
			e.ProviderOverride, e.ModelOverride = p, m
		} else {
			e.ModelOverride = *u.ModelOverride
		}
	}
	if u.AbortedLastRun != nil {
		e.AbortedLastRun = sessionstore.Bool(*u.AbortedLastRun)
	}
	if u.Model != "" {
		e.Model, e.ModelProvider = u.Model, u.ModelProvider
	}
	if us := u.Usage; us != nil {
		// totalTokens is the prompt size (input + cache), not input+output.
		e.InputTokens, e.OutputTokens = sessionstore.Int(us.Input), sessionstore.Int(us.Output)
		e.TotalTokens = sessionstore.Int(us.Input + us.CacheRead + us.CacheWrite)
	}
	switch {
	case u.ContextTokens > 0:
		e.ContextTokens = sessionstore.Int(u.ContextTokens)
	case e.ContextTokens == nil && (u.Model != "" || u.Usage != nil):
		ct := cfg.ContextTokens
		if ct <= 0 {
			ct = sessionstore.DefaultContextTokens
		}
		e.ContextTokens = sessionstore.Int(ct)
	}
	if ch := u.Channel; ch != "" {
		e.LastChannel = ch
		var dc map[string]json.RawMessage
		if json.Unmarshal(e.DeliveryContext, &dc) != nil || dc == nil {
			dc = map[string]json.RawMessage{}
		}
		if b, _ := json.Marshal(ch); string(dc["channel"]) != string(b) {
			e.DeliveryContext, _ = json.Marshal(map[string]string{"channel": ch})
		}
		if ch == "webchat" {
			// A chat.send turn is a direct chat of the webchat surface.
			if e.ChatType == "" {
				e.ChatType = "direct"
			}
			if len(e.Origin) == 0 {
				e.Origin = json.RawMessage(`{"provider":"webchat","surface":"webchat","chatType":"direct"}`)
			}
		}
	}
	if u.SystemSent {
		e.SystemSent = sessionstore.Bool(true)
	}
}

// Reset gives key a new session id, keeping its settings (/new, /reset).
func (a agentSessions) Reset(key string) (agent.Session, error) {
	now := a.st.Now()
	e, err := a.st.Update(key, func(e *sessionstore.Entry) error {
		*e = sessionstore.Rotated(*e, now)
		return nil
	})
	if err != nil {
		return agent.Session{}, err
	}
	return a.session(key, e), nil
}

// Append writes m to the session's transcript (creating it with its
// header), O(1). An injected message (chat.inject, replies without a run)
// is written without a parent and only into an existing transcript, as the
// original's chat.inject.
func (a agentSessions) Append(s agent.Session, m llm.Message) (string, error) {
	e, ok := a.st.Get(s.Key)
	if !ok {
		return "", agent.ErrSessionNotFound
	}
	injected := m.StopReason == llm.StopInjected
	if injected {
		t := a.st.Target(s.Key)
		if a.st.FindTranscript(t, sessionstore.Entry{SessionID: s.SessionID, SessionFile: sessionFileOf(e, s.SessionID)}) == "" {
			return "", agent.ErrNoTranscript
		}
	}
	return a.st.Append(s.Key, s.SessionID, sessionstore.Record{Message: &m, NoParent: injected})
}

// History is the conversation of s's transcript, oldest first (none when
// it has no transcript yet).
func (a agentSessions) History(s agent.Session) ([]llm.Message, error) {
	if s.SessionID == "" {
		return nil, nil
	}
	t := a.st.Target(s.Key)
	e, _ := a.st.Get(s.Key)
	p := a.st.FindTranscript(t, sessionstore.Entry{SessionID: s.SessionID, SessionFile: sessionFileOf(e, s.SessionID)})
	if p == "" {
		return nil, nil
	}
	return sessionstore.ReadMessages(p, historyLimit)
}

// sessionFileOf is e's sessionFile when it belongs to sessionID.
func sessionFileOf(e sessionstore.Entry, sessionID string) string {
	if e.SessionID == sessionID {
		return e.SessionFile
	}
	return ""
}

// session is the runtime's view of entry e of key.
func (a agentSessions) session(key string, e sessionstore.Entry) agent.Session {
	t := a.st.Target(key)
	s := agent.Session{
		Key: t.Key, AgentID: t.AgentID, SessionID: e.SessionID,
		ThinkingLevel: e.ThinkingLevel, VerboseLevel: e.VerboseLevel, QueueMode: e.QueueMode, SendPolicy: e.SendPolicy,
		AbortedLastRun: sessionstore.Flag(e.AbortedLastRun), Model: e.Model, ModelProvider: e.ModelProvider,
		InputTokens: deref64(e.InputTokens), OutputTokens: deref64(e.OutputTokens), TotalTokens: deref64(e.TotalTokens),
		ContextTokens: deref64(e.ContextTokens), UpdatedAt: e.UpdatedAt,
	}
	switch {
	case e.ModelOverride != "" && e.ProviderOverride != "":
		s.ModelOverride = e.ProviderOverride + "/" + e.ModelOverride
	case e.ModelOverride != "":
		s.ModelOverride = e.ModelOverride
	}
	return s
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// runAborter is sessionstore.RunAborter over the runner: abort, then wait
// (polling, bounded by ctx) until the session's runs have unwound.
type runAborter struct{ r *agent.Runner }

func (a runAborter) AbortSession(ctx context.Context, sessionKey, _ string) bool {
	a.r.AbortSession(sessionKey)
	wait := time.Millisecond
	for !a.r.Idle(sessionKey) {
		select {
		case <-ctx.Done():
			return a.r.Idle(sessionKey)
		case <-time.After(wait):
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
	return true
}

// isConfigErr reports a KindConfig *llm.Error.
func isConfigErr(err error) (*llm.Error, bool) {
	var le *llm.Error
	if errors.As(err, &le) && le.Kind == llm.KindConfig {
		return le, true
	}
	return nil, false
}

// defaultModelOf is status's sessions.defaults: the default agent's
// primary model as the resolver picks it (a config error still names the
// model it could not use), else the session config's (the original's
// claude-opus-4-5 when nothing is configured); contextTokens is
// agents.defaults.contextTokens, else the model's window, else 200000.
func defaultModelOf(r llm.Resolver, st *sessionstore.Store) func() (string, int64) {
	return func() (string, int64) {
		cfg := st.Config()
		model, window := cfg.Model, int64(0)
		sel, err := r.Resolve(cfg.DefaultAgentID(), "")
		if le, ok := isConfigErr(err); ok && le.Model != "" {
			model = le.Model
		} else if err == nil && sel.Primary.Model != "" {
			model, window = sel.Primary.Model, int64(sel.ContextWindow)
		}
		ct := cfg.ContextTokens
		if ct <= 0 {
			ct = window
		}
		if ct <= 0 {
			ct = sessionstore.DefaultContextTokens
		}
		return model, ct
	}
}
