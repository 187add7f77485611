// Package channelstest is an in-memory channel plugin for tests of the
// channel framework and its wiring: no network, every send recorded,
// inbound messages injected by the test, Run failures and panics
// scripted. It stands in for Telegram and WhatsApp, which cannot be
// reached from tests.
package channelstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

// Plugin is the fake channel. Its zero value is not usable; use New.
type Plugin struct {
	meta channels.Meta

	mu       sync.Mutex
	accounts map[string]*Account
	// RunHook, when set, runs at the start of every Account.Run; a non-nil
	// error ends that Run with it, a panic inside it panics Run.
	runHook func(acct *Account, attempt int) error
	builds  int
}

// New is a fake plugin with meta (ID "fake" and label "Fake" when empty).
// An account is configured when its merged config has a non-empty
// "token", or "configured": true.
func New(meta channels.Meta) *Plugin {
	if meta.ID == "" {
		meta.ID = "fake"
	}
	if meta.Label == "" {
		meta.Label = "Fake"
	}
	if meta.DetailLabel == "" {
		meta.DetailLabel = meta.Label + " Test"
	}
	if meta.SystemImage == "" {
		meta.SystemImage = "ladybug"
	}
	if meta.PairingIDLabel == "" {
		meta.PairingIDLabel = meta.Label + " user id"
	}
	return &Plugin{meta: meta, accounts: map[string]*Account{}}
}

// Meta implements channels.Plugin.
func (p *Plugin) Meta() channels.Meta { return p.meta }

// QRLogin marks the fake as a QR-login plugin (its accounts implement
// channels.QRLoginer).
func (p *Plugin) QRLogin() {}

// OnRun sets a hook run at the start of each Account.Run with the
// account's 1-based attempt count (see Plugin.runHook).
func (p *Plugin) OnRun(h func(acct *Account, attempt int) error) {
	p.mu.Lock()
	p.runHook = h
	p.mu.Unlock()
}

// Builds counts NewAccount calls (a reload that changes an account's
// config builds it again).
func (p *Plugin) Builds() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.builds
}

// NewAccount implements channels.Plugin.
func (p *Plugin) NewAccount(cfg channels.AccountConfig) (channels.Account, error) {
	var c struct {
		Token      string `json:"token"`
		Configured bool   `json:"configured"`
		Fail       string `json:"failBuild"`
	}
	if err := json.Unmarshal(cfg.Merged, &c); err != nil {
		return nil, err
	}
	if c.Fail != "" {
		return nil, errors.New(c.Fail)
	}
	a := &Account{plugin: p, cfg: cfg, configured: c.Token != "" || c.Configured, Linked: true,
		inbound: make(chan channels.Inbound, 64)}
	p.mu.Lock()
	p.builds++
	p.accounts[cfg.AccountID] = a
	p.mu.Unlock()
	return a, nil
}

// Account is the newest account built for id (nil before it is built).
func (p *Plugin) Account(id string) *Account {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accounts[id]
}

// Account is one fake account. Sends are recorded; Deliver injects an
// inbound message while Run is running.
type Account struct {
	plugin     *Plugin
	cfg        channels.AccountConfig
	configured bool

	mu       sync.Mutex
	sent     []channels.Outbound
	typing   int
	runs     int
	running  bool
	loggedIn bool
	// Linked false makes Send fail with channels.ErrNotLinked.
	Linked bool
	// SendErr, when set, fails every Send.
	SendErr error
	nextID  int
	queued  int // Deliver calls
	handed  int // messages given to the host
	onSend  func(channels.Outbound)
	inbound chan channels.Inbound
	host    channels.Host
}

// Config is what the account was built from.
func (a *Account) Config() channels.AccountConfig { return a.cfg }

// Describe implements channels.Account.
func (a *Account) Describe() channels.Description {
	d := channels.Description{Enabled: channels.Enabled(a.cfg.Section, a.cfg.Merged), Configured: a.configured,
		Fields: map[string]any{"mode": "fake"}}
	if !a.configured {
		d.NotConfiguredReason = "not configured"
	}
	return d
}

// Run implements channels.Account: it reports connected and forwards
// injected messages to the host until ctx ends.
func (a *Account) Run(ctx context.Context, host channels.Host) error {
	a.mu.Lock()
	a.runs++
	attempt := a.runs
	a.host = host
	a.mu.Unlock()
	a.plugin.mu.Lock()
	hook := a.plugin.runHook
	a.plugin.mu.Unlock()
	if hook != nil {
		if err := hook(a, attempt); err != nil {
			return err
		}
	}
	a.setRunning(true)
	defer a.setRunning(false)
	host.SetStatus(map[string]any{"connected": true, "lastConnectedAt": time.Now().UnixMilli()})
	for {
		select {
		case <-ctx.Done():
			host.SetStatus(map[string]any{"connected": false})
			return nil
		case m := <-a.inbound:
			host.Inbound(m)
			a.mu.Lock()
			a.handed++
			a.mu.Unlock()
		}
	}
}

