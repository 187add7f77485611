package sessions

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

func msTime(ms int64) time.Time { return time.UnixMilli(ms) }

// chat.history limits (d:gateway/server-methods/chat.js).
const (
	historyDefault  = 200
	historyHardMax  = 1000
	historyMaxBytes = 6 << 20
)

// history answers chat.history: the last min(limit, 1000) messages of the
// session's transcript, channel envelopes and [message_id] lines stripped
// from user messages, trimmed from the front to the byte cap. The key is
// echoed as given; an unknown session has no sessionId and no messages.
func (h *handlers) history(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ChatHistoryParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	limit := historyDefault
	if p.Limit != nil {
		limit = int(min(*p.Limit, historyHardMax))
	}
	res := wire.ChatHistoryResult{SessionKey: p.SessionKey, Messages: []json.RawMessage{}}
	cfg := h.d.Store.Config()
	e, ok := h.d.Store.Get(p.SessionKey)
	if ok {
		res.SessionID = e.SessionID
		if path := h.d.Store.FindTranscript(h.d.Store.Target(p.SessionKey), e); path != "" {
			msgs, err := sessionstore.ReadRawMessages(path, limit)
			if err != nil {
				return nil, rpc.Unavailable("read transcript: " + err.Error())
			}
			for i, m := range msgs {
				msgs[i] = sanitizeUser(m)
			}
			res.Messages = capBytes(msgs, h.maxBytes())
		}
	}
	res.ThinkingLevel = e.ThinkingLevel
	if res.ThinkingLevel == "" {
		res.ThinkingLevel = cfg.ThinkingDefault
	}
	if res.ThinkingLevel == "" {
		res.ThinkingLevel = "off" // the catalog default of models without reasoning
	}
	return res, nil
}

func (h *handlers) maxBytes() int {
	if h.d.HistoryMaxBytes > 0 {
		return h.d.HistoryMaxBytes
	}
	return historyMaxBytes
}

// capBytes drops messages from the front until the JSON array fits max
// (always keeping the last one), as capArrayByJsonBytes.
func capBytes(msgs []json.RawMessage, max int) []json.RawMessage {
	if len(msgs) == 0 {
		return msgs
	}
	total := 2 + len(msgs) - 1
	for _, m := range msgs {
		total += len(m)
	}
	start := 0
	for total > max && start < len(msgs)-1 {
		total -= len(msgs[start]) + 1
		start++
	}
	return msgs[start:]
}

// sanitizeUser strips envelopes and message-id hints from a user message;
// other messages (and unchanged ones) stay byte-for-byte as stored.
func sanitizeUser(m json.RawMessage) json.RawMessage {
	if !bytes.Contains(m, []byte(`"user"`)) {
		return m
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(m, &fields) != nil {
		return m
	}
	var role string
	if json.Unmarshal(fields["role"], &role) != nil || strings.ToLower(role) != "user" {
		return m
	}
	strip := func(s string) string { return stripMessageIDs(stripEnvelope(s)) }
	var s string
	changed := false
	if json.Unmarshal(fields["content"], &s) == nil {
		if t := strip(s); t != s {
			fields["content"], _ = marshal(t)
			changed = true
		}
	} else {
		var parts []map[string]json.RawMessage
		if json.Unmarshal(fields["content"], &parts) == nil {
			for _, part := range parts {
				var typ, text string
				if json.Unmarshal(part["type"], &typ) != nil || typ != "text" || json.Unmarshal(part["text"], &text) != nil {
					continue
				}
				if t := strip(text); t != text {
					part["text"], _ = marshal(t)
					changed = true
				}
			}
			if changed {
				fields["content"], _ = marshalParts(parts)
			}
		}
	}
	if !changed {
		return m
	}
	// Key order of the original message: re-encode in its order.
	return reorder(m, fields)
}

func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n"), err
}

func marshalParts(parts []map[string]json.RawMessage) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		raw, _ := marshal(p)
		b.Write(raw)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// reorder writes fields in the key order of orig.
func reorder(orig json.RawMessage, fields map[string]json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(orig))
	if _, err := dec.Token(); err != nil {
		return orig
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return orig
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return orig
		}
		k := t.(string)
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(fields[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}
