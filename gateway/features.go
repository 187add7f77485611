package gateway

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/agent/tools/exec"
	"github.com/clawdbot/clawdbot/gateway/approvals"
	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/configrpc"
	"github.com/clawdbot/clawdbot/gateway/cron"
	"github.com/clawdbot/clawdbot/gateway/devices"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/models"
	"github.com/clawdbot/clawdbot/gateway/nodes"
	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessions"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/gateway/skills"
	"github.com/clawdbot/clawdbot/gateway/system"
	"github.com/clawdbot/clawdbot/gateway/tts"
	"github.com/clawdbot/clawdbot/gateway/update"
	"github.com/clawdbot/clawdbot/gateway/voice"
	"github.com/clawdbot/clawdbot/gateway/wizard"
	"github.com/clawdbot/clawdbot/profiles"
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
	// providers through gateway/models); agent is the process-wide runner:
	// runs in flight, lanes and queues survive a runtime swap, which only
	// re-registers methods.
	resolver llm.Resolver
	agent    *agent.Runner
	// httpAPI are the process-wide deps of the HTTP API (/v1, hooks).
	httpAPI httpapi.Deps
	// approvals holds the exec approval policy and the pending requests.
	approvals *approvals.Manager
	// skills reads the skill dirs and skills.entries.
	skills  *skills.Feature
	voice   *voice.Store
	wizards *wizard.Sessions
	// channels runs the channel accounts (features_channels.go).
	channels *channels.Manager
}

func newFeatures(s *Server) features {
	o := s.opts
	pres := presence.New(selfPresence(s.host, o.Version), o.Now)
	agentCfg := agent.FileConfig(o.ConfigPath)
	store := sessionstore.New(sessionstore.Options{StateDir: o.StateDir, Home: userHome(),
		Config: sessionstore.ConfigFile(o.ConfigPath), Now: o.Now,
		Workspace: func(agentID string) string { return workspaceOf(agentCfg(), agentID, o.Workspace) }})
	var resolver llm.Resolver = o.Models
	if resolver == nil {
		resolver = models.New(models.Options{Config: func() profiles.Config { return configOf(s.rt.Load()) }, StateDir: o.StateDir,
			Warn: func(w string) { s.callLog.Warn(w) }})
	}
	f := features{
		presence:  pres,
		config:    configrpc.NewStore(o.ConfigPath),
		devices:   devices.NewStore(o.StateDir, o.Now),
		nodes:     nodes.NewRegistry(),
		pairs:     nodes.NewPairStore(o.StateDir, o.Now),
		sessions:  store,
		resolver:  resolver,
		approvals: approvals.NewManager(approvals.NewStore(o.StateDir, o.Now), s, o.Now),
		skills:    skills.New(skills.Deps{ConfigPath: o.ConfigPath, StateDir: o.StateDir, Workspace: o.Workspace}),
		voice:     voice.NewStore(o.StateDir, o.Now),
		wizards:   wizard.NewSessions(),
	}
	f.system = system.New(system.Options{Presence: pres, Broadcast: s, StateDir: o.StateDir, Now: o.Now,
		Stopping: s.closing.Load, Heartbeat: heartbeatSummary(o.ConfigPath),
		Sessions: store, DefaultModel: defaultModelOf(resolver, store),
		HealthChannels: s.channelHealth, StatusChannels: s.channelStatus})
	f.cron = newCronFeature(s, f.system)
	// The agent's tools: the core set (workspace files, web_fetch, session
	// tools) plus exec/process behind the owner's approval policy.
	execTool, processTool := exec.New(exec.Options{
		Approver: execApprover{m: f.approvals, skillBins: f.skills.EligibleBins}, Now: o.Now})
	toolset := tools.New(tools.Options{Workspace: o.Workspace, Config: cron.ConfigFile(o.ConfigPath), Store: store,
		Sessions: agentSessions{store}, Runner: lateRunner{s}, Extra: []tools.Tool{execTool, processTool}, Cron: &cronScheduler{s: s}, Messenger: &channelMessenger{s: s},
		Now: o.Now, Log: filelog.Subsystem(o.Logger, "agent/tools")})
	// Nothing here reads a file or builds a client: the store, the config
	// and the providers load on first use, so start-up stays fast.
	f.agent = agent.NewRunner(agent.Deps{Broadcast: s, Sessions: agentSessions{store}, Models: resolver,
		Tools: toolset, SkillsPrompt: f.skills.PromptFor,
		Workspace: o.Workspace, StateDir: o.StateDir, Config: agentCfg, Dedupe: rpc.NewDedupe(o.Now),
		ChatDeltaInterval: o.ChatDeltaInterval, Now: o.Now, Log: filelog.Subsystem(o.Logger, "agent"), Host: s.host,
		Deliver: agentDelivery{s}, SystemEvents: chatSystemEvents(s, agentCfg)})
	f.channels = newChannels(s, &f)
	f.httpAPI = httpapi.Deps{Limiter: httpapi.NewLimiter(o.Now), Agent: httpTurns{agentTurns{s}}, System: httpTurns{agentTurns{s}}}
	return f
}

