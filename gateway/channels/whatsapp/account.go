//lint:file-ignore ST1005 these errors are the original's user-facing texts (web.login.*, send, logout): clients show them verbatim, capitalised and punctuated

package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// DefaultTextChunkLimit is WhatsApp's reply chunk size when
// channels.whatsapp.textChunkLimit is unset (doc/messaging.md §1.9).
const DefaultTextChunkLimit = 4000

// defaultMediaMaxMB bounds an inbound download and an outbound upload when
// channels.whatsapp.mediaMaxMb is unset (the original's 50).
const defaultMediaMaxMB = 50

// maxMediaMaxMB caps a configured mediaMaxMb: WhatsApp itself refuses
// documents over 2 GB, and the whole file is held in memory.
const maxMediaMaxMB = 2048

// ErrNotLinked is wrapped by errors of an account that has no paired
// device: sends answer NOT_LINKED (the original defines the code and
// never uses it). It is the framework's sentinel.
var ErrNotLinked = channels.ErrNotLinked

// notLinkedError is the user-facing not-linked error: it says what to run.
type notLinkedError struct{ account string }

func (e notLinkedError) Error() string {
	return fmt.Sprintf("WhatsApp is not linked (account: %s). Link it with: clawdbot channels login --channel whatsapp --account %s", e.account, e.account)
}

func (e notLinkedError) Is(target error) bool { return target == ErrNotLinked }

// noListenerError is the original's error when the account is linked but
// not connected (doc/messaging.md §5.3, d:web/active-listener.js).
func noListenerError(account string) error {
	return fmt.Errorf("No active WhatsApp Web listener (account: %s). Start the gateway, then link WhatsApp with: clawdbot channels login --channel whatsapp --account %s.", account, account)
}

// ReconnectPolicy is web.reconnect (d:web/reconnect.js).
type ReconnectPolicy struct {
	InitialMs   float64 `json:"initialMs"`
	MaxMs       float64 `json:"maxMs"`
	Factor      float64 `json:"factor"`
	Jitter      float64 `json:"jitter"`
	MaxAttempts int     `json:"maxAttempts"`
}

// DefaultReconnectPolicy is the original's DEFAULT_RECONNECT_POLICY.
var DefaultReconnectPolicy = ReconnectPolicy{InitialMs: 2000, MaxMs: 30000, Factor: 1.8, Jitter: 0.25, MaxAttempts: 12}

// clamp applies the original's bounds to a configured policy.
func (p ReconnectPolicy) clamp() ReconnectPolicy {
	p.InitialMs = math.Max(250, p.InitialMs)
	p.MaxMs = math.Max(p.InitialMs, p.MaxMs)
	p.Factor = math.Min(10, math.Max(1.1, p.Factor))
	p.Jitter = math.Min(1, math.Max(0, p.Jitter))
	if p.MaxAttempts < 0 {
		p.MaxAttempts = 0
	}
	return p
}

// delay is the wait before reconnect attempt n (1-based).
func (p ReconnectPolicy) delay(n int) time.Duration {
	ms := p.InitialMs * math.Pow(p.Factor, float64(n-1))
	ms = math.Min(ms, p.MaxMs)
	ms += ms * p.Jitter * rand.Float64()
	return time.Duration(ms * float64(time.Millisecond))
}

// Settings are an account's config fields the channel itself reads
// (access control is the framework's).
type Settings struct {
	// AccountID is the normalised account id.
	AccountID string
	// Dir is the auth directory: accounts.<id>.authDir or
	// <stateDir>/credentials/whatsapp/<accountId>.
	Dir string
	// MediaDir is where inbound media are saved.
	MediaDir string
	// AllowFrom is the configured allowFrom (target fallback, self-chat).
	AllowFrom []string
	// DMPolicy and GroupPolicy gate read receipts like the original, which
	// marks only messages its access control lets through.
	DMPolicy, GroupPolicy string
	// SendReadReceipts is channels.whatsapp.sendReadReceipts (default true).
	SendReadReceipts bool
	// MediaMaxBytes bounds media in both directions.
	MediaMaxBytes int64
	// Reconnect is web.reconnect, already clamped.
	Reconnect ReconnectPolicy
}

