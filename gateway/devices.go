package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// pendingTTL is how long a pairing request waits for a decision.
const pendingTTL = 5 * time.Minute

// deviceToken is one per-(device, role) token (spec §1.5).
type deviceToken struct {
	Token        string   `json:"token"`
	Role         string   `json:"role"`
	Scopes       []string `json:"scopes"`
	CreatedAtMs  int64    `json:"createdAtMs"`
	RotatedAtMs  int64    `json:"rotatedAtMs,omitempty"`
	RevokedAtMs  int64    `json:"revokedAtMs,omitempty"`
	LastUsedAtMs int64    `json:"lastUsedAtMs,omitempty"`
}

func (t deviceToken) issuedAt() int64 {
	if t.RotatedAtMs != 0 {
		return t.RotatedAtMs
	}
	return t.CreatedAtMs
}

// pairedDevice is one entry of devices/paired.json, keyed by device id.
type pairedDevice struct {
	DeviceID     string                 `json:"deviceId"`
	PublicKey    string                 `json:"publicKey"`
	DisplayName  string                 `json:"displayName,omitempty"`
	Platform     string                 `json:"platform,omitempty"`
	ClientID     string                 `json:"clientId,omitempty"`
	ClientMode   string                 `json:"clientMode,omitempty"`
	Role         string                 `json:"role,omitempty"`
	Roles        []string               `json:"roles,omitempty"`
	Scopes       []string               `json:"scopes,omitempty"`
	RemoteIP     string                 `json:"remoteIp,omitempty"`
	Tokens       map[string]deviceToken `json:"tokens,omitempty"`
	CreatedAtMs  int64                  `json:"createdAtMs"`
	ApprovedAtMs int64                  `json:"approvedAtMs"`
}

// deviceStore is the paired/pending device store under <state>/devices/.
// It is read once and written through atomically (0600: it holds tokens).
// A pending entry (pending.json, keyed by request id) is the
// device.pair.requested payload itself, as in the original: the event
// broadcasts the stored request.
type deviceStore struct {
	dir    string
	now    func() time.Time
	mu     sync.Mutex
	loaded bool
	paired map[string]*pairedDevice
	pend   map[string]*wire.DevicePairRequestedEvent
}

func newDeviceStore(stateDir string, now func() time.Time) *deviceStore {
	dir := ""
	if stateDir != "" {
		dir = filepath.Join(stateDir, "devices")
	}
	return &deviceStore{dir: dir, now: now}
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is not valid JSON (%v); fix or remove it", path, err)
	}
	return nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return profiles.WriteFileAtomic(path, append(b, '\n'), 0o600)
}

func (d *deviceStore) loadLocked() error {
	if d.loaded {
		d.pruneLocked()
		return nil
	}
	d.paired = map[string]*pairedDevice{}
	d.pend = map[string]*wire.DevicePairRequestedEvent{}
	if d.dir != "" {
		if err := readJSONFile(filepath.Join(d.dir, "paired.json"), &d.paired); err != nil {
			return err
		}
		if err := readJSONFile(filepath.Join(d.dir, "pending.json"), &d.pend); err != nil {
			return err
		}
	}
	d.loaded = true
	d.pruneLocked()
	return nil
}

func (d *deviceStore) pruneLocked() {
	cutoff := d.now().Add(-pendingTTL).UnixMilli()
	for k, p := range d.pend {
		if p.TS < cutoff {
			delete(d.pend, k)
		}
	}
}

func (d *deviceStore) saveLocked() error {
	if d.dir == "" {
		return nil
	}
	if err := writeJSONFile(filepath.Join(d.dir, "pending.json"), d.pend); err != nil {
		return err
	}
	return writeJSONFile(filepath.Join(d.dir, "paired.json"), d.paired)
}

