package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Register adds agent, agent.wait, agent.identity.get, agents.list,
// chat.send, chat.abort, chat.inject, usage.status and usage.cost. The
// runner is d.Runner when set (the process-wide one), else a new one.
func Register(reg *rpc.Registry, d Deps) *Runner {
	r := d.Runner
	if r == nil {
		r = NewRunner(d)
	}
	h := &handlers{r: r, cost: map[int]costCache{}}
	reg.HandleAsync("agent", h.agent)
	reg.HandleAsync("agent.wait", h.agentWait)
	reg.Handle("agent.identity.get", h.identity)
	reg.Handle("agents.list", h.agentsList)
	reg.HandleAsync("chat.send", h.chatSend)
	reg.Handle("chat.abort", h.chatAbort)
	reg.Handle("chat.inject", h.chatInject)
	reg.Handle("usage.status", h.usageStatus)
	reg.HandleAsync("usage.cost", h.usageCost)
	return r
}

type handlers struct {
	r *Runner

	costMu sync.Mutex
	cost   map[int]costCache
}

// knownChannels are the channel ids the original accepts in agent's
// channel hints besides "last" and "webchat" (its static list).
var knownChannels = []string{"telegram", "whatsapp", "discord", "googlechat", "slack", "signal", "imessage", "last", "webchat"}

// agent is the two-stage agent method (doc/messaging.md §1.2).
func (h *handlers) agent(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.AgentParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	r := h.r
	key := "agent:" + p.IdempotencyKey
	if hit, ok := r.d.Dedupe.Load(key); ok {
		return hit.Payload, hit.Err
	}
	images, e := parseAttachments(p.Attachments)
	if e != nil {
		return nil, e
	}
	for _, ch := range []string{p.Channel, p.ReplyChannel} {
		if n := strings.ToLower(strings.TrimSpace(ch)); n != "" && !slices.Contains(knownChannels, n) {
			return nil, rpc.Invalid("invalid agent params: unknown channel: " + ch)
		}
	}
	cfg := r.d.Config()
	agentID := ""
	if p.AgentID != "" {
		agentID = NormalizeAgentID(p.AgentID)
		if !slices.Contains(cfg.AgentIDs(), agentID) {
			return nil, rpc.Invalid(fmt.Sprintf("invalid agent params: unknown agent id %q", p.AgentID))
		}
	}
	sessionKey := strings.TrimSpace(p.SessionKey)
	if sessionKey == "" {
		sessionKey = cfg.MainSessionKey(firstNonEmpty(agentID, cfg.DefaultAgentID()))
	}
	if agentID != "" {
		if _, keyAgent := r.d.Sessions.Canonical(sessionKey); keyAgent != agentID {
			return nil, rpc.Invalid(fmt.Sprintf("invalid agent params: agent %q does not match session key agent %q", agentID, keyAgent))
		}
	}
	sess, err := r.d.Sessions.Resolve(sessionKey)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	if sess.SendPolicy == "deny" {
		return nil, rpc.Invalid("send blocked by session policy")
	}
	ack := wire.AgentAck{RunID: p.IdempotencyKey, Status: wire.RunAccepted, AcceptedAt: r.now().UnixMilli()}
	if hit, loaded := r.d.Dedupe.LoadOrStore(key, ack, nil); loaded {
		// A concurrent duplicate: it gets what the first stored (the
		// ack while the run goes on) and no run of its own.
		return hit.Payload, hit.Err
	}
	c.Respond(ack, nil)

	fail := func(msg string) (any, *wire.ErrorShape) {
		es := rpc.Unavailable(msg)
		payload := wire.AgentFinal{RunID: p.IdempotencyKey, Status: wire.RunError, Summary: msg}
		r.d.Dedupe.Store(key, payload, es)
		return payload, es
	}
	turn := Turn{RunID: p.IdempotencyKey, Session: sess, Message: p.Message, Images: images, Lane: p.Lane,
		ExtraSystemPrompt: p.ExtraSystemPrompt, Channel: strings.ToLower(strings.TrimSpace(p.Channel))}
	if turn.Channel == "last" {
		// "last" names the session's last channel; recording it as the
		// new lastChannel would lose the route delivery resolves it to.
		turn.Channel = ""
	}
	if p.Thinking != "" {
		lvl, ok := normalizeThinking(p.Thinking)
		if !ok {
			return fail("Error: " + thinkingHelp)
		}
		turn.Thinking = lvl
	}
	if p.Timeout != nil {
		if *p.Timeout <= 0 {
			return fail("Error: --timeout must be a positive integer (seconds)")
		}
		turn.Timeout = time.Duration(*p.Timeout) * time.Second
	}
	out := r.Run(context.Background(), turn)
	if out.Err != nil {
		payload := wire.AgentFinal{RunID: p.IdempotencyKey, Status: wire.RunError, Summary: out.Err.Message}
		r.d.Dedupe.Store(key, payload, out.Err)
		return payload, out.Err
	}
	if p.Deliver != nil && *p.Deliver && r.d.Deliver != nil && len(out.Payloads) > 0 {
		d := Delivery{SessionKey: sess.Key, Channel: firstNonEmpty(p.ReplyChannel, p.Channel), To: firstNonEmpty(p.ReplyTo, p.To),
			AccountID: firstNonEmpty(p.ReplyAccountID, p.AccountID), ThreadID: p.ThreadID, Payloads: out.Payloads}
		if err := r.d.Deliver.Deliver(context.Background(), d); err != nil {
			// Main and global session runs deliver best-effort (the
			// original's bestEffortDeliver): logged, the run stays ok.
			if _, keyAgent := r.d.Sessions.Canonical(sess.Key); sess.Key != cfg.MainSessionKey(keyAgent) && sess.Key != "global" {
				return fail("Error: " + err.Error())
			}
			r.log.Warn("agent delivery failed", "session", sess.Key, "err", err)
		}
	}
	payload := wire.AgentFinal{RunID: p.IdempotencyKey, Status: wire.RunOK, Summary: "completed",
		Result: &wire.AgentResult{Payloads: out.Payloads, Meta: out.Meta}}
	r.d.Dedupe.Store(key, payload, nil)
	return payload, nil
}