func (a *Account) setRunning(on bool) {
	a.mu.Lock()
	a.running = on
	a.mu.Unlock()
}

// Running reports Run is past its hook and serving.
func (a *Account) Running() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running
}

// Runs counts Run calls.
func (a *Account) Runs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.runs
}

// Deliver queues m as if the network had delivered it; Run hands it to
// the host. Channel, AccountID, ChatID (= SenderID) and ChatType (dm) are
// filled when empty.
func (a *Account) Deliver(m channels.Inbound) {
	if m.Channel == "" {
		m.Channel = a.cfg.Channel
	}
	if m.AccountID == "" {
		m.AccountID = a.cfg.AccountID
	}
	if m.ChatID == "" {
		m.ChatID = m.SenderID
	}
	if m.ChatType == "" {
		m.ChatType = channels.ChatDM
	}
	a.mu.Lock()
	a.queued++
	a.mu.Unlock()
	a.inbound <- m
}

// Send implements channels.Account.
func (a *Account) Send(_ context.Context, m channels.Outbound) (channels.SendResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.Linked {
		return channels.SendResult{}, fmt.Errorf("fake account %s: %w", a.cfg.AccountID, channels.ErrNotLinked)
	}
	if a.SendErr != nil {
		return channels.SendResult{}, a.SendErr
	}
	a.nextID++
	a.sent = append(a.sent, m)
	if a.onSend != nil {
		a.onSend(m)
	}
	return channels.SendResult{MessageID: strconv.Itoa(a.nextID), ChatID: m.To}, nil
}

// OnSend sets a callback run (under the account's lock: keep it short)
// for every successful Send; benchmarks wait on it instead of polling.
func (a *Account) OnSend(fn func(channels.Outbound)) {
	a.mu.Lock()
	a.onSend = fn
	a.mu.Unlock()
}

// Handed reports whether every delivered message has reached the host
// (with Manager.Busy false, routing has finished with them).
func (a *Account) Handed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.handed == a.queued
}

// Sent are the messages sent so far, in order.
func (a *Account) Sent() []channels.Outbound {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]channels.Outbound(nil), a.sent...)
}

// Typings counts Typing calls.
func (a *Account) Typings() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.typing
}

// ResolveTarget implements channels.Account: "fake:" is stripped, an
// empty or "invalid" target is an error.
func (a *Account) ResolveTarget(to string, _ channels.TargetMode) (string, error) {
	if len(to) > 5 && to[:5] == "fake:" {
		to = to[5:]
	}
	if to == "" || to == "invalid" {
		return "", channels.Errorf("Delivering to Fake requires target <id>")
	}
	return to, nil
}

// Typing implements channels.Typer.
func (a *Account) Typing(context.Context, string, string) error {
	a.mu.Lock()
	a.typing++
	a.mu.Unlock()
	return nil
}

// Probe implements channels.Prober.
func (a *Account) Probe(context.Context) channels.ProbeResult {
	return channels.ProbeResult{OK: a.configured, ElapsedMs: 1, Fields: map[string]any{"bot": map[string]any{"username": "fakebot"}}}
}

// LogoutAccount implements channels.LogoutAccounter: it deletes the
// section's token through edit.
func (a *Account) LogoutAccount(_ context.Context, edit channels.ConfigEditor) (channels.LogoutResult, error) {
	if !a.configured {
		return channels.LogoutResult{Fields: map[string]any{"loggedOut": false}}, nil
	}
	path := []string{"channels", a.cfg.Channel, "token"}
	if a.cfg.AccountID != channels.DefaultAccountID {
		path = []string{"channels", a.cfg.Channel, "accounts", a.cfg.AccountID, "token"}
	}
	if err := edit.DeletePath(path...); err != nil {
		return channels.LogoutResult{}, err
	}
	return channels.LogoutResult{Cleared: true, Fields: map[string]any{"loggedOut": true}}, nil
}

// StartLogin implements channels.QRLoginer with a constant QR.
func (a *Account) StartLogin(context.Context, channels.LoginStart) (channels.LoginStartResult, error) {
	a.mu.Lock()
	a.loggedIn = true
	a.mu.Unlock()
	return channels.LoginStartResult{QRDataURL: "data:image/png;base64,iVBORw0KGgo=", Message: "Scan this QR."}, nil
}

// WaitLogin implements channels.QRLoginer: connected after a StartLogin,
// else an error.
func (a *Account) WaitLogin(context.Context, time.Duration) (channels.LoginWaitResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.loggedIn {
		return channels.LoginWaitResult{}, errors.New("no active login in progress")
	}
	a.loggedIn = false
	return channels.LoginWaitResult{Connected: true, Message: "Linked."}, nil
}

var (
	_ channels.Plugin          = (*Plugin)(nil)
	_ channels.QRLoginPlugin   = (*Plugin)(nil)
	_ channels.Account         = (*Account)(nil)
	_ channels.Typer           = (*Account)(nil)
	_ channels.Prober          = (*Account)(nil)
	_ channels.LogoutAccounter = (*Account)(nil)
	_ channels.QRLoginer       = (*Account)(nil)
)