// fileConfig is the subset of channels.whatsapp[.accounts.<id>] read here.
type fileConfig struct {
	AuthDir          string            `json:"authDir"`
	AllowFrom        []json.RawMessage `json:"allowFrom"`
	DMPolicy         string            `json:"dmPolicy"`
	GroupPolicy      string            `json:"groupPolicy"`
	SendReadReceipts *bool             `json:"sendReadReceipts"`
	MediaMaxMb       float64           `json:"mediaMaxMb"`
}

// ParseSettings builds Settings from the merged account config, the root
// channels.whatsapp section (dmPolicy is read from the root only, as the
// original's access control does) and the whole config document (web).
func ParseSettings(accountID, stateDir string, merged, section, root json.RawMessage) (Settings, error) {
	var fc fileConfig
	if len(merged) > 0 {
		if err := json.Unmarshal(merged, &fc); err != nil {
			return Settings{}, fmt.Errorf("channels.whatsapp: %v", err)
		}
	}
	var sec fileConfig
	_ = json.Unmarshal(section, &sec)
	var doc struct {
		Web struct {
			Reconnect json.RawMessage `json:"reconnect"`
		} `json:"web"`
	}
	_ = json.Unmarshal(root, &doc)
	pol := DefaultReconnectPolicy
	if len(doc.Web.Reconnect) > 0 {
		_ = json.Unmarshal(doc.Web.Reconnect, &pol)
	}
	s := Settings{
		AccountID:        accountID,
		Dir:              filepath.Join(stateDir, "credentials", "whatsapp", accountID),
		MediaDir:         filepath.Join(stateDir, "media", "inbound"),
		DMPolicy:         sec.DMPolicy,
		GroupPolicy:      fc.GroupPolicy,
		SendReadReceipts: fc.SendReadReceipts == nil || *fc.SendReadReceipts,
		MediaMaxBytes:    defaultMediaMaxMB << 20,
		Reconnect:        pol.clamp(),
	}
	if s.DMPolicy == "" {
		s.DMPolicy = "pairing"
	}
	if d := strings.TrimSpace(fc.AuthDir); d != "" {
		s.Dir = expandHome(d)
	}
	if fc.MediaMaxMb > 0 {
		s.MediaMaxBytes = int64(math.Min(fc.MediaMaxMb, maxMediaMaxMB) * (1 << 20))
	}
	for _, e := range fc.AllowFrom {
		var str string
		if json.Unmarshal(e, &str) == nil {
			s.AllowFrom = append(s.AllowFrom, str)
			continue
		}
		var n json.Number
		if json.Unmarshal(e, &n) == nil {
			s.AllowFrom = append(s.AllowFrom, n.String())
		}
	}
	return s, nil
}

// Options are the account's seams: tests pass a fake client factory and
// a fast reconnect policy.
type Options struct {
	// NewClient builds the whatsmeow client (default NewWhatsmeowClient).
	NewClient ClientFactory
	// Now is the clock (default time.Now).
	Now func() time.Time
	// LoginTTL is how long a QR login stays fresh (default 3 min).
	LoginTTL time.Duration
}

// Sink is where a running account reports: the framework's host.
type Sink interface {
	SetStatus(fields map[string]any)
	Inbound(m Inbound)
	Logf(format string, args ...any)
}

// Account is one WhatsApp account: its store, its login in progress and,
// while Run runs, its connection. Safe for concurrent use.
type Account struct {
	set       Settings
	newClient ClientFactory
	now       func() time.Time
	loginTTL  time.Duration
	// qrWaitFloor is the least time web.login.start waits for a first QR
	// (5 s; tests lower it).
	qrWaitFloor time.Duration

	mu       sync.Mutex
	st       *Store
	device   *store.Device
	self     types.JID
	linked   bool
	active   Client // the connected runtime client; nil when down
	login    *loginState
	loginSeq int
	seen     dedupe
}

