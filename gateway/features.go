package gateway

import (
	"os"
	"path/filepath"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/configrpc"
	"github.com/clawdbot/clawdbot/gateway/cron"
	"github.com/clawdbot/clawdbot/gateway/devices"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/nodes"
	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessions"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/gateway/system"
	"github.com/clawdbot/clawdbot/wire"
)

// features is the process-wide state of the hosted feature packages: it
// outlives runtime swaps, while each runtime gets its own registry of
// their methods (register). A new feature adds its store here and one
// Register call below.
type features struct {
	presence *presence.Store
	system   *system.State
	config   *configrpc.Store
	devices  *devices.Store
	nodes    *nodes.Registry
	pairs    *nodes.PairStore
	sessions *sessionstore.Store
	cron     cronFeature
	// resolver picks a turn's models (Options.Models, else the configured
	// providers); agent is the process-wide runner: runs in flight, lanes
	// and queues survive a runtime swap, which only re-registers methods.
	resolver llm.Resolver
	agent    *agent.Runner
}

func newFeatures(s *Server) features {
	o := s.opts
	pres := presence.New(selfPresence(s.host, o.Version), o.Now)
	agentCfg := agent.FileConfig(o.ConfigPath)
	store := sessionstore.New(sessionstore.Options{StateDir: o.StateDir, Home: userHome(),
		Config: sessionstore.ConfigFile(o.ConfigPath), Now: o.Now,
		Workspace: func(agentID string) string { return workspaceOf(agentCfg(), agentID, o.Workspace) }})
	var resolver llm.Resolver = noModels{}
	if o.Models != nil {
		resolver = o.Models
	}
	f := features{
		presence: pres,
		config:   configrpc.NewStore(o.ConfigPath),
		devices:  devices.NewStore(o.StateDir, o.Now),
		nodes:    nodes.NewRegistry(),
		pairs:    nodes.NewPairStore(o.StateDir, o.Now),
		sessions: store,
		resolver: resolver,
	}
	f.system = system.New(system.Options{Presence: pres, Broadcast: s, StateDir: o.StateDir, Now: o.Now,
		Stopping: s.closing.Load, Heartbeat: heartbeatSummary(o.ConfigPath),
		Sessions: store, DefaultModel: defaultModelOf(resolver, store)})
	f.cron = newCronFeature(s, f.system)
	// Nothing here reads a file or builds a client: the store, the config
	// and the providers load on first use, so start-up stays fast.
	f.agent = agent.NewRunner(agent.Deps{Broadcast: s, Sessions: agentSessions{store}, Models: resolver,
		Workspace: o.Workspace, StateDir: o.StateDir, Config: agentCfg, Dedupe: rpc.NewDedupe(o.Now),
		ChatDeltaInterval: o.ChatDeltaInterval, Now: o.Now, Log: filelog.Subsystem(o.Logger, "agent"), Host: s.host})
	return f
}

// workspaceOf is agentID's workspace: its agents.list entry, else
// agents.defaults.workspace, else the profile's (def).
func workspaceOf(cfg agent.Config, agentID, def string) string {
	if a, ok := cfg.Agent(agentID); ok && a.Workspace != "" {
		return a.Workspace
	}
	if cfg.Workspace != "" {
		return cfg.Workspace
	}
	return def
}

// registerFeatures fills reg, the registry of runtime rt, with every
// feature's methods.
func (s *Server) registerFeatures(reg *rpc.Registry, rt *runtime) {
	f := &s.f
	system.Register(reg, system.Deps{State: f.system, LogFile: s.logFile})
	configrpc.Register(reg, configrpc.Deps{Store: f.config, Now: s.now, Log: s.callLog,
		WriteSentinel:   func(p wire.RestartSentinelPayload) (string, error) { return WriteRestartSentinel(s.opts.StateDir, p) },
		ScheduleRestart: s.scheduleRestart})
	nodes.Register(reg, nodes.Deps{Nodes: f.nodes, Pairs: f.pairs, Devices: nodeDevices{f.devices},
		Policy: rt.nodePolicy, Broadcast: s, Now: s.now, Log: s.callLog})
	devices.Register(reg, devices.Deps{Store: f.devices, Broadcast: s, Log: s.callLog})
	agent.Register(reg, agent.Deps{Runner: f.agent})
	sessions.Register(reg, sessions.Deps{Store: f.sessions, Aborter: runAborter{f.agent}, Models: f.sessionModels()})
	cron.Register(reg, cron.MethodDeps{Service: f.cron.svc, Heartbeats: cron.HeartbeatOf(f.cron.hb), Events: mainEvents{f.system}})
}

// sessionModels validates sessions.patch model: nil (the original's
// "model catalog unavailable") while no model catalogue is wired.
func (f *features) sessionModels() sessions.ModelResolver {
	if m, ok := f.resolver.(sessions.ModelResolver); ok {
		return m
	}
	return nil
}

// userHome is the home directory for "~" in session.store ("" if unknown).
func userHome() string { h, _ := os.UserHomeDir(); return h }

// nodeDevices gives node.list the device store's node pairings.
type nodeDevices struct{ d *devices.Store }

func (n nodeDevices) HasRole(id, role string) bool { return n.d.HasRole(id, role) }

func (n nodeDevices) NodeDevices() []nodes.PairedDevice {
	var out []nodes.PairedDevice
	for _, p := range n.d.PairedWithRole(wire.RoleNode) {
		out = append(out, nodes.PairedDevice{DeviceID: p.DeviceID, DisplayName: p.DisplayName, Platform: p.Platform, RemoteIP: p.RemoteIP})
	}
	return out
}

// scheduleRestart is configrpc's restart hook: Options.ScheduleRestart,
// read at call time because Run installs it after New.
func (s *Server) scheduleRestart(reason string, delay time.Duration) (wire.RestartInfo, bool) {
	if s.opts.ScheduleRestart == nil {
		return wire.RestartInfo{}, false
	}
	return s.opts.ScheduleRestart(reason, delay), true
}

// logFile is the file logs.tail reads.
func (s *Server) logFile() string {
	if s.opts.LogFile != nil {
		return s.opts.LogFile()
	}
	return filelog.DayPath(filepath.Join(s.opts.StateDir, "logs"), s.now())
}
