package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

// Inbound routing (doc/messaging.md §5): access control (dmPolicy,
// allowFrom + the pairing store, groupPolicy, groups, mention gating), the
// pairing reply, the session key (§3.2), the agent turn with a typing
// indicator, and the reply chunks back through the account. Messages of
// one chat are handled in order by one worker; other chats run in
// parallel.

// Agent runs the agent turns of inbound messages; the core adapts the
// agent runner (gateway/features_channels.go).
type Agent interface {
	// RunTurn runs one turn on t.SessionKey and returns its reply
	// payloads (empty for NO_REPLY). ctx ends with the gateway.
	RunTurn(ctx context.Context, t Turn) (Reply, error)
	// AbortSession stops the run in flight on key (queue mode interrupt).
	AbortSession(key string) bool
}

// Turn is one inbound-triggered agent turn.
type Turn struct {
	SessionKey string
	// Message is the enveloped text the model sees.
	Message string
	// Channel, AccountID, To (the chat id), ThreadID and MessageID say
	// where the message came from and where the reply goes.
	Channel, AccountID, To, ThreadID, MessageID string
	ChatType                                    ChatType
	SenderID, SenderName                        string
}

// Reply is what a turn answered.
type Reply struct {
	Payloads []ReplyPayload
}

// ReplyPayload is one reply message: text and/or media.
type ReplyPayload struct {
	Text      string
	MediaURLs []string
	ReplyToID string
}

// Queue modes of inbound messages that arrive while their chat's turn
// runs (messages.queue.byChannel.<channel>, else messages.queue.mode).
const (
	queueCollect   = "collect"
	queueFollowup  = "followup"
	queueSteer     = "steer"
	queueInterrupt = "interrupt"
)

// maxChatBacklog bounds the messages waiting per chat; older ones are
// dropped (a flood never grows memory without bound).
const maxChatBacklog = 100

type router struct {
	m *Manager

	mu    sync.Mutex
	chats map[string]*chatQueue
	wg    sync.WaitGroup
}

type chatQueue struct {
	items   []routed
	running bool
	session string // key of the turn in flight ("" when none)
}

type routed struct {
	r   *accountRunner
	msg Inbound
}

func newRouter(m *Manager) *router { return &router{m: m, chats: map[string]*chatQueue{}} }

func (rt *router) stop() { rt.wg.Wait() }

// Busy reports inbound messages being handled or waiting (their chat's
// worker has not finished).
func (m *Manager) Busy() bool {
	m.router.mu.Lock()
	defer m.router.mu.Unlock()
	return len(m.router.chats) > 0
}

// inbound queues msg on its chat's worker.
func (rt *router) inbound(r *accountRunner, msg Inbound) {
	key := msg.Channel + "/" + msg.AccountID + "/" + msg.ChatID + "/" + msg.ThreadID
	rt.mu.Lock()
	q := rt.chats[key]
	if q == nil {
		q = &chatQueue{}
		rt.chats[key] = q
	}
	if len(q.items) >= maxChatBacklog {
		q.items = q.items[1:]
	}
	q.items = append(q.items, routed{r: r, msg: msg})
	interrupt := ""
	if q.running && q.session != "" && rt.m.queueMode(msg.Channel) == queueInterrupt {
		interrupt = q.session
	}
	start := !q.running
	q.running = true
	rt.mu.Unlock()
	if interrupt != "" && rt.m.d.Agent != nil {
		rt.m.d.Agent.AbortSession(interrupt)
	}
	if start {
		rt.wg.Add(1)
		go rt.work(key, q)
	}
}

// work drains one chat's queue.
func (rt *router) work(key string, q *chatQueue) {
	defer rt.wg.Done()
	for {
		rt.mu.Lock()
		if len(q.items) == 0 {
			q.running, q.session = false, ""
			delete(rt.chats, key)
			rt.mu.Unlock()
			return
		}
		next := q.items[0]
		q.items = q.items[1:]
		rt.mu.Unlock()

		_ = safeCall(func() error { rt.handle(key, q, next); return nil })
	}
}