// agentWait is agent.wait (default timeout 30 s).
func (h *handlers) agentWait(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.AgentWaitParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	timeout := 30 * time.Second
	if p.TimeoutMs != nil {
		timeout = time.Duration(*p.TimeoutMs) * time.Millisecond
	}
	return h.r.Wait(context.Background(), p.RunID, timeout), nil
}

// identity is agent.identity.get (doc/messaging.md §1.4).
func (h *handlers) identity(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.AgentIdentityParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	r := h.r
	cfg := r.d.Config()
	agentID := ""
	if p.AgentID != "" {
		agentID = NormalizeAgentID(p.AgentID)
	}
	if p.SessionKey != "" {
		_, keyAgent := r.d.Sessions.Canonical(p.SessionKey)
		if agentID != "" && keyAgent != agentID {
			return nil, rpc.Invalid(fmt.Sprintf("invalid agent.identity.get params: agent %q does not match session key agent %q", agentID, keyAgent))
		}
		agentID = keyAgent
	}
	if agentID == "" {
		agentID = cfg.DefaultAgentID()
	}
	entry, _ := cfg.Agent(agentID)
	file := readIdentityFile(h.workspace(cfg, entry))
	var idName, idAvatar string
	if entry.Identity != nil {
		idName, idAvatar = entry.Identity.Name, firstNonEmpty(entry.Identity.Avatar, entry.Identity.Emoji)
	}
	name := firstNonEmpty(strings.TrimSpace(cfg.AssistantName), strings.TrimSpace(idName), file.Name, "Assistant")
	if utf8.RuneCountInString(name) > 50 {
		name = string([]rune(name)[:50])
	}
	avatar := "A"
	for _, v := range []string{cfg.AssistantAvatar, idAvatar, file.Avatar, file.Emoji} {
		if a := normalizeAvatar(v, agentID); a != "" {
			avatar = a
			break
		}
	}
	return wire.AgentIdentityResult{AgentID: agentID, Name: name, Avatar: avatar}, nil
}

func (h *handlers) workspace(cfg Config, a AgentEntry) string {
	return firstNonEmpty(a.Workspace, cfg.Workspace, h.r.d.Workspace)
}

var imageExt = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\.(png|jpe?g|gif|webp|svg|ico)$`) })

// normalizeAvatar accepts an http(s) or data:image URL, a path-like value
// (rewritten to /avatar/<agentId>) or a short token without spaces.
func normalizeAvatar(v, agentID string) string {
	v = strings.TrimSpace(v)
	l := strings.ToLower(v)
	switch {
	case v == "":
		return ""
	case strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "data:image/"):
		return v
	case strings.Contains(v, "/") || imageExt().MatchString(v):
		return "/avatar/" + agentID
	case utf8.RuneCountInString(v) <= 4 && !strings.ContainsAny(v, " \t\n"):
		return v
	}
	return ""
}

type identityFile struct{ Name, Emoji, Avatar string }

var identityLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^\s*[-*]?\s*\**\s*(name|emoji|avatar)\s*\**\s*:\s*\**\s*(.*?)\s*$`)
})

