package gateway

import (
	"sort"

	"github.com/clawdbot/clawdbot/wire"
)

// device.pair.* let an operator with operator.pairing approve the non-local
// devices that got NOT_PAIRED at connect.
func (s *Server) registerPairingMethods(rt *runtime) {
	rt.register(&method{name: "device.pair.list", handle: s.mDevicePairList})
	rt.register(&method{name: "device.pair.approve", handle: s.mDevicePairApprove})
	rt.register(&method{name: "device.pair.reject", handle: s.mDevicePairReject})
}

// pairedDeviceView is a paired device with its tokens summarised (never the
// token values).
type pairedDeviceView struct {
	pairedDevice
	Tokens []tokenSummary `json:"tokens"`
}

type tokenSummary struct {
	Role         string   `json:"role"`
	Scopes       []string `json:"scopes"`
	CreatedAtMs  int64    `json:"createdAtMs"`
	RotatedAtMs  int64    `json:"rotatedAtMs,omitempty"`
	RevokedAtMs  int64    `json:"revokedAtMs,omitempty"`
	LastUsedAtMs int64    `json:"lastUsedAtMs,omitempty"`
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
	pend := make([]wire.DevicePairRequestedEvent, 0, len(d.pend))
	for _, p := range d.pend {
		pend = append(pend, *p)
	}
	sort.Slice(pend, func(i, j int) bool { return pend[i].TS > pend[j].TS })
	paired := make([]pairedDeviceView, 0, len(d.paired))
	for _, p := range d.paired {
		v := pairedDeviceView{pairedDevice: *p, Tokens: []tokenSummary{}}
		v.pairedDevice.Tokens = nil
		for _, t := range p.Tokens {
			v.Tokens = append(v.Tokens, tokenSummary{Role: t.Role, Scopes: t.Scopes, CreatedAtMs: t.CreatedAtMs,
				RotatedAtMs: t.RotatedAtMs, RevokedAtMs: t.RevokedAtMs, LastUsedAtMs: t.LastUsedAtMs})
		}
		sort.Slice(v.Tokens, func(i, j int) bool { return v.Tokens[i].Role < v.Tokens[j].Role })
		paired = append(paired, v)
	}
	sort.Slice(paired, func(i, j int) bool { return paired[i].ApprovedAtMs > paired[j].ApprovedAtMs })
	return map[string]any{"pending": pend, "paired": paired}, nil
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
	return map[string]any{"requestId": p.RequestID, "device": map[string]string{"deviceId": res.DeviceID}}, nil
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
	return map[string]any{"requestId": p.RequestID, "deviceId": res.DeviceID}, nil
}
