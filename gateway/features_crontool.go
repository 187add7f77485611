package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/cron"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// cronToolMethods are the methods the agent's cron tool may call: the
// original's tool calls exactly these on its gateway.
var cronToolMethods = map[string]bool{
	"cron.status": true, "cron.list": true, "cron.add": true, "cron.update": true,
	"cron.remove": true, "cron.run": true, "cron.runs": true, "wake": true,
}

// cronScheduler is the scheduler as the agent's cron tool sees it
// (tools.Scheduler). A call goes through the cron feature's own method
// handlers, registered once with the same deps registerFeatures gives
// them, after the schema check the dispatcher applies: the tool gets the
// results and error texts a cron.* client gets, from the same Service.
// The original's tool connects to its gateway as a backend client with
// the admin scope, so no scope check applies here either.
type cronScheduler struct {
	s *Server

	once sync.Once
	reg  *rpc.Registry
}

var _ tools.Scheduler = (*cronScheduler)(nil)

// agentClient is the caller identity of the tool's calls: the original's
// tool connects as the "gateway-client" backend named "agent".
var agentClient = rpc.Client{Role: wire.RoleOperator, Scopes: []string{wire.ScopeAdmin},
	Info: wire.ClientInfo{ID: "gateway-client", DisplayName: "agent", Mode: "backend"}, Local: true}

func (c *cronScheduler) registry() *rpc.Registry {
	c.once.Do(func() {
		f := &c.s.f
		c.reg = rpc.NewRegistry()
		cron.Register(c.reg, cron.MethodDeps{Service: f.cron.svc, Heartbeats: cron.HeartbeatOf(f.cron.hb), Events: f.cron.events})
	})
	return c.reg
}

// CallCron runs method with params and returns its payload as JSON.
func (c *cronScheduler) CallCron(_ context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	if !cronToolMethods[method] {
		return nil, errors.New("unknown method: " + method)
	}
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	if err := wire.ValidateParams(method, params); err != nil {
		return nil, errors.New(rpc.AsError(err).Message)
	}
	m := c.registry().Lookup(method)
	who := agentClient
	payload, e := m.Handler(rpc.NewCall(method, json.RawMessage(`"cron-tool"`), params, &who, nil))
	if e != nil {
		return nil, errors.New(e.Message)
	}
	return json.Marshal(payload)
}
