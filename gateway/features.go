package gateway

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/approvals"
	"github.com/clawdbot/clawdbot/gateway/configrpc"
	"github.com/clawdbot/clawdbot/gateway/cron"
	"github.com/clawdbot/clawdbot/gateway/devices"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
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
	// httpAPI are the process-wide deps of the HTTP API; the wiring sets
	// its Agent and System (nil: the endpoints answer 503).
	httpAPI httpapi.Deps
	// models resolves and calls the turn's models (an llm.Resolver) from
	// the current runtime's config.
	models *models.Resolver
	// approvals holds the exec approval policy and the pending requests.
	approvals *approvals.Manager
	// skills reads the skill dirs and skills.entries.
	skills  *skills.Feature
	voice   *voice.Store
	wizards *wizard.Sessions
}

func newFeatures(s *Server) features {
	o := s.opts
	pres := presence.New(selfPresence(s.host, o.Version), o.Now)
	sys := system.New(system.Options{Presence: pres, Broadcast: s, StateDir: o.StateDir, Now: o.Now,
		Stopping: s.closing.Load, Heartbeat: heartbeatSummary(o.ConfigPath)})
	return features{
		presence: pres,
		system:   sys,
		cron:     newCronFeature(s, sys),
		config:   configrpc.NewStore(o.ConfigPath),
		devices:  devices.NewStore(o.StateDir, o.Now),
		nodes:    nodes.NewRegistry(),
		pairs:    nodes.NewPairStore(o.StateDir, o.Now),
		sessions: sessionstore.New(sessionstore.Options{StateDir: o.StateDir, Home: userHome(),
			Config: sessionstore.ConfigFile(o.ConfigPath), Now: o.Now}),
		httpAPI: httpapi.Deps{Limiter: httpapi.NewLimiter(o.Now)},
		models: models.New(models.Options{Config: func() profiles.Config { return configOf(s.rt.Load()) }, StateDir: o.StateDir,
			Warn: func(w string) { s.callLog.Warn(w) }}),
		approvals: approvals.NewManager(approvals.NewStore(o.StateDir, o.Now), s, o.Now),
		skills:    skills.New(skills.Deps{ConfigPath: o.ConfigPath, StateDir: o.StateDir, Workspace: defaultWorkspace(cron.ConfigFile(o.ConfigPath)())}),
		voice:     voice.NewStore(o.StateDir, o.Now),
		wizards:   wizard.NewSessions(),
	}
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
	sessions.Register(reg, sessions.Deps{Store: f.sessions})
	cron.Register(reg, cron.MethodDeps{Service: f.cron.svc, Heartbeats: cron.HeartbeatOf(f.cron.hb), Events: mainEvents{f.system}})
	models.Register(reg, models.Deps{Config: func() profiles.Config { return configOf(rt) }})
	approvals.Register(reg, approvals.Deps{Manager: f.approvals})
	skills.Register(reg, f.skills)
	tts.Register(reg, tts.Deps{Config: s.configJSON, StateDir: s.opts.StateDir})
	update.Register(reg, update.Deps{})
	wizard.Register(reg, wizard.Deps{Sessions: f.wizards, Setup: wizardSetup{s}})
	voice.Register(reg, voice.Deps{Store: f.voice, Broadcast: s, MobileNodeConnected: f.nodes.HasMobileNode, Now: s.now})
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
