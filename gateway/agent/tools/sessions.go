//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim, and they start with a capital and end with a period there

package tools

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// The session tools of the original (tools/sessions-*.js,
// session-status-tool.js) over the session store and the runner.

// mainKeys are the key the session tools show as "main" and its alias.
func mainKeys(doc map[string]any) (mainKey, alias string) {
	mk := strings.ToLower(str(obj(doc, "session"), "mainKey"))
	if mk == "" {
		mk = "main"
	}
	if str(obj(doc, "session"), "scope") == "global" {
		return mk, "global"
	}
	return mk, sessionstore.AgentMainKey(defaultAgentID(doc), mk)
}

func defaultAgentID(doc map[string]any) string {
	list, _ := obj(doc, "agents")["list"].([]any)
	first := ""
	for _, v := range list {
		m, _ := v.(map[string]any)
		id := str(m, "id")
		if id == "" {
			continue
		}
		if first == "" {
			first = id
		}
		if boolean(m, "default") {
			return sessionstore.NormalizeAgentID(id)
		}
	}
	if first != "" {
		return sessionstore.NormalizeAgentID(first)
	}
	return "main"
}

func displayKey(key, mainKey, alias string) string {
	if key == alias || key == mainKey {
		return "main"
	}
	return key
}

func internalKey(key, alias string) string {
	if key == "main" {
		return alias
	}
	return key
}

func agentOfKey(key string) string {
	if id, _, ok := sessionstore.ParseAgentKey(key); ok {
		return id
	}
	return "main"
}

// a2aAllowed is createAgentToAgentPolicy().isAllowed.
func a2aAllowed(doc map[string]any, from, to string) bool {
	if from == to {
		return true
	}
	a := obj(obj(doc, "tools"), "agentToAgent")
	if !boolean(a, "enabled") {
		return false
	}
	allow, _ := strList(a, "allow")
	match := func(id string) bool {
		if len(allow) == 0 {
			return true
		}
		for _, p := range allow {
			if p == "*" || p == id {
				return true
			}
			if strings.Contains(p, "*") {
				re, err := regexp.Compile("(?i)^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*") + "$")
				if err == nil && re.MatchString(id) {
					return true
				}
			}
		}
		return false
	}
	return match(from) && match(to)
}

func classifyKind(key, mainKey, alias string) string {
	switch {
	case key == alias || key == mainKey:
		return "main"
	case strings.HasPrefix(key, "cron:"):
		return "cron"
	case strings.HasPrefix(key, "hook:"):
		return "hook"
	case strings.HasPrefix(key, "node-"), strings.HasPrefix(key, "node:"):
		return "node"
	case strings.Contains(key, ":group:"), strings.Contains(key, ":channel:"):
		return "group"
	}
	return "other"
}

func stripToolMessages(ms []llm.Message) []llm.Message {
	out := []llm.Message{}
	for _, m := range ms {
		if m.Role != llm.RoleToolResult {
			out = append(out, m)
		}
	}
	return out
}

