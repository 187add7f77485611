package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/clawdbot/clawdbot/gateway/controlui"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
	"github.com/clawdbot/clawdbot/gateway/nodes"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Mount is a part of a runtime served on the gateway port besides the
// WebSocket protocol (today the canvas host). It is built before the
// runtime that holds it, swapped in with it, and stopped when a restart
// replaces it with a different one; a restart that keeps the same Mount
// (an unchanged canvasHost config) neither stops nor restarts it.
type Mount interface {
	http.Handler
	// Start begins what the part runs besides its handler (the canvas
	// host's own port). It runs after the swap, once the part it replaces
	// has stopped, so both may claim the same port.
	Start()
	// Stop releases everything the part holds.
	Stop()
}

// runtime is the config-derived part of the server.
type runtime struct {
	auth    Auth
	cfg     *profiles.Config
	tick    time.Duration
	trusted proxySet
	canvas  Mount // nil: no canvas host
	// httpAPI serves /v1/* and the hooks path (httpapi_mount.go).
	httpAPI     *httpapi.Handler
	controlUI   *controlui.Handler // nil: gateway.controlUi disabled
	insecureUI  bool
	methods     *rpc.Registry
	methodNames []string
	eventNames  []string
	nodePolicy  nodes.Policy
	policy      wire.Policy
}

// mounts are the runtime's parts, in start order.
func (rt *runtime) mounts() []Mount {
	if rt.canvas == nil {
		return nil
	}
	return []Mount{rt.canvas}
}

// stopMounts stops the parts of rt that keep does not hold (every part
// when keep is nil).
func (rt *runtime) stopMounts(keep *runtime) {
	for _, m := range rt.mounts() {
		if keep == nil || !keep.holds(m) {
			m.Stop()
		}
	}
}

// startMounts starts the parts of rt that prev did not hold.
func (rt *runtime) startMounts(prev *runtime) {
	for _, m := range rt.mounts() {
		if prev == nil || !prev.holds(m) {
			m.Start()
		}
	}
}

func (rt *runtime) holds(m Mount) bool {
	for _, x := range rt.mounts() {
		if x == m {
			return true
		}
	}
	return false
}

func (s *Server) newRuntime(rc RuntimeConfig) (*runtime, error) {
	a := resolvedAuth(rc.Auth)
	switch a.Mode {
	case AuthToken:
		if a.Token == "" {
			return nil, errors.New("gateway auth mode is token but no token is set (set gateway.auth.token or CLAWDBOT_GATEWAY_TOKEN, or pass --token)")
		}
	case AuthPassword:
		if a.Password == "" {
			return nil, errors.New("gateway auth mode is password but no password is set (set gateway.auth.password or CLAWDBOT_GATEWAY_PASSWORD, or pass --password)")
		}
	case AuthNone:
	default:
		return nil, fmt.Errorf("unknown gateway auth mode %q (use token or password)", a.Mode)
	}
	tick := rc.TickInterval
	if tick <= 0 {
		tick = wire.DefaultTickIntervalMs * time.Millisecond
	}
	rt := &runtime{
		auth:       a,
		cfg:        rc.Config,
		tick:       tick,
		trusted:    newProxySet(rc.TrustedProxies),
		canvas:     rc.Canvas,
		insecureUI: rc.AllowInsecureControlUI,
		policy: wire.Policy{
			MaxPayload:       wire.MaxPayloadBytes,
			MaxBufferedBytes: wire.MaxBufferedBytes,
			TickIntervalMs:   int(tick / time.Millisecond),
		},
	}
	if rc.Config != nil {
		rt.nodePolicy = nodes.Policy{Allow: rc.Config.Gateway.Nodes.AllowCommands, Deny: rc.Config.Gateway.Nodes.DenyCommands}
		if rc.Config.Gateway.ControlUI.AllowInsecureAuth {
			rt.insecureUI = true
		}
	}
	h, err := s.newHTTPAPI(rt)
	if err != nil {
		return nil, err
	}
	rt.httpAPI = h
	rt.controlUI = s.newControlUI(rc.Config, rc.Auth.Mode)
	rt.methods = rpc.NewRegistry()
	s.registerFeatures(rt.methods, rt)
	for _, n := range wire.AdvertisedMethods() {
		if rt.methods.Has(n) {
			rt.methodNames = append(rt.methodNames, n)
		}
	}
	rt.methodNames = append(rt.methodNames, s.pluginMethods(rt.methods)...)
	for _, e := range wire.AdvertisedEvents() {
		if emittedEvents[e] {
			rt.eventNames = append(rt.eventNames, e)
		}
	}
	return rt, nil
}

// emittedEvents are the events this gateway actually sends; hello-ok
// lists only these, in the original's order.
var emittedEvents = map[string]bool{
	wire.EventConnectChallenge: true, wire.EventAgent: true, wire.EventChat: true,
	wire.EventHeartbeat: true, wire.EventCron: true,
	wire.EventPresence: true, wire.EventTick: true, wire.EventShutdown: true,
	wire.EventHealth: true, wire.EventNodePairRequested: true, wire.EventNodePairResolved: true,
	wire.EventNodeInvokeRequest: true, wire.EventDevicePairRequested: true, wire.EventDevicePairResolved: true,
}

// runtimeForNewConn returns the runtime a new connection binds to; it waits
// while a swap is in progress instead of refusing the client.
func (s *Server) runtimeForNewConn() *runtime {
	s.swapMu.RLock()
	defer s.swapMu.RUnlock()
	return s.rt.Load()
}
