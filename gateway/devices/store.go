// Package devices is device identity and pairing (doc/protocol.md §1.5, §3.6): the
// paired/pending store under <state>/devices/ and the per-(device, role)
// tokens, the identity checks the handshake runs on a connect's device
// block, and the device.pair.* and device.token.* methods.
package devices

import (
	"crypto/subtle"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/internal/statefile"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// PendingTTL is how long a pairing request waits for a decision.
const PendingTTL = 5 * time.Minute

// Token is one per-(device, role) token (doc/protocol.md §1.5).
type Token struct {
	Token        string   `json:"token"`
	Role         string   `json:"role"`
	Scopes       []string `json:"scopes"`
	CreatedAtMs  int64    `json:"createdAtMs"`
	RotatedAtMs  int64    `json:"rotatedAtMs,omitempty"`
	RevokedAtMs  int64    `json:"revokedAtMs,omitempty"`
	LastUsedAtMs int64    `json:"lastUsedAtMs,omitempty"`
}

func (t Token) IssuedAt() int64 {
	if t.RotatedAtMs != 0 {
		return t.RotatedAtMs
	}
	return t.CreatedAtMs
}

// Paired is one entry of devices/paired.json, keyed by device id.
type Paired struct {
	DeviceID     string           `json:"deviceId"`
	PublicKey    string           `json:"publicKey"`
	DisplayName  string           `json:"displayName,omitempty"`
	Platform     string           `json:"platform,omitempty"`
	ClientID     string           `json:"clientId,omitempty"`
	ClientMode   string           `json:"clientMode,omitempty"`
	Role         string           `json:"role,omitempty"`
	Roles        []string         `json:"roles,omitempty"`
	Scopes       []string         `json:"scopes,omitempty"`
	RemoteIP     string           `json:"remoteIp,omitempty"`
	Tokens       map[string]Token `json:"tokens,omitempty"`
	CreatedAtMs  int64            `json:"createdAtMs"`
	ApprovedAtMs int64            `json:"approvedAtMs"`
}

// Store is the paired/pending device store under <state>/devices/.
// It is read once and written through atomically (0600: it holds tokens).
// A pending entry (pending.json, keyed by request id) is the
// device.pair.requested payload itself, as in the original: the event
// broadcasts the stored request.
type Store struct {
	dir    string
	now    func() time.Time
	mu     sync.Mutex
	loaded bool
	paired map[string]*Paired
	pend   map[string]*wire.DevicePairRequestedEvent
}

// NewStore returns the store under <stateDir>/devices (in memory only when
// stateDir is ""); it is read at first use.
func NewStore(stateDir string, now func() time.Time) *Store {
	dir := ""
	if stateDir != "" {
		dir = filepath.Join(stateDir, "devices")
	}
	return &Store{dir: dir, now: now}
}

func (d *Store) loadLocked() error {
	if d.loaded {
		d.pruneLocked()
		return nil
	}
	d.paired = map[string]*Paired{}
	d.pend = map[string]*wire.DevicePairRequestedEvent{}
	if d.dir != "" {
		if err := statefile.Read(filepath.Join(d.dir, "paired.json"), &d.paired); err != nil {
			return err
		}
		if err := statefile.Read(filepath.Join(d.dir, "pending.json"), &d.pend); err != nil {
			return err
		}
	}
	d.loaded = true
	d.pruneLocked()
	return nil
}

func (d *Store) pruneLocked() {
	cutoff := d.now().Add(-PendingTTL).UnixMilli()
	for k, p := range d.pend {
		if p.TS < cutoff {
			delete(d.pend, k)
		}
	}
}

func (d *Store) saveLocked() error {
	if d.dir == "" {
		return nil
	}
	if err := statefile.Write(filepath.Join(d.dir, "pending.json"), d.pend); err != nil {
		return err
	}
	return statefile.Write(filepath.Join(d.dir, "paired.json"), d.paired)
}

func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// IsPaired reports a pairing with the same public key,, the role among its roles, every scope granted.
func (d *Store) IsPaired(id, pubKey, role string, scopes []string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loadLocked() != nil {
		return false
	}
	p := d.paired[id]
	if p == nil || p.PublicKey != pubKey {
		return false
	}
	roles := p.Roles
	if len(roles) == 0 && p.Role != "" {
		roles = []string{p.Role}
	}
	return slices.Contains(roles, role) && subset(scopes, p.Scopes)
}

// PairRequest is the pairing request a connect asks for; a local
// client's is silent (approved without asking an operator).
func PairRequest(p *wire.ConnectParams, pubKey, role string, scopes []string, local bool, remote string) wire.DevicePairRequestedEvent {
	r := wire.DevicePairRequestedEvent{
		DeviceID: p.Device.ID, PublicKey: pubKey, DisplayName: p.Client.DisplayName,
		Platform: p.Client.Platform, ClientID: p.Client.ID, ClientMode: p.Client.Mode,
		Role: role, Roles: []string{role}, Scopes: slices.Clone(scopes), Silent: trueOrNil(local),
		// Loopback included: the original records the client IP of a local
		// CLI too (testdata/captures/cli-devices-list.json).
		RemoteIP: remote,
	}
	return r
}

// RequestPairing returns the pending request for the device, creating it
// when there is none (created reports which).
func (d *Store) RequestPairing(r wire.DevicePairRequestedEvent) (wire.DevicePairRequestedEvent, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return wire.DevicePairRequestedEvent{}, false, err
	}
	for _, p := range d.pend {
		if p.DeviceID == r.DeviceID {
			// Refresh what is asked: a repeat may want more scopes.
			p.Roles = union(p.Roles, r.Roles)
			p.Scopes = union(p.Scopes, r.Scopes)
			p.PublicKey = r.PublicKey
			p.Silent = r.Silent
			return *p, false, d.saveLocked()
		}
	}
	r.RequestID = rpc.NewID()
	r.TS = d.now().UnixMilli()
	_, repair := d.paired[r.DeviceID]
	r.IsRepair = trueOrNil(repair)
	d.pend[r.RequestID] = &r
	return r, true, d.saveLocked()
}

