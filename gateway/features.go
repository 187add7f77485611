package gateway

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/configrpc"
	"github.com/clawdbot/clawdbot/gateway/devices"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/nodes"
	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessions"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
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
	voice    *voice.Store
	wizards  *wizard.Sessions
}

func newFeatures(s *Server) features {
	o := s.opts
	pres := presence.New(selfPresence(s.host, o.Version), o.Now)
	return features{
		presence: pres,
		system: system.New(system.Options{Presence: pres, Broadcast: s, StateDir: o.StateDir, Now: o.Now,
			Stopping: s.closing.Load}),
		config:  configrpc.NewStore(o.ConfigPath),
		devices: devices.NewStore(o.StateDir, o.Now),
		nodes:   nodes.NewRegistry(),
		pairs:   nodes.NewPairStore(o.StateDir, o.Now),
		sessions: sessionstore.New(sessionstore.Options{StateDir: o.StateDir, Home: userHome(),
			Config: sessionstore.ConfigFile(o.ConfigPath), Now: o.Now}),
		voice:   voice.NewStore(o.StateDir, o.Now),
		wizards: wizard.NewSessions(),
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
	tts.Register(reg, tts.Deps{Config: s.configJSON, StateDir: s.opts.StateDir})
	update.Register(reg, update.Deps{})
	wizard.Register(reg, wizard.Deps{Sessions: f.wizards, Setup: wizardSetup{s}})
	voice.Register(reg, voice.Deps{Store: f.voice, Broadcast: s, MobileNodeConnected: f.nodes.HasMobileNode, Now: s.now})
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