// NewAccount builds an account from its settings. It opens the store only
// when one exists (a never-linked account does no SQLite work).
func NewAccount(set Settings, opt Options) (*Account, error) {
	a := &Account{set: set, newClient: opt.NewClient, now: opt.Now, loginTTL: opt.LoginTTL, qrWaitFloor: 5 * time.Second}
	if a.newClient == nil {
		a.newClient = NewWhatsmeowClient
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.loginTTL <= 0 {
		a.loginTTL = 3 * time.Minute
	}
	if StoreExists(set.Dir) {
		if err := a.refresh(context.Background()); err != nil {
			return a, err
		}
	}
	return a, nil
}

// Settings are the account's settings.
func (a *Account) Settings() Settings { return a.set }

// refresh (re)opens the store and reloads the linked device.
func (a *Account) refresh(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refreshLocked(ctx)
}

func (a *Account) refreshLocked(ctx context.Context) error {
	if a.st == nil {
		st, err := OpenStore(ctx, a.set.Dir)
		if err != nil {
			return err
		}
		a.st = st
	}
	dev, err := a.st.Device(ctx)
	if err != nil {
		return err
	}
	a.device = dev
	a.linked = dev.ID != nil
	a.self = types.JID{}
	if dev.ID != nil {
		a.self = *dev.ID
	}
	return nil
}

// forgetLocked deletes the store directory and the cached device.
func (a *Account) forgetLocked() error {
	var err error
	if a.st != nil {
		err = a.st.Delete()
		a.st = nil
	} else if StoreExists(a.set.Dir) {
		err = removeAll(a.set.Dir)
	}
	a.device, a.linked, a.self = nil, false, types.JID{}
	return err
}

// Linked reports whether whatsmeow has a paired device in the store.
func (a *Account) Linked() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.linked
}

// Self is the linked number's E.164 and JID ("" when not linked).
func (a *Account) Self() (e164, jid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.linked {
		return "", ""
	}
	return jidE164(a.self.ToNonAD()), a.self.ToNonAD().String()
}

// StatusFields are the account's config- and store-derived status fields
// (doc/messaging.md §1.14): linked, authAgeMs, self.
func (a *Account) StatusFields() map[string]any {
	e164, jid := a.Self()
	self := map[string]any{"e164": nilIfEmpty(e164), "jid": nilIfEmpty(jid)}
	var age any
	if a.Linked() {
		if d, ok := AuthAge(a.set.Dir, a.now()); ok {
			age = d.Milliseconds()
		}
	}
	return map[string]any{"linked": a.Linked(), "authAgeMs": age, "self": self}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ResolveTarget normalises a send target; mode is "explicit" (send),
// "implicit" or "heartbeat" (doc/messaging.md §5.3).
func (a *Account) ResolveTarget(to, mode string) (string, error) {
	return resolveTarget(to, targetMode(mode), a.set.AllowFrom)
}

// activeClient is the connected client, or the error send shows.
func (a *Account) activeClient() (Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.linked {
		return nil, notLinkedError{a.set.AccountID}
	}
	if a.active == nil || !a.active.IsConnected() {
		return nil, noListenerError(a.set.AccountID)
	}
	return a.active, nil
}

// dedupe remembers recently seen message ids (whatsmeow redelivers after
// decryption retries); bounded to dedupeSize entries.
type dedupe struct {
	ring []string
	set  map[string]bool
	next int
}

const dedupeSize = 1000

func (d *dedupe) seen(key string) bool {
	if d.set == nil {
		d.set = map[string]bool{}
		d.ring = make([]string, dedupeSize)
	}
	if d.set[key] {
		return true
	}
	if old := d.ring[d.next]; old != "" {
		delete(d.set, old)
	}
	d.ring[d.next] = key
	d.set[key] = true
	d.next = (d.next + 1) % dedupeSize
	return false
}
