package sessions

import (
	"bytes"
	"cmp"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

type listOpts struct {
	includeGlobal, includeUnknown, derivedTitles, lastMessage bool
	spawnedBy, label, agentID, search                         string
	activeMinutes, limit                                      int64
}

// row is a listed session and what derivedTitle needs of its entry.
type row struct {
	wire.SessionRow
	sessionID, displayName, subject string
	updatedAt                       int64
}

func (h *handlers) list(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SessionsListParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	o := listOpts{includeGlobal: flag(p.IncludeGlobal), includeUnknown: flag(p.IncludeUnknown),
		derivedTitles: flag(p.IncludeDerivedTitles), lastMessage: flag(p.IncludeLastMessage),
		spawnedBy: p.SpawnedBy, label: strings.TrimSpace(p.Label), agentID: p.AgentID, search: strings.ToLower(strings.TrimSpace(p.Search))}
	if p.ActiveMinutes != nil {
		o.activeMinutes = max(1, *p.ActiveMinutes)
	}
	if p.Limit != nil {
		o.limit = max(1, *p.Limit)
	}
	return h.listResult(o), nil
}

// listResult is listSessionsFromStore of the original.
func (h *handlers) listResult(o listOpts) wire.SessionsListResult {
	cfg := h.d.Store.Config()
	rows, path := h.rowsPath(o)
	out := make([]wire.SessionRow, len(rows))
	for i, r := range rows {
		if r.sessionID != "" && (o.derivedTitles || o.lastMessage) {
			e := sessionstore.Entry{SessionID: r.sessionID, DisplayName: r.displayName, Subject: r.subject, UpdatedAt: r.updatedAt}
			if full, ok := h.d.Store.Get(r.Key); ok {
				e = full
			}
			t := h.d.Store.Target(r.Key)
			file := h.d.Store.FindTranscript(t, e)
			if o.derivedTitles {
				r.DerivedTitle = deriveTitle(e, firstUserMessage(file))
			}
			if o.lastMessage && file != "" {
				r.LastMessagePreview = lastMessagePreview(file)
			}
		}
		out[i] = r.SessionRow
	}
	provider, model := cfg.ModelProvider, cfg.Model
	ctx := cfg.ContextTokens
	if ctx == 0 {
		ctx = sessionstore.DefaultContextTokens
	}
	return wire.SessionsListResult{TS: h.now().UnixMilli(), Path: path, Count: int64(len(out)),
		Defaults: wire.SessionsDefaults{ModelProvider: &provider, Model: &model, ContextTokens: &ctx}, Sessions: out}
}

func (h *handlers) rows(o listOpts) []*row { r, _ := h.rowsPath(o); return r }

func (h *handlers) rowsPath(o listOpts) ([]*row, string) {
	agent := ""
	if o.agentID != "" {
		agent = sessionstore.NormalizeAgentID(o.agentID)
	}
	var rows []*row
	path := h.d.Store.Range(func(key, _ string, e *sessionstore.Entry) {
		switch {
		case !o.includeGlobal && key == sessionstore.KeyGlobal, !o.includeUnknown && key == sessionstore.KeyUnknown:
			return
		}
		if agent != "" {
			a, _, ok := sessionstore.ParseAgentKey(key)
			if !ok || sessionstore.NormalizeAgentID(a) != agent {
				return
			}
		}
		if o.spawnedBy != "" && (key == sessionstore.KeyGlobal || key == sessionstore.KeyUnknown || e.SpawnedBy != o.spawnedBy) {
			return
		}
		if o.label != "" && e.Label != o.label {
			return
		}
		rows = append(rows, &row{SessionRow: toRow(key, e), sessionID: e.SessionID, displayName: e.DisplayName, subject: e.Subject, updatedAt: e.UpdatedAt})
	})
	// A key in two stores keeps the later one, as the original's merge.
	if len(rows) > 1 {
		last := make(map[string]int, len(rows))
		for i, r := range rows {
			last[r.Key] = i
		}
		if len(last) != len(rows) {
			kept := rows[:0]
			for i, r := range rows {
				if last[r.Key] == i {
					kept = append(kept, r)
				}
			}
			rows = kept
		}
	}
	// Newest first, file order among equals (a stable sort, as the
	// original's Array.prototype.sort), on indexes: rows are large.
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	at := func(i int) int64 {
		if u := rows[i].UpdatedAt; u != nil {
			return *u
		}
		return 0
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(at(b), at(a)) })
	sorted := make([]*row, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	rows = sorted[:0]
	now := h.now().UnixMilli()
	for _, r := range sorted {
		if o.search != "" && !matches(r.SessionRow, o.search) {
			continue
		}
		if o.activeMinutes > 0 && (r.UpdatedAt == nil || *r.UpdatedAt < now-o.activeMinutes*60_000) {
			continue
		}
		rows = append(rows, r)
	}
	if o.limit > 0 && int64(len(rows)) > o.limit {
		rows = rows[:o.limit]
	}
	return rows, path
}

func matches(r wire.SessionRow, q string) bool {
	for _, f := range []string{r.DisplayName, r.Label, r.Subject, r.SessionID, r.Key} {
		if f != "" && strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

func toRow(key string, e *sessionstore.Entry) wire.SessionRow {
	var total int64
	switch {
	case e.TotalTokens != nil:
		total = *e.TotalTokens
	default:
		if e.InputTokens != nil {
			total += *e.InputTokens
		}
		if e.OutputTokens != nil {
			total += *e.OutputTokens
		}
	}
	ch, _, id, isGroup := sessionstore.GroupKey(key)
	channel := e.Channel
	if channel == "" && isGroup {
		channel = ch
	}
	display := e.DisplayName
	if display == "" && channel != "" {
		display = groupDisplayName(channel, e, id, key)
	}
	if display == "" {
		display = e.Label
	}
	if display == "" {
		var o struct {
			Label string `json:"label"`
		}
		_ = json.Unmarshal(e.Origin, &o)
		display = o.Label
	}
	r := wire.SessionRow{
		Key: key, Kind: sessionstore.Kind(key, e), Label: e.Label, DisplayName: display, Channel: channel,
		Subject: e.Subject, GroupChannel: e.GroupChannel, Space: e.Space, ChatType: e.ChatType, Origin: e.Origin,
		SessionID: e.SessionID, SystemSent: e.SystemSent, AbortedLastRun: e.AbortedLastRun,
		ThinkingLevel: e.ThinkingLevel, VerboseLevel: e.VerboseLevel, ReasoningLevel: e.ReasoningLevel,
		ElevatedLevel: e.ElevatedLevel, SendPolicy: e.SendPolicy, InputTokens: e.InputTokens, OutputTokens: e.OutputTokens,
		TotalTokens: total, ResponseUsage: e.ResponseUsage, ModelProvider: e.ModelProvider, Model: e.Model,
		ContextTokens: e.ContextTokens, DeliveryContext: e.DeliveryContext, LastChannel: e.LastChannel, LastTo: e.LastTo,
		LastAccountID: e.LastAccountID,
	}
	if e.UpdatedAt != 0 {
		u := e.UpdatedAt
		r.UpdatedAt = &u
	}
	if len(r.DeliveryContext) == 0 && e.LastChannel != "" {
		dc := map[string]string{"channel": e.LastChannel}
		if e.LastTo != "" {
			dc["to"] = e.LastTo
		}
		if e.LastAccountID != "" {
			dc["accountId"] = e.LastAccountID
		}
		r.DeliveryContext, _ = json.Marshal(dc)
	}
	return r
}

// groupDisplayName is a short form of the original's buildGroupDisplayName
// for group keys: <channel>:<subject or #groupChannel or id>; none for a DM.
func groupDisplayName(channel string, e *sessionstore.Entry, id, key string) string {
	if id == "" && e.Subject == "" && e.GroupChannel == "" {
		return ""
	}
	name := e.Subject
	if name == "" && e.GroupChannel != "" {
		name = "#" + strings.TrimPrefix(e.GroupChannel, "#")
	}
	if name == "" {
		name = id
	}
	return channel + ":" + name
}

const derivedTitleMax = 60

func deriveTitle(e sessionstore.Entry, first string) string {
	switch {
	case strings.TrimSpace(e.DisplayName) != "":
		return strings.TrimSpace(e.DisplayName)
	case strings.TrimSpace(e.Subject) != "":
		return strings.TrimSpace(e.Subject)
	case strings.TrimSpace(first) != "":
		return truncateTitle(strings.Join(strings.Fields(first), " "), derivedTitleMax)
	case e.SessionID != "":
		id := e.SessionID
		if len(id) > 8 {
			id = id[:8]
		}
		if e.UpdatedAt > 0 {
			return id + " (" + msTime(e.UpdatedAt).UTC().Format("2006-01-02") + ")"
		}
		return id
	}
	return ""
}

func truncateTitle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n-1])
	if i := strings.LastIndex(cut, " "); i >= 0 && float64(utf8.RuneCountInString(cut[:i])) > float64(n)*0.6 {
		return cut[:i] + "…"
	}
	return cut + "…"
}