// lateRunner is the agent runner for the tools built before it
// (sessions_send): s.f.agent at call time.
type lateRunner struct{ s *Server }

func (l lateRunner) Run(ctx context.Context, t agent.Turn) agent.Outcome {
	return l.s.f.agent.Run(ctx, t)
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
		ScheduleRestart: s.scheduleRestart, Version: s.opts.Version})
	nodes.Register(reg, nodes.Deps{Nodes: f.nodes, Pairs: f.pairs, Devices: nodeDevices{f.devices},
		Policy: rt.nodePolicy, Broadcast: s, Now: s.now, Log: s.callLog})
	devices.Register(reg, devices.Deps{Store: f.devices, Broadcast: s, Log: s.callLog})
	agent.Register(reg, agent.Deps{Runner: f.agent})
	sessions.Register(reg, sessions.Deps{Store: f.sessions, Aborter: runAborter{f.agent}, Models: f.sessionModels()})
	cron.Register(reg, cron.MethodDeps{Service: f.cron.svc, Heartbeats: cron.HeartbeatOf(f.cron.hb), Events: f.cron.events})
	models.Register(reg, models.Deps{Config: func() profiles.Config { return configOf(rt) }})
	approvals.Register(reg, approvals.Deps{Manager: f.approvals, Nodes: nodeInvoker{f.nodes}})
	skills.Register(reg, f.skills)
	tts.Register(reg, tts.Deps{Config: s.configJSON, StateDir: s.opts.StateDir})
	update.Register(reg, update.Deps{})
	wizard.Register(reg, wizard.Deps{Sessions: f.wizards, Setup: wizardSetup{s}})
	voice.Register(reg, voice.Deps{Store: f.voice, Broadcast: s, MobileNodeConnected: f.nodes.HasMobileNode, Now: s.now})
	s.registerChannels(reg)
}

// sessionModels validates sessions.patch model: nil (the original's
// "model catalog unavailable") while no model catalogue is wired.
func (f *features) sessionModels() sessions.ModelResolver {
	if m, ok := f.resolver.(sessions.ModelResolver); ok {
		return m
	}
	return nil
}

// configOf is rt's config (empty before the first runtime).
func configOf(rt *runtime) profiles.Config {
	if rt == nil || rt.cfg == nil {
		return profiles.Config{}
	}
	return *rt.cfg
}

// configJSON is the resolved config document as config.get shows it ({}
// when the file is missing or unreadable), for features that read a
// section of it per call.
func (s *Server) configJSON() json.RawMessage {
	snap, err := profiles.Load(s.opts.ConfigPath)
	if err != nil {
		return json.RawMessage("{}")
	}
	return snap.ConfigJSON()
}

// wizardSetup is what the onboarding wizard reads and writes: the config
// through configrpc's store (its write lock), the state dir, the default
// workspace of the profile.
type wizardSetup struct{ s *Server }

func (w wizardSetup) Snapshot() (*profiles.Snapshot, error) {
	return profiles.Load(w.s.opts.ConfigPath)
}
func (w wizardSetup) Patch(patch []byte) *wire.ErrorShape { return w.s.f.config.Patch(patch) }
func (w wizardSetup) StateDir() string                    { return w.s.opts.StateDir }
func (w wizardSetup) Getenv(k string) string              { return os.Getenv(k) }

// DefaultWorkspace is the profile's default workspace, derived from the
// state dir as profiles names them: ~/.clawdbot → ~/clawd,
// ~/.clawdbot-NAME → ~/clawd-NAME.
func (w wizardSetup) DefaultWorkspace() string {
	base := filepath.Base(w.s.opts.StateDir)
	name := "clawd"
	if suffix, ok := strings.CutPrefix(base, ".clawdbot-"); ok && suffix != "" {
		name += "-" + suffix
	}
	home := userHome()
	if home == "" {
		home = filepath.Dir(w.s.opts.StateDir)
	}
	return filepath.Join(home, name)
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