func sessionsListTool(store SessionStore) Tool {
	return Func(llm.Tool{Name: "sessions_list", Description: "List sessions with optional filters and last messages.",
		Parameters: schemaJSON(`{"type":"object","properties":{"kinds":{"type":"array","items":{"type":"string"}},"limit":{"type":"number","minimum":1},"activeMinutes":{"type":"number","minimum":1},"messageLimit":{"type":"number","minimum":0}}}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a struct {
				Kinds         []string `json:"kinds"`
				Limit         *float64 `json:"limit"`
				ActiveMinutes *float64 `json:"activeMinutes"`
				MessageLimit  float64  `json:"messageLimit"`
			}
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			mainKey, alias := mainKeys(c.Doc)
			kinds := map[string]bool{}
			for _, k := range a.Kinds {
				k = strings.ToLower(strings.TrimSpace(k))
				switch k {
				case "main", "group", "cron", "hook", "node", "other":
					kinds[k] = true
				}
			}
			msgLimit := min(max(int(a.MessageLimit), 0), 20)
			rows, _ := store.List(nil)
			now := time.Now().UnixMilli()
			me := agentOfKey(c.Session.Key)
			out := []map[string]any{}
			for _, row := range rows {
				key := row.Key
				if key == "" || key == "unknown" || (key == "global" && alias != "global") {
					continue
				}
				if !a2aAllowed(c.Doc, me, agentOfKey(key)) {
					continue
				}
				if a.ActiveMinutes != nil && now-row.Entry.UpdatedAt > int64(*a.ActiveMinutes)*60_000 {
					continue
				}
				kind := classifyKind(key, mainKey, alias)
				if len(kinds) > 0 && !kinds[kind] {
					continue
				}
				if a.Limit != nil && len(out) >= max(int(*a.Limit), 1) {
					break
				}
				e := row.Entry
				ch := "unknown"
				switch {
				case kind == "cron" || kind == "hook" || kind == "node":
					ch = "internal"
				case e.Channel != "":
					ch = strings.ToLower(e.Channel)
				case e.LastChannel != "":
					ch = strings.ToLower(e.LastChannel)
				}
				r := map[string]any{"key": displayKey(key, mainKey, alias), "kind": kind, "channel": ch}
				put := func(k string, v any, ok bool) {
					if ok {
						r[k] = v
					}
				}
				put("label", e.Label, e.Label != "")
				put("displayName", e.DisplayName, e.DisplayName != "")
				put("updatedAt", e.UpdatedAt, e.UpdatedAt != 0)
				put("sessionId", e.SessionID, e.SessionID != "")
				put("model", e.Model, e.Model != "")
				put("contextTokens", e.ContextTokens, e.ContextTokens != nil)
				put("totalTokens", e.TotalTokens, e.TotalTokens != nil)
				put("thinkingLevel", e.ThinkingLevel, e.ThinkingLevel != "")
				put("verboseLevel", e.VerboseLevel, e.VerboseLevel != "")
				put("systemSent", e.SystemSent, e.SystemSent != nil)
				put("abortedLastRun", e.AbortedLastRun, e.AbortedLastRun != nil)
				put("sendPolicy", e.SendPolicy, e.SendPolicy != "")
				put("lastChannel", e.LastChannel, e.LastChannel != "")
				put("lastTo", e.LastTo, e.LastTo != "")
				put("lastAccountId", e.LastAccountID, e.LastAccountID != "")
				if msgLimit > 0 {
					ms, _ := store.SessionMessages(key, msgLimit)
					ms = stripToolMessages(ms)
					if len(ms) > msgLimit {
						ms = ms[len(ms)-msgLimit:]
					}
					r["messages"] = ms
				}
				out = append(out, r)
			}
			return JSONResult(map[string]any{"count": len(out), "sessions": out}), nil
		})
}

func sessionsHistoryTool(store SessionStore) Tool {
	return Func(llm.Tool{Name: "sessions_history", Description: "Fetch message history for a session.",
		Parameters: schemaJSON(`{"type":"object","properties":{"sessionKey":{"type":"string"},"limit":{"type":"number","minimum":1},"includeTools":{"type":"boolean"}},"required":["sessionKey"]}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a struct {
				SessionKey   string   `json:"sessionKey"`
				Limit        *float64 `json:"limit"`
				IncludeTools bool     `json:"includeTools"`
			}
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			if strings.TrimSpace(a.SessionKey) == "" {
				return agent.ToolResult{}, fmt.Errorf("sessionKey required")
			}
			_, alias := mainKeys(c.Doc)
			key := internalKey(strings.TrimSpace(a.SessionKey), alias)
			if !a2aAllowed(c.Doc, agentOfKey(c.Session.Key), agentOfKey(key)) {
				return JSONResult(map[string]any{"status": "forbidden", "error": "Agent-to-agent history is disabled. Set tools.agentToAgent.enabled=true to allow cross-agent access."}), nil
			}
			limit := 200
			if a.Limit != nil {
				limit = max(int(*a.Limit), 1)
			}
			ms, err := store.SessionMessages(key, limit)
			if err != nil {
				return agent.ToolResult{}, err
			}
			if !a.IncludeTools {
				ms = stripToolMessages(ms)
			}
			if ms == nil {
				ms = []llm.Message{}
			}
			return JSONResult(map[string]any{"sessionKey": a.SessionKey, "messages": ms}), nil
		})
}

// sessionsSendTool runs a turn in another session through the runner and
// waits for its reply (timeoutSeconds, default 30; 0: do not wait).
func sessionsSendTool(sessions agent.Sessions, runner TurnRunner, _ func(string, ...any)) Tool {
	return Func(llm.Tool{Name: "sessions_send", Description: "Send a message into another session. Use sessionKey or label to identify the target.",
		Parameters: schemaJSON(`{"type":"object","properties":{"sessionKey":{"type":"string"},"label":{"type":"string"},"agentId":{"type":"string"},"message":{"type":"string"},"timeoutSeconds":{"type":"number","minimum":0}},"required":["message"]}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a struct {
				SessionKey     string   `json:"sessionKey"`
				Label          string   `json:"label"`
				Message        string   `json:"message"`
				TimeoutSeconds *float64 `json:"timeoutSeconds"`
			}
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			runID := wire.NewID()
			if strings.TrimSpace(a.SessionKey) == "" {
				if a.Label != "" {
					return JSONResult(map[string]any{"runId": runID, "status": "error", "error": "sessions_send by label is not available in this build; use sessionKey"}), nil
				}
				return agent.ToolResult{}, fmt.Errorf("sessionKey required")
			}
			mainKey, alias := mainKeys(c.Doc)
			key := internalKey(strings.TrimSpace(a.SessionKey), alias)
			canon, _ := sessions.Canonical(key)
			shown := displayKey(canon, mainKey, alias)
			if canon == c.Session.Key {
				// The caller's own session lane is held by this run: a
				// send to it would wait on itself.
				return JSONResult(map[string]any{"runId": runID, "status": "error", "error": "sessions_send cannot target the current session", "sessionKey": shown}), nil
			}
			from, to := agentOfKey(c.Session.Key), agentOfKey(canon)
			if from != to {
				if !boolean(obj(obj(c.Doc, "tools"), "agentToAgent"), "enabled") {
					return JSONResult(map[string]any{"runId": runID, "status": "forbidden", "error": "Agent-to-agent messaging is disabled. Set tools.agentToAgent.enabled=true to allow cross-agent sends.", "sessionKey": shown}), nil
				}
				if !a2aAllowed(c.Doc, from, to) {
					return JSONResult(map[string]any{"runId": runID, "status": "forbidden", "error": "Agent-to-agent messaging denied by tools.agentToAgent.allow.", "sessionKey": shown}), nil
				}
			}
			s, err := sessions.Resolve(canon)
			if err != nil {
				return JSONResult(map[string]any{"runId": runID, "status": "error", "error": err.Error(), "sessionKey": shown}), nil
			}
			timeout := 30 * time.Second
			if a.TimeoutSeconds != nil {
				timeout = time.Duration(max(int(*a.TimeoutSeconds), 0)) * time.Second
			}
			turn := agent.Turn{RunID: runID, Session: s, Message: a.Message, Lane: "nested", Channel: "internal"}
			if timeout == 0 {
				go runner.Run(context.WithoutCancel(ctx), turn)
				return JSONResult(map[string]any{"runId": runID, "status": "accepted", "sessionKey": shown}), nil
			}
			turn.Timeout = timeout
			out := runner.Run(ctx, turn)
			switch {
			case out.TimedOut:
				return JSONResult(map[string]any{"runId": runID, "status": "timeout", "error": fmt.Sprintf("agent run timed out after %s", timeout), "sessionKey": shown}), nil
			case out.Err != nil:
				return JSONResult(map[string]any{"runId": runID, "status": "error", "error": out.Err.Message, "sessionKey": shown}), nil
			}
			var texts []string
			for _, p := range out.Payloads {
				if p.Text != "" {
					texts = append(texts, p.Text)
				}
			}
			res := map[string]any{"runId": runID, "status": "ok", "sessionKey": shown}
			if len(texts) > 0 {
				res["reply"] = strings.Join(texts, "\n\n")
			}
			return JSONResult(res), nil
		})
}

func sessionStatusTool(store SessionStore, sessions agent.Sessions) Tool {
	return Func(llm.Tool{Name: "session_status",
		Description: "Show a /status-equivalent session status card (usage + time + cost when available). Use for model-use questions (📊 session_status). Optional: set per-session model override (model=default resets overrides).",
		Parameters:  schemaJSON(`{"type":"object","properties":{"sessionKey":{"type":"string"},"model":{"type":"string"}}}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a struct {
				SessionKey string `json:"sessionKey"`
				Model      string `json:"model"`
			}
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			mainKey, alias := mainKeys(c.Doc)
			key := c.Session.Key
			if k := strings.TrimSpace(a.SessionKey); k != "" {
				key = internalKey(k, alias)
			}
			if !a2aAllowed(c.Doc, agentOfKey(c.Session.Key), agentOfKey(key)) {
				return agent.ToolResult{}, fmt.Errorf("Agent-to-agent status is disabled. Set tools.agentToAgent.enabled=true to allow cross-agent access.")
			}
			if m := strings.TrimSpace(a.Model); m != "" {
				if sessions == nil {
					return agent.ToolResult{}, fmt.Errorf("model overrides are not available in this build")
				}
				v := m
				if strings.EqualFold(m, "default") {
					v = ""
				}
				if err := sessions.Update(key, agent.SessionUpdate{ModelOverride: &v}); err != nil {
					return agent.ToolResult{}, err
				}
			}
			e, ok := store.Get(key)
			if !ok {
				return agent.ToolResult{}, fmt.Errorf("Unknown sessionKey: %s", key)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "🧵 Session: %s", displayKey(key, mainKey, alias))
			if e.SessionID != "" {
				fmt.Fprintf(&b, " (%s)", e.SessionID)
			}
			b.WriteString("\n")
			model := e.Model
			if e.ModelProvider != "" && model != "" {
				model = e.ModelProvider + "/" + model
			}
			if e.ModelOverride != "" {
				model = e.ModelOverride + " (override)"
				if e.ProviderOverride != "" {
					model = e.ProviderOverride + "/" + e.ModelOverride + " (override)"
				}
			}
			if model == "" {
				model = "default"
			}
			fmt.Fprintf(&b, "🧠 Model: %s\n", model)
			tok := func(p *int64) int64 {
				if p == nil {
					return 0
				}
				return *p
			}
			fmt.Fprintf(&b, "📊 Tokens: %d in / %d out (total %d", tok(e.InputTokens), tok(e.OutputTokens), tok(e.TotalTokens))
			if e.ContextTokens != nil {
				fmt.Fprintf(&b, ", context %d", *e.ContextTokens)
			}
			b.WriteString(")\n")
			if e.UpdatedAt != 0 {
				fmt.Fprintf(&b, "🕒 Updated: %s\n", time.UnixMilli(e.UpdatedAt).UTC().Format(time.RFC3339))
			}
			levels := []string{}
			for _, l := range [][2]string{{"think", e.ThinkingLevel}, {"verbose", e.VerboseLevel}, {"queue", e.QueueMode}} {
				if l[1] != "" {
					levels = append(levels, l[0]+"="+l[1])
				}
			}
			if len(levels) > 0 {
				fmt.Fprintf(&b, "⚙️ %s\n", strings.Join(levels, " · "))
			}
			return agent.ToolResult{Content: []llm.Content{llm.Text(strings.TrimRight(b.String(), "\n"))}}, nil
		})
}