// messageText is the original's extractTextFromContent: the first
// non-empty text part.
func messageText(content json.RawMessage) string {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return strings.TrimSpace(s)
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	_ = json.Unmarshal(content, &parts)
	for _, p := range parts {
		if p.Text != nil && (p.Type == "text" || p.Type == "output_text" || p.Type == "input_text") {
			if t := strings.TrimSpace(*p.Text); t != "" {
				return t
			}
		}
	}
	return ""
}

type lineMessage struct {
	Message *struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"message"`
}

// firstUserMessage scans the first 8 KB / 10 lines of a transcript.
func firstUserMessage(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 8192)
	n, _ := f.Read(buf)
	lines := bytes.Split(buf[:n], []byte("\n"))
	for i, l := range lines {
		if i >= 10 {
			break
		}
		var m lineMessage
		if json.Unmarshal(bytes.TrimSpace(l), &m) == nil && m.Message != nil && m.Message.Role == "user" {
			if t := messageText(m.Message.Content); t != "" {
				return t
			}
		}
	}
	return ""
}

// lastMessagePreview is the last user/assistant text in the last 16 KB /
// 20 lines.
func lastMessagePreview(path string) string {
	var out string
	seen := 0
	var scanned int
	_ = sessionstore.ScanBack(path, func(l []byte) bool {
		scanned += len(l) + 1
		seen++
		if seen > 20 || scanned > 16384 {
			return false
		}
		var m lineMessage
		if json.Unmarshal(l, &m) == nil && m.Message != nil && (m.Message.Role == "user" || m.Message.Role == "assistant") {
			if t := messageText(m.Message.Content); t != "" {
				out = t
				return false
			}
		}
		return true
	})
	return out
}

var (
	envelopePrefix = regexp.MustCompile(`^\[([^\]]+)\]\s*`)
	envelopeDate   = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z\b|\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b`)
	messageIDLine  = regexp.MustCompile(`(?i)^\s*\[message_id:\s*[^\]]+\]\s*$`)
	envelopeLabels = []string{"WebChat", "WhatsApp", "Telegram", "Signal", "Slack", "Discord", "Google Chat", "iMessage", "Teams", "Matrix", "Zalo", "Zalo Personal", "BlueBubbles"}
)

// stripEnvelope removes a channel envelope header ("[Telegram Bob
// 2026-01-02 10:00] ...") as the original's chat-sanitize does.
func stripEnvelope(s string) string {
	m := envelopePrefix.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	header := s[m[2]:m[3]]
	ok := envelopeDate.MatchString(header)
	for _, l := range envelopeLabels {
		ok = ok || strings.HasPrefix(header, l+" ")
	}
	if !ok {
		return s
	}
	return s[m[1]:]
}

func stripMessageIDs(s string) string {
	if !strings.Contains(s, "[message_id:") {
		return s
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		if !messageIDLine.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