// trueOrNil is the optional flag of a pairing request: set only when true,
// so a false silent/isRepair stays absent from the store and the event.
func trueOrNil(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

// ErrUnknownRequest means no pending request has that id.
var ErrUnknownRequest = errors.New("unknown requestId")

// ErrNotPaired means the device has no paired record (so no token to issue).
var ErrNotPaired = errors.New("device not paired")

// Approve moves a pending request to paired (roles and scopes unioned
// with an earlier pairing of the same key).
func (d *Store) Approve(requestID string) (wire.DevicePairResolvedEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return wire.DevicePairResolvedEvent{}, err
	}
	r := d.pend[requestID]
	if r == nil {
		return wire.DevicePairResolvedEvent{}, ErrUnknownRequest
	}
	now := d.now().UnixMilli()
	p := d.paired[r.DeviceID]
	if p == nil || p.PublicKey != r.PublicKey {
		p = &Paired{DeviceID: r.DeviceID, CreatedAtMs: now}
	}
	p.PublicKey = r.PublicKey
	p.DisplayName, p.Platform, p.ClientID, p.ClientMode = r.DisplayName, r.Platform, r.ClientID, r.ClientMode
	p.Role = r.Role
	p.Roles = union(p.Roles, r.Roles)
	p.Scopes = union(p.Scopes, r.Scopes)
	p.RemoteIP = r.RemoteIP
	p.ApprovedAtMs = now
	d.paired[r.DeviceID] = p
	delete(d.pend, requestID)
	return wire.DevicePairResolvedEvent{RequestID: requestID, DeviceID: r.DeviceID, Decision: wire.DecisionApproved, TS: now}, d.saveLocked()
}

// Reject drops a pending request.
func (d *Store) Reject(requestID string) (wire.DevicePairResolvedEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return wire.DevicePairResolvedEvent{}, err
	}
	r := d.pend[requestID]
	if r == nil {
		return wire.DevicePairResolvedEvent{}, ErrUnknownRequest
	}
	delete(d.pend, requestID)
	return wire.DevicePairResolvedEvent{RequestID: requestID, DeviceID: r.DeviceID, Decision: wire.DecisionRejected, TS: d.now().UnixMilli()}, d.saveLocked()
}

// EnsureToken finds or creates the device's token for role; it is reused
// when it covers the requested scopes.
func (d *Store) EnsureToken(id, role string, scopes []string) (Token, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return Token{}, err
	}
	p := d.paired[id]
	if p == nil {
		return Token{}, ErrNotPaired
	}
	if t, ok := p.Tokens[role]; ok && t.RevokedAtMs == 0 && subset(scopes, t.Scopes) {
		return t, nil
	}
	// A new token carries the requested scopes (not a union with the old
	// one's), like the original's ensureDeviceToken.
	t := d.issueLocked(p, role, normalizeScopes(scopes))
	return t, d.saveLocked()
}