func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// isPaired: same public key, the role among its roles, every scope granted.
func (d *deviceStore) isPaired(id, pubKey, role string, scopes []string) bool {
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

// pairRequestFrom is the pairing request a connect asks for; a local
// client's is silent (approved without asking an operator).
func pairRequestFrom(p *wire.ConnectParams, pubKey, role string, scopes []string, c *conn) wire.DevicePairRequestedEvent {
	r := wire.DevicePairRequestedEvent{
		DeviceID: p.Device.ID, PublicKey: pubKey, DisplayName: p.Client.DisplayName,
		Platform: p.Client.Platform, ClientID: p.Client.ID, ClientMode: p.Client.Mode,
		Role: role, Roles: []string{role}, Scopes: slices.Clone(scopes), Silent: trueOrNil(c.local),
		// Loopback included: the original records the client IP of a local
		// CLI too (testdata/captures/cli-devices-list.json).
		RemoteIP: c.remote,
	}
	return r
}

// requestPairing returns the pending request for the device, creating it
// when there is none (created reports which).
func (d *deviceStore) requestPairing(r wire.DevicePairRequestedEvent) (wire.DevicePairRequestedEvent, bool, error) {
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
	r.RequestID = newID()
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

var errUnknownRequest = errors.New("unknown requestId")

// errNotPaired: the device has no paired record (so no token to issue).
var errNotPaired = errors.New("device not paired")

// approve moves a pending request to paired (roles and scopes unioned
// with an earlier pairing of the same key).
func (d *deviceStore) approve(requestID string, _ bool) (wire.DevicePairResolvedEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return wire.DevicePairResolvedEvent{}, err
	}
	r := d.pend[requestID]
	if r == nil {
		return wire.DevicePairResolvedEvent{}, errUnknownRequest
	}
	now := d.now().UnixMilli()
	p := d.paired[r.DeviceID]
	if p == nil || p.PublicKey != r.PublicKey {
		p = &pairedDevice{DeviceID: r.DeviceID, CreatedAtMs: now}
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

// reject drops a pending request.
func (d *deviceStore) reject(requestID string) (wire.DevicePairResolvedEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return wire.DevicePairResolvedEvent{}, err
	}
	r := d.pend[requestID]
	if r == nil {
		return wire.DevicePairResolvedEvent{}, errUnknownRequest
	}
	delete(d.pend, requestID)
	return wire.DevicePairResolvedEvent{RequestID: requestID, DeviceID: r.DeviceID, Decision: wire.DecisionRejected, TS: d.now().UnixMilli()}, d.saveLocked()
}

// ensureToken finds or creates the device's token for role; it is reused
// when it covers the requested scopes.
func (d *deviceStore) ensureToken(id, role string, scopes []string, _ bool) (deviceToken, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return deviceToken{}, err
	}
	p := d.paired[id]
	if p == nil {
		return deviceToken{}, errNotPaired
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
// (32 hex chars, spec §1.5), keeping the old one's creation and last-use
// times and marking it rotated.
func (d *deviceStore) issueLocked(p *pairedDevice, role string, scopes []string) deviceToken {
	now := d.now().UnixMilli()
	t := deviceToken{Token: strings.ReplaceAll(newID(), "-", ""), Role: role, Scopes: scopes, CreatedAtMs: now}
	if old, ok := p.Tokens[role]; ok {
		t.CreatedAtMs = old.CreatedAtMs
		t.RotatedAtMs = now
		t.LastUsedAtMs = old.LastUsedAtMs
	}
	if p.Tokens == nil {
		p.Tokens = map[string]deviceToken{}
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

var errUnknownDeviceRole = errors.New("unknown deviceId/role")

// rotateToken issues a new token for (device, role) (device.token.rotate,
// spec §3.6). Scopes default to the current token's, then the device's;
// explicit scopes also become the device's paired scopes, as in the
// original.
func (d *deviceStore) rotateToken(id, role string, scopes []string) (deviceToken, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return deviceToken{}, err
	}
	p := d.paired[strings.TrimSpace(id)]
	role = strings.TrimSpace(role)
	if p == nil || role == "" {
		return deviceToken{}, errUnknownDeviceRole
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

// revokeToken marks the (device, role) token revoked (device.token.revoke):
// it no longer authenticates, and the next connect that passes shared auth
// gets a new one.
func (d *deviceStore) revokeToken(id, role string) (deviceToken, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return deviceToken{}, err
	}
	p := d.paired[strings.TrimSpace(id)]
	if p == nil {
		return deviceToken{}, errUnknownDeviceRole
	}
	t, ok := p.Tokens[strings.TrimSpace(role)]
	if !ok {
		return deviceToken{}, errUnknownDeviceRole
	}
	t.RevokedAtMs = d.now().UnixMilli()
	p.Tokens[t.Role] = t
	return t, d.saveLocked()
}

// verifyToken checks a presented device token: same token (constant
// time), not revoked, requested scopes within the token's scopes. A token
// that passes records its lastUsedAtMs, as the original's does.
func (d *deviceStore) verifyToken(id, role, token string, scopes []string) bool {
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
	if !ok || t.RevokedAtMs != 0 || !secretEqual(token, t.Token) || !subset(scopes, t.Scopes) {
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