// readIdentityFile reads the Name/Emoji/Avatar lines of IDENTITY.md,
// skipping the template's placeholders in parentheses.
func readIdentityFile(ws string) identityFile {
	var out identityFile
	if ws == "" {
		return out
	}
	b, err := os.ReadFile(filepath.Join(ws, "IDENTITY.md"))
	if err != nil || len(b) > 1<<20 {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		m := identityLine().FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v := strings.Trim(m[2], "*_ ")
		if v == "" || strings.HasPrefix(v, "(") {
			continue
		}
		switch strings.ToLower(m[1]) {
		case "name":
			if out.Name == "" {
				out.Name = v
			}
		case "emoji":
			if out.Emoji == "" {
				out.Emoji = v
			}
		case "avatar":
			if out.Avatar == "" {
				out.Avatar = v
			}
		}
	}
	return out
}

// agentsList is agents.list (doc/messaging.md §1.12).
func (h *handlers) agentsList(c *rpc.Call) (any, *wire.ErrorShape) {
	cfg := h.r.d.Config()
	res := wire.AgentsListResult{DefaultID: cfg.DefaultAgentID(), MainKey: cfg.MainKey, Scope: cfg.Scope, Agents: []wire.AgentsListItem{}}
	seen := map[string]bool{}
	for _, a := range cfg.Agents {
		it := wire.AgentsListItem{ID: a.ID, Name: a.Name}
		if a.Identity != nil {
			it.Identity = &wire.AgentIdentity{Name: a.Identity.Name, Theme: a.Identity.Theme, Emoji: a.Identity.Emoji, Avatar: a.Identity.Avatar}
		}
		res.Agents = append(res.Agents, it)
		seen[a.ID] = true
	}
	if len(cfg.Agents) == 0 {
		res.Agents = append(res.Agents, wire.AgentsListItem{ID: "main"})
		seen["main"] = true
		if h.r.d.StateDir != "" {
			des, _ := os.ReadDir(filepath.Join(h.r.d.StateDir, "agents"))
			for _, de := range des {
				if id := NormalizeAgentID(de.Name()); de.IsDir() && !seen[id] && id == de.Name() {
					res.Agents = append(res.Agents, wire.AgentsListItem{ID: id})
					seen[id] = true
				}
			}
		}
	}
	return res, nil
}

// Attachment limits (doc/messaging.md §1.2 step 3).
const maxAttachmentBytes = 5_000_000

var base64Chars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9+/=]*$`) })

// parseAttachments decodes the image attachments of agent / chat.send;
// non-images are dropped, as in the original.
func parseAttachments(raw []json.RawMessage) ([]llm.Content, *wire.ErrorShape) {
	var out []llm.Content
	for i, r := range raw {
		var a wire.Attachment
		if err := json.Unmarshal(r, &a); err != nil {
			continue
		}
		label := firstNonEmpty(a.FileName, a.Type, fmt.Sprintf("attachment-%d", i+1))
		content := strings.TrimSpace(a.Content)
		if strings.HasPrefix(content, "data:") {
			if _, after, ok := strings.Cut(content, ";base64,"); ok {
				content = after
			}
		}
		if len(content)%4 != 0 || !base64Chars().MatchString(content) {
			return nil, rpc.Invalid("Error: attachment " + label + ": invalid base64 content")
		}
		data, err := base64.StdEncoding.DecodeString(content)
		if err != nil || len(data) == 0 {
			return nil, rpc.Invalid("Error: attachment " + label + ": invalid base64 content")
		}
		if len(data) > maxAttachmentBytes {
			return nil, rpc.Invalid(fmt.Sprintf("Error: attachment %s: exceeds size limit (%d > %d bytes)", label, len(data), maxAttachmentBytes))
		}
		mime := http.DetectContentType(data)
		if !strings.HasPrefix(mime, "image/") {
			continue
		}
		out = append(out, llm.Content{Type: llm.ContentImage, Data: content, MimeType: mime})
	}
	return out, nil
}