// issueLocked replaces the device's token for role with a fresh one
// (32 hex chars, doc/protocol.md §1.5), keeping the old one's creation and last-use
// times and marking it rotated.
func (d *Store) issueLocked(p *Paired, role string, scopes []string) Token {
	now := d.now().UnixMilli()
	t := Token{Token: strings.ReplaceAll(rpc.NewID(), "-", ""), Role: role, Scopes: scopes, CreatedAtMs: now}
	if old, ok := p.Tokens[role]; ok {
		t.CreatedAtMs = old.CreatedAtMs
		t.RotatedAtMs = now
		t.LastUsedAtMs = old.LastUsedAtMs
	}
	if p.Tokens == nil {
		p.Tokens = map[string]Token{}
	}
	p.Tokens[role] = t
	return t
}

// normalizeScopes trims, drops empties and duplicates, and sorts, as the
// original stores a token's scopes.
func normalizeScopes(scopes []string) []string {
	out := []string{}
	for _, sc := range scopes {
		if sc = strings.TrimSpace(sc); sc != "" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	slices.Sort(out)
	return out
}

// ErrUnknownDeviceRole means no paired device with that id, or no token for that role.
var ErrUnknownDeviceRole = errors.New("unknown deviceId/role")

// RotateToken issues a new token for (device, role) (device.token.rotate,
// doc/protocol.md §3.6). Scopes default to the current token's, then the device's;
// explicit scopes also become the device's paired scopes, as in the
// original.
func (d *Store) RotateToken(id, role string, scopes []string) (Token, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return Token{}, err
	}
	p := d.paired[strings.TrimSpace(id)]
	role = strings.TrimSpace(role)
	if p == nil || role == "" {
		return Token{}, ErrUnknownDeviceRole
	}
	want := scopes
	if want == nil {
		if old, ok := p.Tokens[role]; ok {
			want = old.Scopes
		} else {
			want = p.Scopes
		}
	}
	want = normalizeScopes(want)
	t := d.issueLocked(p, role, want)
	t.RotatedAtMs = d.now().UnixMilli() // set even for a role that had no token
	p.Tokens[role] = t
	if scopes != nil {
		p.Scopes = want
	}
	return t, d.saveLocked()
}

// RevokeToken marks the (device, role) token revoked (device.token.revoke):
// it no longer authenticates, and the next connect that passes shared auth
// gets a new one.
func (d *Store) RevokeToken(id, role string) (Token, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return Token{}, err
	}
	p := d.paired[strings.TrimSpace(id)]
	if p == nil {
		return Token{}, ErrUnknownDeviceRole
	}
	t, ok := p.Tokens[strings.TrimSpace(role)]
	if !ok {
		return Token{}, ErrUnknownDeviceRole
	}
	t.RevokedAtMs = d.now().UnixMilli()
	p.Tokens[t.Role] = t
	return t, d.saveLocked()
}

// VerifyToken checks a presented device token: same token (constant
// time), not revoked, requested scopes within the token's scopes. A token
// that passes records its lastUsedAtMs, as the original's does.
func (d *Store) VerifyToken(id, role, token string, scopes []string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loadLocked() != nil {
		return false
	}
	p := d.paired[id]
	if p == nil {
		return false
	}
	t, ok := p.Tokens[role]
	if !ok || t.RevokedAtMs != 0 || subtle.ConstantTimeCompare([]byte(token), []byte(t.Token)) != 1 || !subset(scopes, t.Scopes) {
		return false
	}
	t.LastUsedAtMs = d.now().UnixMilli()
	p.Tokens[role] = t
	if err := d.saveLocked(); err != nil {
		return false // like the original, whose connect fails when the store cannot be written
	}
	return true
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// HasRole reports whether a paired device holds role.
func (d *Store) HasRole(id, role string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loadLocked() != nil {
		return false
	}
	p := d.paired[id]
	return p != nil && (p.Role == role || slices.Contains(p.Roles, role))
}

// PairedWithRole lists the paired devices holding role.
func (d *Store) PairedWithRole(role string) []Paired {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loadLocked() != nil {
		return nil
	}
	var out []Paired
	for _, p := range d.paired {
		if p.Role == role || slices.Contains(p.Roles, role) {
			out = append(out, *p)
		}
	}
	return out
}
