package sessions

import (
	"bytes"
	"cmp"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// row is a listed session: its row encoded once (without the closing
// brace, so derivedTitle and lastMessagePreview, the row's last fields,
// can follow), what the filters, the sort and derivedTitle read of it,
// and the store entry it was built from. The store replaces an entry on
// every write and never mutates one, so a row stays valid for as long as
// the store holds the same *Entry: rows are cached on that identity.
type row struct {
	entry *sessionstore.Entry
	enc   []byte
	// key is canonical; display is the row's displayName (derived: the
	// entry's own is entry.DisplayName).
	key, display string
	// gen is rowCache.gen of the last listing that saw the row (guarded
	// by rowCache.mu).
	gen uint64
}

// listed is one row of a result with its per-call fields.
type listed struct {
	*row
	title, preview string
}

// rowCache holds the encoded row of every session last listed, keyed by
// canonical key and valid while the store holds the same entry.
type rowCache struct {
	mu   sync.Mutex
	rows map[string]*row
	// gen numbers the listings; a row's gen is the last one that saw it
	// (a second sighting in one listing is a key in two stores).
	gen uint64
	// seen is scratch for the rows of one listing, in store order; buf
	// for encoding one row.
	seen []*row
	buf  []byte
}

// rowOrder is a row's sort key: updatedAt, then its position.
type rowOrder struct {
	at int64
	i  int
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

// listPayload is the sessions.list result (wire.SessionsListResult's
// shape), encoded from the cached rows.
type listPayload struct {
	ts       int64
	path     string
	defaults wire.SessionsDefaults
	rows     []listed
}

// AppendJSON writes the result as json.Marshal would write the
// wire.SessionsListResult (TestListGolden holds the two equal).
func (p *listPayload) AppendJSON(dst []byte) ([]byte, error) {
	size := 160 + len(p.path)
	for _, r := range p.rows {
		size += len(r.enc) + len(r.title) + len(r.preview) + 48
	}
	dst = slices.Grow(dst, size)
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, p.ts, 10)
	dst = append(dst, `,"path":`...)
	dst = wire.AppendString(dst, p.path)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(len(p.rows)), 10)
	dst = append(dst, `,"defaults":`...)
	dst, _ = p.defaults.AppendJSON(dst)
	dst = append(dst, `,"sessions":[`...)
	for i, r := range p.rows {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, r.enc...)
		if r.title != "" {
			dst = append(dst, `,"derivedTitle":`...)
			dst = wire.AppendString(dst, r.title)
		}
		if r.preview != "" {
			dst = append(dst, `,"lastMessagePreview":`...)
			dst = wire.AppendString(dst, r.preview)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...), nil
}

// MarshalJSON is AppendJSON, for callers that encode with encoding/json.
func (p *listPayload) MarshalJSON() ([]byte, error) { return p.AppendJSON(nil) }

// listResult is listSessionsFromStore of the original.
func (h *handlers) listResult(o listOpts) *listPayload {
	cfg := h.d.Store.Config()
	rows, path := h.rowsPath(o)
	out := make([]listed, len(rows))
	for i, r := range rows {
		out[i].row = r
		if r.entry.SessionID != "" && (o.derivedTitles || o.lastMessage) {
			e := *r.entry
			t := h.d.Store.Target(r.key)
			file := h.d.Store.FindTranscript(t, e)
			if o.derivedTitles {
				out[i].title = deriveTitle(e, firstUserMessage(file))
			}
			if o.lastMessage && file != "" {
				out[i].preview = lastMessagePreview(file)
			}
		}
	}
	provider, model := cfg.ModelProvider, cfg.Model
	ctx := cfg.ContextTokens
	if ctx == 0 {
		ctx = sessionstore.DefaultContextTokens
	}
	return &listPayload{ts: h.now().UnixMilli(), path: path,
		defaults: wire.SessionsDefaults{ModelProvider: &provider, Model: &model, ContextTokens: &ctx}, rows: out}
}

func (h *handlers) rows(o listOpts) []*row { r, _ := h.rowsPath(o); return r }

// newRow builds and encodes the row of key's entry e (c.mu held: it
// encodes into c.buf).
func (c *rowCache) newRow(key string, e *sessionstore.Entry) *row {
	sr := toRow(key, e)
	enc, err := sr.AppendJSON(c.buf[:0])
	if err != nil {
		// Unreachable for an entry the store decoded (its raw fields are
		// valid JSON); the row then carries no raw fields rather than
		// failing the whole listing.
		sr.Origin, sr.DeliveryContext = nil, nil
		enc, _ = sr.AppendJSON(c.buf[:0])
	}
	c.buf = enc
	return &row{entry: e, enc: slices.Clone(enc[:len(enc)-1]), key: key, display: sr.DisplayName}
}

