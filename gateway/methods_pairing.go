package gateway

import (
	"errors"
	"sort"

	"github.com/clawdbot/clawdbot/wire"
)

// device.pair.* let an operator with operator.pairing approve the non-local
// devices that got NOT_PAIRED at connect; device.token.* rotate and revoke
// the per-(device, role) tokens issued in hello-ok.auth (spec §3.6).
func (s *Server) registerPairingMethods(rt *runtime) {
	rt.register(&method{name: "device.pair.list", handle: s.mDevicePairList})
	rt.register(&method{name: "device.pair.approve", handle: s.mDevicePairApprove})
	rt.register(&method{name: "device.pair.reject", handle: s.mDevicePairReject})
	rt.register(&method{name: "device.token.rotate", handle: s.mDeviceTokenRotate})
	rt.register(&method{name: "device.token.revoke", handle: s.mDeviceTokenRevoke})
}

// pairedView is a paired device as the methods report it: its tokens
// summarised (never the token values), sorted by role, and no tokens key
// when it has none (the original's redactPairedDevice).
func pairedView(p *pairedDevice) wire.PairedDevice {
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

func (s *Server) mDevicePairList(cl *call) (any, *wire.ErrorShape) {
	if e := cl.decode(&wire.EmptyParams{}); e != nil {
		return nil, e
	}
	d := s.devices
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.loadLocked(); err != nil {
		return nil, storeErr(err)
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

func (s *Server) mDevicePairApprove(cl *call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	res, err := s.devices.approve(p.RequestID, false)
	if err != nil {
		return nil, storeErr(err)
	}
	s.broadcast(wire.EventDevicePairResolved, res, nil, true)
	d := s.devices
	d.mu.Lock()
	view := pairedView(d.paired[res.DeviceID])
	d.mu.Unlock()
	return wire.DevicePairApproveResult{RequestID: p.RequestID, Device: view}, nil
}

func (s *Server) mDevicePairReject(cl *call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	res, err := s.devices.reject(p.RequestID)
	if err != nil {
		return nil, storeErr(err)
	}
	s.broadcast(wire.EventDevicePairResolved, res, nil, true)
	return wire.DevicePairRejectResult{RequestID: p.RequestID, DeviceID: res.DeviceID}, nil
}

func (s *Server) mDeviceTokenRotate(cl *call) (any, *wire.ErrorShape) {
	var p wire.DeviceTokenRotateParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	t, err := s.devices.rotateToken(p.DeviceID, p.Role, p.Scopes)
	if err != nil {
		return nil, tokenStoreErr(err)
	}
	s.callLog.Info("device token rotated", "device", p.DeviceID, "role", t.Role)
	return wire.DeviceTokenRotateResult{DeviceID: p.DeviceID, Role: t.Role, Token: t.Token, Scopes: t.Scopes, RotatedAtMs: t.RotatedAtMs}, nil
}

func (s *Server) mDeviceTokenRevoke(cl *call) (any, *wire.ErrorShape) {
	var p wire.DeviceTokenRevokeParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	t, err := s.devices.revokeToken(p.DeviceID, p.Role)
	if err != nil {
		return nil, tokenStoreErr(err)
	}
	s.callLog.Info("device token revoked", "device", p.DeviceID, "role", t.Role)
	return wire.DeviceTokenRevokeResult{DeviceID: p.DeviceID, Role: t.Role, RevokedAtMs: t.RevokedAtMs}, nil
}

// tokenStoreErr is the original's INVALID_REQUEST "unknown deviceId/role",
// or the store's own failure.
func tokenStoreErr(err error) *wire.ErrorShape {
	if errors.Is(err, errUnknownDeviceRole) {
		return invalid(err.Error())
	}
	return storeErr(err)
}
