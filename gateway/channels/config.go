package channels

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// NormalizeAccountID normalises an account id like an agent id: trimmed,
// lowercased, characters outside [a-z0-9_-] collapsed to "-", empty →
// "default" (doc/messaging.md §5).
func NormalizeAccountID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	var b strings.Builder
	dash := false
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-'
		if !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		return DefaultAccountID
	}
	return out
}

// AccountIDs are the account ids of a channel section: the normalised keys
// of its "accounts" object, sorted, or ["default"] when it has none (the
// original's listAccountIds).
func AccountIDs(section json.RawMessage) []string {
	var s struct {
		Accounts map[string]json.RawMessage `json:"accounts"`
	}
	_ = json.Unmarshal(section, &s)
	seen := map[string]bool{}
	var ids []string
	for k := range s.Accounts {
		if k == "" {
			continue
		}
		id := NormalizeAccountID(k)
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return []string{DefaultAccountID}
	}
	sort.Strings(ids)
	return ids
}

// DefaultAccount is the account a request without accountId means:
// "default" when listed, else the first id.
func DefaultAccount(ids []string) string {
	for _, id := range ids {
		if id == DefaultAccountID {
			return id
		}
	}
	if len(ids) > 0 {
		return ids[0]
	}
	return DefaultAccountID
}

// AccountSection is the raw channels.<ch>.accounts.<id> object (matched
// after normalising the keys), or nil.
func AccountSection(section json.RawMessage, accountID string) json.RawMessage {
	var s struct {
		Accounts map[string]json.RawMessage `json:"accounts"`
	}
	if json.Unmarshal(section, &s) != nil {
		return nil
	}
	if a, ok := s.Accounts[accountID]; ok {
		return a
	}
	for k, a := range s.Accounts {
		if NormalizeAccountID(k) == accountID {
			return a
		}
	}
	return nil
}

// MergeAccount is the account's config: the section's top-level fields
// without "accounts", with the account's fields laid over them field by
// field (Telegram's {...base, ...account}; WhatsApp's account ?? root is
// the same for present fields). A section that is not an object gives {}.
func MergeAccount(section json.RawMessage, accountID string) json.RawMessage {
	base := map[string]json.RawMessage{}
	_ = json.Unmarshal(section, &base)
	delete(base, "accounts")
	acct := map[string]json.RawMessage{}
	_ = json.Unmarshal(AccountSection(section, accountID), &acct)
	for k, v := range acct {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		base[k] = v
	}
	out, err := json.Marshal(base)
	if err != nil {
		return json.RawMessage("{}")
	}
	return out
}

// Enabled reports whether neither the section nor the merged account says
// enabled:false.
func Enabled(section, merged json.RawMessage) bool {
	var s, m struct {
		Enabled *bool `json:"enabled"`
	}
	_ = json.Unmarshal(section, &s)
	_ = json.Unmarshal(merged, &m)
	return (s.Enabled == nil || *s.Enabled) && (m.Enabled == nil || *m.Enabled)
}

// ShapingConfig are the reply-shaping fields of a merged account config.
type ShapingConfig struct {
	TextChunkLimit int       `json:"textChunkLimit,omitempty"`
	ChunkMode      ChunkMode `json:"chunkMode,omitempty"`
}

// Shaping reads textChunkLimit and chunkMode from a merged config; the
// limit falls back to def (then DefaultTextChunkLimit).
func Shaping(merged json.RawMessage, def int) ShapingConfig {
	var s ShapingConfig
	_ = json.Unmarshal(merged, &s)
	if s.TextChunkLimit <= 0 {
		s.TextChunkLimit = def
	}
	if s.TextChunkLimit <= 0 {
		s.TextChunkLimit = DefaultTextChunkLimit
	}
	if s.ChunkMode != ChunkNewline {
		s.ChunkMode = ChunkLength
	}
	return s
}

// ParseAccess reads the access fields of a merged config; allowFrom entries
// may be strings or numbers in the file.
func ParseAccess(merged json.RawMessage) AccessConfig {
	var a AccessConfig
	_ = json.Unmarshal(merged, &a)
	return a
}

// EntryStrings turns allowFrom-style entries (strings or numbers) into
// strings, dropping anything else.
func EntryStrings(entries []json.RawMessage) []string {
	var out []string
	for _, e := range entries {
		var s string
		if json.Unmarshal(e, &s) == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if json.Unmarshal(e, &n) == nil {
			out = append(out, n.String())
		}
	}
	return out
}