// keeps is the filter of listSessionsFromStore before sorting: global and
// unknown on request, then agentId, spawnedBy and label.
func (o listOpts) keeps(agent, key string, e *sessionstore.Entry) bool {
	switch {
	case !o.includeGlobal && key == sessionstore.KeyGlobal, !o.includeUnknown && key == sessionstore.KeyUnknown:
		return false
	}
	if agent != "" {
		a, _, ok := sessionstore.ParseAgentKey(key)
		if !ok || sessionstore.NormalizeAgentID(a) != agent {
			return false
		}
	}
	if o.spawnedBy != "" && (key == sessionstore.KeyGlobal || key == sessionstore.KeyUnknown || e.SpawnedBy != o.spawnedBy) {
		return false
	}
	return o.label == "" || e.Label == o.label
}

func (h *handlers) rowsPath(o listOpts) ([]*row, string) {
	agent := ""
	if o.agentID != "" {
		agent = sessionstore.NormalizeAgentID(o.agentID)
	}
	c := &h.cache
	c.mu.Lock()
	if c.rows == nil {
		c.rows = map[string]*row{}
	}
	c.gen++
	gen := c.gen
	seen := c.seen[:0]
	changed, dup := false, false
	rows := make([]*row, 0, len(c.rows))
	path := h.d.Store.Range(func(key, _ string, e *sessionstore.Entry) {
		r := c.rows[key]
		dup = dup || (r != nil && r.gen == gen)
		if r == nil || r.entry != e {
			r = c.newRow(key, e)
			c.rows[key] = r
			changed = true
		}
		r.gen = gen
		seen = append(seen, r)
		if o.keeps(agent, key, e) {
			rows = append(rows, r)
		}
	})
	// The cache keeps exactly the rows of the store's current entries: a
	// rewritten or deleted entry's old row goes once anything changed.
	if changed || dup || len(c.rows) != len(seen) {
		m := make(map[string]*row, len(seen))
		for _, r := range seen {
			m[r.key] = r
		}
		c.rows = m
	}
	clear(seen)
	c.seen = seen[:0]
	c.mu.Unlock()
	// A key in two stores keeps the later one, as the original's merge.
	if dup {
		last := make(map[string]int, len(rows))
		for i, r := range rows {
			last[r.key] = i
		}
		kept := rows[:0]
		for i, r := range rows {
			if last[r.key] == i {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	// Newest first, file order among equals (the original's stable
	// Array.prototype.sort): an unstable sort of (updatedAt, position),
	// pointer-free so it runs without write barriers.
	ord := make([]rowOrder, len(rows))
	for i, r := range rows {
		ord[i] = rowOrder{r.entry.UpdatedAt, i}
	}
	slices.SortFunc(ord, func(a, b rowOrder) int {
		if c := cmp.Compare(b.at, a.at); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	sorted := make([]*row, len(rows))
	for i, x := range ord {
		sorted[i] = rows[x.i]
	}
	rows = sorted
	now := h.now().UnixMilli()
	kept := rows[:0]
	for _, r := range rows {
		if o.search != "" && !r.matches(o.search) {
			continue
		}
		if o.activeMinutes > 0 && (r.entry.UpdatedAt == 0 || r.entry.UpdatedAt < now-o.activeMinutes*60_000) {
			continue
		}
		kept = append(kept, r)
	}
	rows = kept
	if o.limit > 0 && int64(len(rows)) > o.limit {
		rows = rows[:o.limit]
	}
	return rows, path
}

func (r *row) matches(q string) bool {
	for _, f := range [...]string{r.display, r.entry.Label, r.entry.Subject, r.entry.SessionID, r.key} {
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
		// The original's {channel, to?, accountId?}, in the key order
		// json.Marshal gave the map this used to be (sorted).
		dc := []byte("{")
		if e.LastAccountID != "" {
			dc = wire.AppendString(append(dc, `"accountId":`...), e.LastAccountID)
			dc = append(dc, ',')
		}
		dc = wire.AppendString(append(dc, `"channel":`...), e.LastChannel)
		if e.LastTo != "" {
			dc = wire.AppendString(append(dc, `,"to":`...), e.LastTo)
		}
		r.DeliveryContext = append(dc, '}')
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
	envelopePrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\[([^\]]+)\]\s*`) })
	envelopeDate   = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z\b|\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b`)
	})
	messageIDLine  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^\s*\[message_id:\s*[^\]]+\]\s*$`) })
	envelopeLabels = []string{"WebChat", "WhatsApp", "Telegram", "Signal", "Slack", "Discord", "Google Chat", "iMessage", "Teams", "Matrix", "Zalo", "Zalo Personal", "BlueBubbles"}
)

// stripEnvelope removes a channel envelope header ("[Telegram Bob
// 2026-01-02 10:00] ...") as the original's chat-sanitize does.
func stripEnvelope(s string) string {
	m := envelopePrefix().FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	header := s[m[2]:m[3]]
	ok := envelopeDate().MatchString(header)
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
		if !messageIDLine().MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
