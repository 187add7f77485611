package devices

import (
	"errors"
	"log/slog"
	"sort"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Deps are what the device methods need.
type Deps struct {
	// Store is the process-wide device store (NewStore); the handshake
	// uses the same one.
	Store *Store
	// Broadcast sends device.pair.resolved.
	Broadcast rpc.Broadcaster
	// Log receives token rotations and revocations.
	Log *slog.Logger
}

// Register adds device.pair.* (an operator with operator.pairing approves
// the non-local devices that got NOT_PAIRED at connect) and
// device.token.* (rotate and revoke the per-(device, role) tokens issued
// in hello-ok.auth), doc/protocol.md §3.6.
func Register(reg *rpc.Registry, d Deps) {
	h := &handlers{d: d}
	reg.Handle("device.pair.list", h.pairList)
	reg.Handle("device.pair.approve", h.pairApprove)
	reg.Handle("device.pair.reject", h.pairReject)
	reg.Handle("device.token.rotate", h.tokenRotate)
	reg.Handle("device.token.revoke", h.tokenRevoke)
}

type handlers struct{ d Deps }

// pairedView is a paired device as the methods report it: its tokens
// summarised (never the token values), sorted by role, and no tokens key
// when it has none (the original's redactPairedDevice).
func pairedView(p *Paired) wire.PairedDevice {
	v := wire.PairedDevice{
		DeviceID: p.DeviceID, PublicKey: p.PublicKey, DisplayName: p.DisplayName, Platform: p.Platform,
		ClientID: p.ClientID, ClientMode: p.ClientMode, Role: p.Role, Roles: p.Roles, Scopes: p.Scopes,
		RemoteIP: p.RemoteIP, CreatedAtMs: p.CreatedAtMs, ApprovedAtMs: p.ApprovedAtMs,
	}
	for _, t := range p.Tokens {
		v.Tokens = append(v.Tokens, wire.DeviceTokenSummary{Role: t.Role, Scopes: t.Scopes, CreatedAtMs: t.CreatedAtMs,
			RotatedAtMs: t.RotatedAtMs, RevokedAtMs: t.RevokedAtMs, LastUsedAtMs: t.LastUsedAtMs})
	}
	sort.Slice(v.Tokens, func(i, j int) bool { return v.Tokens[i].Role < v.Tokens[j].Role })
	return v
}

// list is device.pair.list's result: pending newest first, paired by
// approval, newest first.
func (d *Store) list() (wire.DevicePairListResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return wire.DevicePairListResult{}, err
	}
	res := wire.DevicePairListResult{
		Pending: make([]wire.DevicePairRequestedEvent, 0, len(d.pend)),
		Paired:  make([]wire.PairedDevice, 0, len(d.paired)),
	}
	for _, p := range d.pend {
		res.Pending = append(res.Pending, *p)
	}
	sort.Slice(res.Pending, func(i, j int) bool { return res.Pending[i].TS > res.Pending[j].TS })
	for _, p := range d.paired {
		res.Paired = append(res.Paired, pairedView(p))
	}
	sort.Slice(res.Paired, func(i, j int) bool { return res.Paired[i].ApprovedAtMs > res.Paired[j].ApprovedAtMs })
	return res, nil
}

// view is the redacted view of a paired device.
func (d *Store) view(id string) wire.PairedDevice {
	d.mu.Lock()
	defer d.mu.Unlock()
	return pairedView(d.paired[id])
}

func (h *handlers) pairList(c *rpc.Call) (any, *wire.ErrorShape) {
	if e := c.Decode(&wire.EmptyParams{}); e != nil {
		return nil, e
	}
	res, err := h.d.Store.list()
	if err != nil {
		return nil, storeErr(err)
	}
	return res, nil
}

func (h *handlers) pairApprove(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	res, err := h.d.Store.Approve(p.RequestID)
	if err != nil {
		return nil, storeErr(err)
	}
	h.d.Broadcast.Broadcast(wire.EventDevicePairResolved, res, rpc.Delivery{DropIfSlow: true})
	return wire.DevicePairApproveResult{RequestID: p.RequestID, Device: h.d.Store.view(res.DeviceID)}, nil
}

func (h *handlers) pairReject(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	res, err := h.d.Store.Reject(p.RequestID)
	if err != nil {
		return nil, storeErr(err)
	}
	h.d.Broadcast.Broadcast(wire.EventDevicePairResolved, res, rpc.Delivery{DropIfSlow: true})
	return wire.DevicePairRejectResult{RequestID: p.RequestID, DeviceID: res.DeviceID}, nil
}

func (h *handlers) tokenRotate(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.DeviceTokenRotateParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	t, err := h.d.Store.RotateToken(p.DeviceID, p.Role, p.Scopes)
	if err != nil {
		return nil, tokenStoreErr(err)
	}
	h.d.Log.Info("device token rotated", "device", p.DeviceID, "role", t.Role)
	return wire.DeviceTokenRotateResult{DeviceID: p.DeviceID, Role: t.Role, Token: t.Token, Scopes: t.Scopes, RotatedAtMs: t.RotatedAtMs}, nil
}

func (h *handlers) tokenRevoke(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.DeviceTokenRevokeParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	t, err := h.d.Store.RevokeToken(p.DeviceID, p.Role)
	if err != nil {
		return nil, tokenStoreErr(err)
	}
	h.d.Log.Info("device token revoked", "device", p.DeviceID, "role", t.Role)
	return wire.DeviceTokenRevokeResult{DeviceID: p.DeviceID, Role: t.Role, RevokedAtMs: t.RevokedAtMs}, nil
}

// storeErr is the original's INVALID_REQUEST "unknown requestId", or the
// store's own failure as UNAVAILABLE.
func storeErr(err error) *wire.ErrorShape {
	if errors.Is(err, ErrUnknownRequest) {
		return rpc.Invalid("unknown requestId")
	}
	return rpc.Unavailable(err.Error())
}

// tokenStoreErr is the original's INVALID_REQUEST "unknown deviceId/role",
// or the store's own failure.
func tokenStoreErr(err error) *wire.ErrorShape {
	if errors.Is(err, ErrUnknownDeviceRole) {
		return rpc.Invalid(err.Error())
	}
	return storeErr(err)
}