// handle decides one message and, when allowed, runs its turn (merging
// the allowed messages queued behind it in collect mode).
func (rt *router) handle(key string, q *chatQueue, first routed) {
	m := rt.m
	if !m.allowed(first.r, first.msg) || first.msg.Historical {
		return // history catch-up is never answered
	}
	batch := []Inbound{first.msg}
	if m.queueMode(first.msg.Channel) == queueCollect {
		rt.mu.Lock()
		pending := q.items
		q.items = nil
		rt.mu.Unlock()
		var rest []routed
		for _, p := range pending {
			if p.msg.Historical {
				continue
			}
			if m.allowed(p.r, p.msg) {
				batch = append(batch, p.msg)
			} else {
				rest = append(rest, p)
			}
		}
		if len(rest) > 0 {
			rt.mu.Lock()
			q.items = append(rest, q.items...)
			rt.mu.Unlock()
		}
	}
	last := batch[len(batch)-1]
	sessionKey := m.sessionKey(last)
	rt.mu.Lock()
	q.session = sessionKey
	rt.mu.Unlock()
	m.runTurn(first.r, sessionKey, batch)
	rt.mu.Lock()
	q.session = ""
	rt.mu.Unlock()
}

// queueMode is the channel's inbound queue mode (default collect).
func (m *Manager) queueMode(channel string) string {
	var doc struct {
		Messages struct {
			Queue struct {
				Mode      string            `json:"mode"`
				ByChannel map[string]string `json:"byChannel"`
			} `json:"queue"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(m.rootConfig(), &doc)
	mode := doc.Messages.Queue.ByChannel[channel]
	if mode == "" {
		mode = doc.Messages.Queue.Mode
	}
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case queueFollowup, queueSteer, "followups", "follow-up":
		return queueFollowup // steer has no running turn to join here: like followup
	case queueInterrupt:
		return queueInterrupt
	}
	return queueCollect
}

func (m *Manager) rootConfig() json.RawMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.root
}

// access is the effective access policy of r's account.
func (r *accountRunner) access() AccessConfig {
	if p, ok := r.acct().(AccessProvider); ok {
		return p.Access()
	}
	return ParseAccess(r.cfg.Merged)
}

// matches reports whether the sender of msg is in list ("*" matches all;
// an entry matches the id or, case-insensitively, @username / username).
func (m *Manager) matches(channel string, list []string, msg Inbound) bool {
	id := m.normalizeEntry(channel, msg.SenderID)
	user := strings.ToLower(strings.TrimPrefix(msg.SenderUsername, "@"))
	for _, e := range list {
		e = strings.TrimSpace(e)
		if e == "*" {
			return true
		}
		if e == "" {
			continue
		}
		if n := m.normalizeEntry(channel, e); n != "" && (n == id || n == msg.SenderID) {
			return true
		}
		if user != "" && strings.ToLower(strings.TrimPrefix(e, "@")) == user {
			return true
		}
	}
	return false
}

// allowed runs access control on msg; a DM from an unknown sender under
// the pairing policy gets a pairing request (and, the first time, the
// reply with its code).
func (m *Manager) allowed(r *accountRunner, msg Inbound) bool {
	acc := r.access()
	store, _ := m.pairing.AllowFrom(msg.Channel)
	cfgAllow := EntryStrings(acc.AllowFrom)
	if msg.ChatType == ChatGroup {
		return m.groupAllowed(acc, cfgAllow, store, msg)
	}
	if msg.FromOwner {
		return true
	}
	policy := strings.ToLower(strings.TrimSpace(acc.DMPolicy))
	if policy == "" {
		policy = "pairing"
	}
	switch policy {
	case "disabled":
		return false
	case "open":
		return true
	}
	allow := append(slices.Clone(cfgAllow), store...)
	if len(allow) == 0 {
		allow = acc.DefaultAllowFrom
	}
	if m.matches(msg.Channel, allow, msg) {
		return true
	}
	if policy == "pairing" && !msg.Historical {
		m.pair(r, msg)
	}
	return false
}

func (m *Manager) groupAllowed(acc AccessConfig, cfgAllow, store []string, msg Inbound) bool {
	var g *GroupConfig
	if len(acc.Groups) > 0 {
		if c, ok := acc.Groups[msg.ChatID]; ok {
			g = &c
		} else if c, ok := acc.Groups["*"]; ok {
			g = &c
		} else {
			return false // groups listed, this chat is not
		}
	}
	if g != nil && g.Enabled != nil && !*g.Enabled {
		return false
	}
	if g != nil && len(g.AllowFrom) > 0 {
		if !m.matches(msg.Channel, EntryStrings(g.AllowFrom), msg) {
			return false
		}
	} else {
		switch strings.ToLower(strings.TrimSpace(acc.GroupPolicy)) {
		case "disabled":
			return false
		case "open":
		default: // allowlist
			list := EntryStrings(acc.GroupAllowFrom)
			if len(list) == 0 {
				list = cfgAllow
			}
			if !m.matches(msg.Channel, append(slices.Clone(list), store...), msg) {
				return false
			}
		}
	}
	requireMention := true
	if g != nil && g.RequireMention != nil {
		requireMention = *g.RequireMention
	}
	return !requireMention || msg.MentionedBot
}

// PairingReply is the text an unknown sender gets with its code.
func PairingReply(meta Meta, senderID, code string) string {
	label := meta.PairingIDLabel
	if label == "" {
		label = meta.Label + " user id"
	}
	return "Clawdbot: access not configured.\n\nYour " + label + ": " + senderID + "\n\nPairing code: " + code +
		"\n\nAsk the bot owner to approve with:\nclawdbot pairing approve " + meta.ID + " " + code
}

// pair records a pairing request for msg's sender and answers a new one
// with its code.
func (m *Manager) pair(r *accountRunner, msg Inbound) {
	id := m.normalizeEntry(msg.Channel, msg.SenderID)
	if id == "" {
		id = msg.SenderID
	}
	code, created, err := m.pairing.Upsert(msg.Channel, id, map[string]string{"username": msg.SenderUsername, "name": msg.SenderName})
	if err != nil {
		m.d.Log.Warn(fmt.Sprintf("[%s/%s] pairing request not stored: %v", msg.Channel, msg.AccountID, err))
		return
	}
	if !created || code == "" {
		return
	}
	m.d.Log.Info(fmt.Sprintf("[%s/%s] pairing request from %s (code %s)", msg.Channel, msg.AccountID, id, code))
	m.reply(r, msg, Outbound{Text: PairingReply(r.plugin.Meta(), msg.SenderID, code)})
}

// reply sends out into msg's chat (msg.Reply, else the account's Send).
func (m *Manager) reply(r *accountRunner, msg Inbound, out Outbound) {
	ctx, cancel := context.WithTimeout(m.ctx, 60*time.Second)
	defer cancel()
	var err error
	if msg.Reply != nil {
		err = safeCall(func() error { _, e := msg.Reply(ctx, out); return e })
	} else if a := r.acct(); a != nil {
		out.To = msg.ChatID
		if out.ThreadID == "" {
			out.ThreadID = msg.ThreadID
		}
		err = safeCall(func() error { _, e := a.Send(ctx, out); return e })
	}
	if err != nil {
		m.d.Log.Warn(fmt.Sprintf("[%s/%s] reply failed: %v", msg.Channel, msg.AccountID, err))
		return
	}
	r.mu.Lock()
	r.lastOutboundAt = r.nowMs()
	r.mu.Unlock()
}

// sessionConfig is the session settings of the current config.
func (m *Manager) sessionConfig() sessionstore.Config {
	if m.d.Sessions != nil {
		return m.d.Sessions.Config()
	}
	return sessionstore.ParseConfig(m.rootConfig())
}

// sessionKey is msg's session (doc/messaging.md §3.2) for the agent its
// route picks (bindings, else the default agent).
func (m *Manager) sessionKey(msg Inbound) string {
	c := m.sessionConfig()
	p := sessionstore.Peer{Channel: msg.Channel, PeerID: msg.SenderID}
	if msg.ChatType == ChatGroup {
		p.Kind, p.PeerID = "group", msg.ChatID
		if msg.ThreadID != "" {
			p.PeerID = msg.ChatID + ":topic:" + msg.ThreadID
		}
	}
	p.AgentID = m.routeAgent(c, msg.Channel, msg.AccountID, firstNonEmpty(p.Kind, "dm"), p.PeerID)
	if msg.ChatType == ChatGroup {
		return c.PeerKey(p)
	}
	return sessionstore.ThreadKey(c.PeerKey(p), msg.ThreadID)
}

// binding is one bindings[] entry of the config.
type binding struct {
	AgentID string `json:"agentId"`
	Match   struct {
		Channel   string `json:"channel"`
		AccountID string `json:"accountId"`
		Peer      *struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
		} `json:"peer"`
		GuildID string `json:"guildId"`
		TeamID  string `json:"teamId"`
	} `json:"match"`
}

// routeAgent is the agent of a conversation (the original's
// resolveAgentRoute, doc/messaging.md §3.2): the first binding of the
// channel and account (empty = default, "*" = any) that names this
// peer, else one for the account only, else one for any account, else
// the default agent. A bound agent missing from agents.list falls back
// to the default.
func (m *Manager) routeAgent(c sessionstore.Config, channel, accountID, kind, peerID string) string {
	var doc struct {
		Bindings []binding `json:"bindings"`
	}
	_ = json.Unmarshal(m.rootConfig(), &doc)
	channel = strings.ToLower(strings.TrimSpace(channel))
	accountID = firstNonEmpty(strings.TrimSpace(accountID), DefaultAccountID)
	var cands []binding
	for _, b := range doc.Bindings {
		if strings.ToLower(strings.TrimSpace(b.Match.Channel)) != channel {
			continue
		}
		switch a := strings.TrimSpace(b.Match.AccountID); a {
		case "":
			if accountID != DefaultAccountID {
				continue
			}
		case "*":
		default:
			if a != accountID {
				continue
			}
		}
		cands = append(cands, b)
	}
	pick := func(id string) string {
		id = sessionstore.NormalizeAgentID(id)
		if len(c.Agents) == 0 || slices.ContainsFunc(c.Agents, func(a string) bool { return sessionstore.NormalizeAgentID(a) == id }) {
			return id
		}
		return c.DefaultAgentID()
	}
	for _, b := range cands {
		if pr := b.Match.Peer; pr != nil && strings.ToLower(strings.TrimSpace(pr.Kind)) == kind && strings.TrimSpace(pr.ID) == peerID && peerID != "" {
			return pick(b.AgentID)
		}
	}
	plain := func(b binding) bool { return b.Match.Peer == nil && b.Match.GuildID == "" && b.Match.TeamID == "" }
	for _, b := range cands {
		if plain(b) && strings.TrimSpace(b.Match.AccountID) != "*" {
			return pick(b.AgentID)
		}
	}
	for _, b := range cands {
		if plain(b) && strings.TrimSpace(b.Match.AccountID) == "*" {
			return pick(b.AgentID)
		}
	}
	return c.DefaultAgentID()
}

// sameThread reports whether the stored lastThreadId is threadID (a
// message without a thread leaves any stored one alone).
func sameThread(stored json.RawMessage, threadID string) bool {
	if threadID == "" {
		return true
	}
	var s string
	if json.Unmarshal(stored, &s) == nil {
		return s == threadID
	}
	return strings.TrimSpace(string(stored)) == threadID
}

// envelope is the text the model sees for msg (the original's
// "[Channel sender time] text" form).
func envelope(label string, msg Inbound, now time.Time) string {
	t := msg.Time
	if t.IsZero() {
		t = now
	}
	sender := msg.SenderName
	if msg.SenderUsername != "" {
		if sender != "" {
			sender += " "
		}
		sender += "(@" + msg.SenderUsername + ")"
	}
	if sender == "" {
		sender = msg.SenderID
	}
	body := msg.Text
	for _, md := range msg.Media {
		kind := md.Kind
		if kind == "" {
			kind = "file"
		}
		ph := "<media:" + kind + ">"
		if loc := firstNonEmpty(md.Path, md.URL); loc != "" {
			ph += " " + loc
		}
		body = strings.TrimSpace(body + "\n" + ph)
	}
	if msg.ChatType == ChatGroup {
		body = sender + ": " + body
	}
	out := "[" + label + " " + sender + " id:" + msg.SenderID + " " + t.Local().Format("2006-01-02 15:04 MST") + "] " + body
	if msg.MessageID != "" {
		out += "\n[message_id: " + msg.MessageID + "]"
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// runTurn runs the agent on batch (one message, or several collected) and
// sends the reply back, showing typing while it runs.
func (m *Manager) runTurn(r *accountRunner, sessionKey string, batch []Inbound) {
	last := batch[len(batch)-1]
	m.recordRoute(sessionKey, last)
	if last.ChatType != ChatGroup {
		// A DM also moves the main session's last route (the original's
		// updateLastRoute), whatever session.dmScope keys the DM by.
		sc := m.sessionConfig()
		agentID, _, _ := sessionstore.ParseAgentKey(sessionKey)
		if main := sc.CanonicalKey(sessionstore.AgentMainKey(firstNonEmpty(agentID, sc.DefaultAgentID()), "main")); main != sessionKey && main != sessionstore.KeyGlobal {
			m.recordRoute(main, last)
		}
	}
	if m.d.Agent == nil {
		return
	}
	meta := r.plugin.Meta()
	var text string
	if len(batch) == 1 {
		text = envelope(meta.Label, last, m.d.Now())
	} else {
		blocks := []string{"[Queued messages while agent was busy]"}
		for i, msg := range batch {
			blocks = append(blocks, fmt.Sprintf("---\nQueued #%d\n%s", i+1, envelope(meta.Label, msg, m.d.Now())))
		}
		text = strings.Join(blocks, "\n\n")
	}
	typingCtx, stopTyping := context.WithCancel(m.ctx)
	if t, ok := r.acct().(Typer); ok {
		go keepTyping(typingCtx, t, last.ChatID, last.ThreadID)
	}
	reply, err := m.d.Agent.RunTurn(m.ctx, Turn{SessionKey: sessionKey, Message: text, Channel: last.Channel,
		AccountID: last.AccountID, To: last.ChatID, ThreadID: last.ThreadID, MessageID: last.MessageID,
		ChatType: last.ChatType, SenderID: last.SenderID, SenderName: last.SenderName})
	stopTyping()
	if err != nil {
		m.d.Log.Warn(fmt.Sprintf("[%s/%s] agent turn failed: %v", last.Channel, last.AccountID, err))
	}
	shaping := Shaping(r.cfg.Merged, meta.TextChunkLimit)
	for _, p := range reply.Payloads {
		for _, out := range m.shape(r.plugin, shaping, p.Text, p.MediaURLs) {
			out.ReplyToID = p.ReplyToID
			m.reply(r, last, out)
		}
	}
}

// keepTyping shows the typing indicator now and every TypingInterval
// until ctx ends.
func keepTyping(ctx context.Context, t Typer, chatID, threadID string) {
	tick := time.NewTicker(TypingInterval)
	defer tick.Stop()
	for {
		_ = safeCall(func() error {
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return t.Typing(c, chatID, threadID)
		})
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// shape turns one payload into the messages to send: media items (the
// first carries the text as its caption), or the text in chunks.
func (m *Manager) shape(p Plugin, s ShapingConfig, text string, media []string) []Outbound {
	if len(media) > 0 {
		var out []Outbound
		for i, u := range media {
			o := Outbound{MediaURL: u}
			if i == 0 {
				o.Text = text
			}
			out = append(out, o)
		}
		return out
	}
	var chunks []string
	if c, ok := p.(Chunker); ok {
		chunks = c.Chunk(text, s.TextChunkLimit, s.ChunkMode)
	} else {
		chunks = ChunkText(text, s.TextChunkLimit, s.ChunkMode)
	}
	out := make([]Outbound, 0, len(chunks))
	for _, c := range chunks {
		out = append(out, Outbound{Text: c})
	}
	return out
}

// recordRoute writes the session's last route (lastChannel, lastTo,
// deliveryContext, origin, chatType), as the original's updateLastRoute.
func (m *Manager) recordRoute(sessionKey string, msg Inbound) {
	if m.d.Sessions == nil {
		return
	}
	chatType := "direct"
	if msg.ChatType == ChatGroup {
		chatType = "group"
	}
	// The common case, a known chat writing again, changes nothing: no
	// store write (a locked rewrite of sessions.json) per message.
	if e, ok := m.d.Sessions.Get(sessionKey); ok && e.SessionID != "" && e.LastChannel == msg.Channel && e.LastTo == msg.ChatID &&
		e.LastAccountID == msg.AccountID && e.ChatType == chatType && len(e.Origin) > 0 && sameThread(e.LastThreadID, msg.ThreadID) {
		return
	}
	from := msg.Channel + ":" + msg.SenderID
	if msg.ChatType == ChatGroup {
		from = msg.Channel + ":group:" + msg.ChatID
	}
	_, err := m.d.Sessions.Update(sessionKey, func(e *sessionstore.Entry) error {
		e.LastChannel, e.LastTo, e.LastAccountID, e.ChatType = msg.Channel, msg.ChatID, msg.AccountID, chatType
		dc := map[string]any{"channel": msg.Channel, "to": msg.ChatID, "accountId": msg.AccountID}
		if msg.ThreadID != "" {
			dc["threadId"] = msg.ThreadID
			e.LastThreadID, _ = json.Marshal(msg.ThreadID)
		}
		e.DeliveryContext, _ = json.Marshal(dc)
		e.Origin, _ = json.Marshal(map[string]any{"label": firstNonEmpty(msg.SenderName, from), "provider": msg.Channel,
			"surface": msg.Channel, "chatType": chatType, "from": from, "to": msg.Channel + ":" + msg.ChatID, "accountId": msg.AccountID})
		return nil
	})
	if err != nil {
		m.d.Log.Warn(fmt.Sprintf("[%s/%s] session route not recorded: %v", msg.Channel, msg.AccountID, err))
	}
}
