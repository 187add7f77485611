// Package telegram is the Telegram channel: a Bot API client on telego
// (long polling with the original's persisted update offset, retries with
// backoff, 409 conflicts reported in status), outbound text in 4000-char
// chunks rendered as Telegram HTML with a plain-text retry, media by URL or
// path, typing indicators, inbound DMs and groups with mention detection,
// and the status/probe/logout shapes of doc/messaging.md §1.14 and §5.2.
package telegram

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// DefaultAccountID is the account the channel section itself describes.
const DefaultAccountID = "default"

// DefaultAPIRoot is the public Bot API.
const DefaultAPIRoot = "https://api.telegram.org"

// DefaultTextChunkLimit is the original's chunk size (not Telegram's 4096:
// HTML entities and markers need headroom).
const DefaultTextChunkLimit = 4000

// TokenEnv is the environment variable the default account falls back to.
const TokenEnv = "TELEGRAM_BOT_TOKEN"

// Token sources as channels.status reports them.
const (
	TokenSourceFile   = "tokenFile"
	TokenSourceConfig = "config"
	TokenSourceEnv    = "env"
	TokenSourceNone   = "none"
)

// StringList is a JSON list whose entries may be strings or numbers
// (allowFrom holds user ids written either way).
type StringList []string

// UnmarshalJSON accepts ["123", 456, "@name"].
func (l *StringList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("want a list of ids or usernames: %w", err)
	}
	out := make(StringList, 0, len(raw))
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(r, &n); err != nil {
			return fmt.Errorf("list entry %s is neither a string nor a number", r)
		}
		out = append(out, n.String())
	}
	*l = out
	return nil
}

// GroupConfig is one entry of channels.telegram.groups.
type GroupConfig struct {
	RequireMention *bool                  `json:"requireMention,omitempty"`
	Enabled        *bool                  `json:"enabled,omitempty"`
	AllowFrom      StringList             `json:"allowFrom,omitempty"`
	SystemPrompt   string                 `json:"systemPrompt,omitempty"`
	Topics         map[string]GroupConfig `json:"topics,omitempty"`
}

// AccountConfig is one account's settings after the account's fields are
// laid over the section's (doc/messaging.md §5.1). Fields the Go channel
// does not act on yet are still accepted by the config schema elsewhere.
type AccountConfig struct {
	Enabled        *bool                  `json:"enabled,omitempty"`
	Name           string                 `json:"name,omitempty"`
	BotToken       string                 `json:"botToken,omitempty"`
	TokenFile      string                 `json:"tokenFile,omitempty"`
	APIRoot        string                 `json:"apiRoot,omitempty"`
	DMPolicy       string                 `json:"dmPolicy,omitempty"`
	AllowFrom      StringList             `json:"allowFrom,omitempty"`
	GroupPolicy    string                 `json:"groupPolicy,omitempty"`
	GroupAllowFrom StringList             `json:"groupAllowFrom,omitempty"`
	Groups         map[string]GroupConfig `json:"groups,omitempty"`
	TextChunkLimit int                    `json:"textChunkLimit,omitempty"`
	ChunkMode      string                 `json:"chunkMode,omitempty"`
	LinkPreview    *bool                  `json:"linkPreview,omitempty"`
	ReplyToMode    string                 `json:"replyToMode,omitempty"`
	WebhookURL     string                 `json:"webhookUrl,omitempty"`
	WebhookSecret  string                 `json:"webhookSecret,omitempty"`
	WebhookPath    string                 `json:"webhookPath,omitempty"`
	TimeoutSeconds int                    `json:"timeoutSeconds,omitempty"`
	Proxy          string                 `json:"proxy,omitempty"`
	MediaMaxMB     float64                `json:"mediaMaxMb,omitempty"`
}

// Account is a resolved account: merged settings plus its token.
type Account struct {
	ID          string
	Enabled     bool
	Token       string
	TokenSource string
	// TokenProblem says why a configured tokenFile gave no token (missing,
	// unreadable); empty otherwise.
	TokenProblem string
	Config       AccountConfig
}

// Configured reports whether the account has a token.
func (a Account) Configured() bool { return a.Token != "" }

// Mode is "webhook" when webhookUrl is set, else "polling".
func (a Account) Mode() string {
	if strings.TrimSpace(a.Config.WebhookURL) != "" {
		return "webhook"
	}
	return "polling"
}

// APIRoot is apiRoot or the public Bot API, without a trailing slash.
func (a Account) APIRoot() string {
	root := strings.TrimRight(strings.TrimSpace(a.Config.APIRoot), "/")
	if root == "" {
		return DefaultAPIRoot
	}
	return root
}

// TextChunkLimit is textChunkLimit or 4000, capped at Telegram's 4096.
func (a Account) TextChunkLimit() int {
	n := a.Config.TextChunkLimit
	if n <= 0 {
		return DefaultTextChunkLimit
	}
	return min(n, 4096)
}

// DMPolicy is dmPolicy or "pairing".
func (a Account) DMPolicy() string {
	if p := strings.TrimSpace(a.Config.DMPolicy); p != "" {
		return p
	}
	return "pairing"
}

// GroupPolicy is groupPolicy or "allowlist".
func (a Account) GroupPolicy() string {
	if p := strings.TrimSpace(a.Config.GroupPolicy); p != "" {
		return p
	}
	return "allowlist"
}

var accountIDSimple = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`) })
var accountIDBad = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9_-]+`) })

