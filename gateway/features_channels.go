package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/telegram"
	"github.com/clawdbot/clawdbot/gateway/configrpc"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// The channels feature's wiring: the plugin list, the manager's deps
// (config, session store, agent turns, system events, config edits), its
// start after the listener is bound, its config reloads and its part of
// health and status.

// channelPlugins are the channel implementations the gateway loads, one
// line each; Options.ChannelPlugins replaces the list (tests).
func channelPlugins() []channels.Plugin {
	return append([]channels.Plugin{
		telegram.New(),
	}, whatsappPlugins()...)
}

// newChannels is the manager over the core's stores and runner. It reads
// the config once, for which plugins are loaded; it connects nowhere:
// Start does, after the listener is up.
func newChannels(s *Server, f *features) *channels.Manager {
	o := s.opts
	plugins := o.ChannelPlugins
	if plugins == nil {
		plugins = channelPlugins()
	}
	plugins = loadedPlugins(plugins, channels.LoadContext{Root: s.configJSON(), Getenv: os.Getenv, StateDir: o.StateDir})
	return channels.New(channels.Deps{Plugins: plugins, Config: s.configJSON, StateDir: o.StateDir, Getenv: os.Getenv,
		Sessions: f.sessions, Agent: channelTurns{agentTurns{s}}, Events: func(text string) { f.system.Enqueue(text) },
		EditConfig: configEditor{f.config, o.ConfigPath}, Log: filelog.Subsystem(o.Logger, "channels"), Now: o.Now,
		Changed: func() {
			if !s.closing.Load() {
				f.system.HealthSoon()
			}
		}})
}

// loadedPlugins drops the plugins the config does not enable
// (channels.Loader).
func loadedPlugins(all []channels.Plugin, lc channels.LoadContext) []channels.Plugin {
	var out []channels.Plugin
	for _, p := range all {
		if l, ok := p.(channels.Loader); !ok || l.Loaded(lc) {
			out = append(out, p)
		}
	}
	return out
}

// startChannels starts the configured channel accounts in the background
// (Run calls it once the listener serves; a slow or failing channel never
// delays or stops the gateway).
func (s *Server) startChannels() {
	go func() {
		if !s.closing.Load() {
			s.f.channels.Start()
		}
	}()
}

// reloadChannels applies the current config file to the channel accounts:
// accounts whose settings changed restart, the others keep running.
func (s *Server) reloadChannels() {
	go s.f.channels.Apply(s.configJSON())
}

// channelPaths reports whether a reload touched a channel's settings
// (channels.* or WhatsApp's web.*).
func channelPaths(paths []string) bool {
	return slices.ContainsFunc(paths, func(p string) bool {
		return strings.HasPrefix(p, "channels") || p == "web" || strings.HasPrefix(p, "web.")
	})
}

// configEditor is channels.ConfigEditor over configrpc's store: a JSON
// merge patch spliced into the file's text (the user's formatting kept),
// validated and saved under the store's write lock.
type configEditor struct {
	st   *configrpc.Store
	path string
}

// Valid reports an unreadable or invalid config file (channels.logout
// refuses to edit it, as the original does).
func (c configEditor) Valid() error {
	snap, err := profiles.Load(c.path)
	if err != nil {
		return err
	}
	if snap.Exists && !snap.Valid {
		return snap.Err()
	}
	return nil
}

func (c configEditor) DeletePath(path ...string) error {
	if len(path) == 0 {
		return errors.New("config edit: empty path")
	}
	var patch any
	for i := len(path) - 1; i >= 0; i-- {
		patch = map[string]any{path[i]: patch}
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if e := c.st.Patch(b); e != nil {
		return errors.New(e.Message)
	}
	return nil
}

// channelTurns is channels.Agent over the runner: an inbound message is a
// turn on its session with the channel as the turn's channel.
type channelTurns struct{ agentTurns }

func (c channelTurns) RunTurn(ctx context.Context, t channels.Turn) (channels.Reply, error) {
	o, err := c.run(ctx, t.SessionKey, "", agent.Turn{Message: t.Message, Channel: t.Channel, MessageID: t.MessageID})
	var out channels.Reply
	for _, p := range o.Payloads {
		rp := channels.ReplyPayload{Text: p.Text, MediaURLs: slices.Clone(p.MediaURLs)}
		if p.MediaURL != nil && !slices.Contains(rp.MediaURLs, *p.MediaURL) {
			rp.MediaURLs = append([]string{*p.MediaURL}, rp.MediaURLs...)
		}
		if rp.Text != "" || len(rp.MediaURLs) > 0 {
			out.Payloads = append(out.Payloads, rp)
		}
	}
	return out, err
}

func (c channelTurns) AbortSession(key string) bool { return c.s.f.agent.AbortSession(key) }

var _ channels.Agent = channelTurns{}

// registerChannels adds the channel methods; web.login.* go after the
// core list in hello-ok, as the original's WhatsApp plugin appends them.
func (s *Server) registerChannels(reg *rpc.Registry) {
	channels.Register(reg, s.f.channels)
}

// pluginMethods are the registered methods outside the core list, in
// the order hello-ok appends them.
func (s *Server) pluginMethods(reg *rpc.Registry) []string {
	var out []string
	for _, n := range s.f.channels.AdvertisedMethods() {
		if reg.Has(n) && !slices.Contains(wire.AdvertisedMethods(), n) {
			out = append(out, n)
		}
	}
	return out
}

// channelHealth fills the health summary's channel sections.
func (s *Server) channelHealth(h *wire.HealthSummary) {
	h.Channels, h.ChannelOrder, h.ChannelLabels = s.f.channels.HealthChannels()
}

// channelStatus fills status's channelSummary and linkChannel.
func (s *Server) channelStatus(st *wire.StatusSummary) {
	st.ChannelSummary = s.f.channels.SummaryLines()
	if id, label, linked, age, ok := s.f.channels.LinkChannel(); ok {
		st.LinkChannel = &wire.LinkChannel{ID: id, Label: label, Linked: linked, AuthAgeMs: age}
	}
}

// agentDelivery is agent.Deliverer over the channel manager (agent
// deliver:true); a delivery to the internal channel is no delivery.
type agentDelivery struct{ s *Server }

func (a agentDelivery) Deliver(ctx context.Context, d agent.Delivery) error {
	cd := channels.Delivery{SessionKey: d.SessionKey, Channel: d.Channel, To: d.To, AccountID: d.AccountID, ThreadID: d.ThreadID}
	for _, p := range d.Payloads {
		rp := channels.ReplyPayload{Text: p.Text, MediaURLs: slices.Clone(p.MediaURLs)}
		if p.MediaURL != nil && !slices.Contains(rp.MediaURLs, *p.MediaURL) {
			rp.MediaURLs = append([]string{*p.MediaURL}, rp.MediaURLs...)
		}
		cd.Payloads = append(cd.Payloads, rp)
	}
	if err := a.s.f.channels.Deliver(ctx, cd); err != nil && !errors.Is(err, channels.ErrNoDelivery) {
		return err
	}
	return nil
}

var _ agent.Deliverer = agentDelivery{}