// NormalizeAccountID normalises an account id like an agent id: lower case,
// other characters runs → "-", empty → "default".
func NormalizeAccountID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return DefaultAccountID
	}
	if accountIDSimple().MatchString(id) {
		return id
	}
	id = strings.Trim(accountIDBad().ReplaceAllString(id, "-"), "-")
	if len(id) > 64 {
		id = id[:64]
	}
	if id == "" {
		return DefaultAccountID
	}
	return id
}

// section is channels.telegram as raw fields, so an account's fields can be
// laid over the section's one by one ({...base, ...account}).
type section map[string]json.RawMessage

func parseSection(raw json.RawMessage) (section, error) {
	s := section{}
	if len(raw) == 0 || string(raw) == "null" {
		return s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("channels.telegram: want an object: %w", err)
	}
	return s, nil
}

func (s section) accounts() (map[string]json.RawMessage, error) {
	raw, ok := s["accounts"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("channels.telegram.accounts: want an object of accounts: %w", err)
	}
	return m, nil
}

// ListAccountIDs lists the configured account ids: the keys of accounts
// (normalised, sorted), or just "default" when there are none.
func ListAccountIDs(raw json.RawMessage) ([]string, error) {
	s, err := parseSection(raw)
	if err != nil {
		return nil, err
	}
	accts, err := s.accounts()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for k := range accts {
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
		return []string{DefaultAccountID}, nil
	}
	sort.Strings(ids)
	return ids, nil
}

// ResolveAccount merges the account's fields over channels.telegram (raw is
// that section) and resolves its token; getenv is os.Getenv in production.
func ResolveAccount(raw json.RawMessage, accountID string, getenv func(string) string) (Account, error) {
	id := NormalizeAccountID(accountID)
	s, err := parseSection(raw)
	if err != nil {
		return Account{}, err
	}
	accts, err := s.accounts()
	if err != nil {
		return Account{}, err
	}
	var acctRaw json.RawMessage
	if r, ok := accts[accountID]; ok {
		acctRaw = r
	} else {
		for k, r := range accts {
			if NormalizeAccountID(k) == id {
				acctRaw = r
				break
			}
		}
	}
	merged := section{}
	for k, v := range s {
		if k != "accounts" {
			merged[k] = v
		}
	}
	var acctFields section
	if len(acctRaw) > 0 && string(acctRaw) != "null" {
		if err := json.Unmarshal(acctRaw, &acctFields); err != nil {
			return Account{}, fmt.Errorf("channels.telegram.accounts.%s: want an object: %w", id, err)
		}
	}
	for k, v := range acctFields {
		merged[k] = v
	}
	b, _ := json.Marshal(merged)
	var cfg AccountConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return Account{}, fmt.Errorf("channels.telegram (account %s): %w", id, err)
	}
	var base, own AccountConfig
	rawBase, _ := json.Marshal(s.withoutAccounts())
	_ = json.Unmarshal(rawBase, &base)
	if acctFields != nil {
		rawOwn, _ := json.Marshal(acctFields)
		_ = json.Unmarshal(rawOwn, &own)
	}
	a := Account{ID: id, Config: cfg}
	a.Enabled = (base.Enabled == nil || *base.Enabled) && (cfg.Enabled == nil || *cfg.Enabled)
	a.Token, a.TokenSource, a.TokenProblem = resolveToken(id, base, own, acctFields != nil, getenv)
	return a, nil
}

func (s section) withoutAccounts() section {
	out := section{}
	for k, v := range s {
		if k != "accounts" {
			out[k] = v
		}
	}
	return out
}

// resolveToken follows the original's order (doc/messaging.md §5.2): the
// account's tokenFile then botToken; for "default" only, the section's
// tokenFile, botToken, then TELEGRAM_BOT_TOKEN. A configured tokenFile that
// is missing gives no token at all (it does not fall through).
func resolveToken(id string, base, own AccountConfig, hasOwn bool, getenv func(string) string) (token, source, problem string) {
	prefix := "channels.telegram.accounts." + id
	if hasOwn {
		if f := strings.TrimSpace(own.TokenFile); f != "" {
			tok, prob := readTokenFile(prefix+".tokenFile", f)
			if tok != "" {
				return tok, TokenSourceFile, ""
			}
			return "", TokenSourceNone, prob
		}
		if t := strings.TrimSpace(own.BotToken); t != "" {
			return t, TokenSourceConfig, ""
		}
	}
	if id != DefaultAccountID {
		return "", TokenSourceNone, ""
	}
	if f := strings.TrimSpace(base.TokenFile); f != "" {
		tok, prob := readTokenFile("channels.telegram.tokenFile", f)
		if tok != "" {
			return tok, TokenSourceFile, ""
		}
		if prob != "" {
			return "", TokenSourceNone, prob
		}
	}
	if t := strings.TrimSpace(base.BotToken); t != "" {
		return t, TokenSourceConfig, ""
	}
	if getenv != nil {
		if t := strings.TrimSpace(getenv(TokenEnv)); t != "" {
			return t, TokenSourceEnv, ""
		}
	}
	return "", TokenSourceNone, ""
}

func readTokenFile(key, path string) (token, problem string) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "", fmt.Sprintf("%s not found: %s", key, path)
	}
	if err != nil {
		return "", fmt.Sprintf("%s read failed: %v", key, err)
	}
	return strings.TrimSpace(string(b)), ""
}
