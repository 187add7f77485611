package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

// Restart backoff of a failed account: 2 s × 1.8 up to 30 s with 25 %
// jitter (the original's Telegram/WhatsApp reconnect policy). An account
// that ran longer than healthyRun before failing starts again from the
// first step.
const (
	backoffInitial = 2 * time.Second
	backoffMax     = 30 * time.Second
	backoffFactor  = 1.8
	backoffJitter  = 0.25
	healthyRun     = time.Minute
	// stopTimeout bounds the wait for an account's Run to return after
	// its context is cancelled; a plugin that ignores ctx is logged and
	// left behind rather than hanging a reload or shutdown.
	stopTimeout = 10 * time.Second
)

// Deps are what the manager needs from the gateway.
type Deps struct {
	// Plugins are the channel implementations, in any order (channelOrder
	// sorts them by Meta.Order, then ID).
	Plugins []Plugin
	// Config is the current config document (resolved JSON; {} when none).
	Config func() json.RawMessage
	// StateDir is the profile's state directory.
	StateDir string
	// Getenv reads the environment (CLAWDBOT_SKIP_CHANNELS, tokens).
	Getenv func(string) string
	// Sessions is the session store: route updates and the send mirror.
	Sessions *sessionstore.Store
	// Agent runs inbound turns (nil: inbound messages are only access
	// checked and paired).
	Agent Agent
	// Events queues system events for the main session (nil: dropped).
	Events func(text string)
	// EditConfig edits the config file (logout).
	EditConfig ConfigEditor
	// Dedupe is the process-wide idempotency cache (send:<idem>).
	Dedupe *rpc.Dedupe
	Log    *slog.Logger
	Now    func() time.Time
	// Changed is told when an account starts, stops, fails or (dis)connects,
	// so health is refreshed for the clients (nil: nothing).
	Changed func()
	// Backoff replaces the restart delay after attempt n (1-based) —
	// tests shorten it.
	Backoff func(n int) time.Duration
}

// Manager runs every configured channel account: it starts them in the
// background, restarts a failed one with backoff, applies config changes
// per account, and is the channels side of send, channels.status,
// channels.logout and web.login.*. Safe for concurrent use.
type Manager struct {
	d       Deps
	plugins []Plugin
	byID    map[string]Plugin
	pairing *PairingStore
	router  *router

	// applyMu serialises Apply and Stop (reloads arrive on their own
	// goroutines).
	applyMu  sync.Mutex
	mu       sync.Mutex
	accounts map[string]*accountRunner // channel + "/" + accountID
	root     json.RawMessage
	ctx      context.Context
	cancel   context.CancelFunc
	started  bool
	skip     bool
	inflight map[string]*sendFlight
}

// New is a manager over d; nothing runs until Start.
func New(d Deps) *Manager {
	if d.Getenv == nil {
		d.Getenv = func(string) string { return "" }
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Config == nil {
		d.Config = func() json.RawMessage { return json.RawMessage("{}") }
	}
	if d.Dedupe == nil {
		d.Dedupe = rpc.NewDedupe(d.Now)
	}
	if d.Backoff == nil {
		d.Backoff = defaultBackoff
	}
	m := &Manager{d: d, byID: map[string]Plugin{}, accounts: map[string]*accountRunner{}, inflight: map[string]*sendFlight{}}
	m.plugins = append(m.plugins, d.Plugins...)
	sort.SliceStable(m.plugins, func(i, j int) bool {
		a, b := m.plugins[i].Meta(), m.plugins[j].Meta()
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.ID < b.ID
	})
	for _, p := range m.plugins {
		m.byID[p.Meta().ID] = p
	}
	m.pairing = NewPairingStore(CredentialsDir(d.StateDir, d.Getenv), d.Now, m.normalizeEntry)
	m.router = newRouter(m)
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// changed tells Deps.Changed about an account state change.
func (m *Manager) changed() {
	if m.d.Changed != nil {
		m.d.Changed()
	}
}

// Pairing is the manager's pairing store.
func (m *Manager) Pairing() *PairingStore { return m.pairing }

// Plugins are the loaded plugins in channelOrder.
func (m *Manager) Plugins() []Plugin { return m.plugins }

// defaultBackoff is 2 s × 1.8^(n-1), at most 30 s, ±25 %.
func defaultBackoff(n int) time.Duration {
	d := float64(backoffInitial)
	for i := 1; i < n; i++ {
		d *= backoffFactor
		if d >= float64(backoffMax) {
			d = float64(backoffMax)
			break
		}
	}
	d *= 1 + backoffJitter*(2*rand.Float64()-1)
	return time.Duration(d)
}

// skipEnv reports CLAWDBOT_SKIP_CHANNELS / CLAWDBOT_SKIP_PROVIDERS.
func skipEnv(getenv func(string) string) bool {
	for _, k := range []string{"CLAWDBOT_SKIP_CHANNELS", "CLAWDBOT_SKIP_PROVIDERS"} {
		switch strings.ToLower(strings.TrimSpace(getenv(k))) {
		case "1", "true", "yes", "on":
			return true
		}
	}
	return false
}

// Start builds every account from the current config and starts the
// configured ones on their own goroutines; it returns at once (no
// network I/O here). With CLAWDBOT_SKIP_CHANNELS=1 accounts are built
// (status, send) but not started.
func (m *Manager) Start() {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return
	}
	m.started = true
	m.skip = skipEnv(m.d.Getenv)
	m.mu.Unlock()
	if m.skip {
		m.d.Log.Info("skipping channel start (CLAWDBOT_SKIP_CHANNELS)")
	}
	m.Apply(m.d.Config())
	if m.skip {
		return
	}
	// Accounts a request built before Start (ensure) start now.
	m.mu.Lock()
	runners := make([]*accountRunner, 0, len(m.accounts))
	for _, r := range m.accounts {
		runners = append(runners, r)
	}
	m.mu.Unlock()
	for _, r := range runners {
		r.build()
		r.start()
	}
}

// ensure builds the accounts from the config once, for a request that
// arrives before Start (status, send): they exist, not yet running.
func (m *Manager) ensure() {
	m.mu.Lock()
	applied := m.root != nil
	m.mu.Unlock()
	if !applied {
		m.Apply(m.d.Config())
	}
}

// shutdownWait bounds Stop: the gateway's shutdown budget is 5 s, and a
// channel that does not stop in time is left behind (logged).
const shutdownWait = 3 * time.Second

// Stop stops every account, aborts the turns of inbound messages and
// waits for both, at most shutdownWait. The manager cannot be started
// again.
func (m *Manager) Stop() {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	m.mu.Lock()
	m.started = false
	runners := make([]*accountRunner, 0, len(m.accounts))
	for _, r := range m.accounts {
		runners = append(runners, r)
	}
	m.mu.Unlock()
	m.cancel()
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Go(r.stop)
		}
		wg.Wait()
		m.router.stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownWait):
		m.d.Log.Warn(fmt.Sprintf("channels did not stop within %s; exiting without them", shutdownWait))
	}
}

// Apply brings the accounts in line with root: new accounts are built
// (and started when the manager runs), removed ones stopped, and an
// account whose merged config (or a ReloadWatcher section) changed is
// stopped and rebuilt. Unchanged accounts keep running. The gateway calls
// it on every accepted config change; it is cheap when nothing changed.
func (m *Manager) Apply(root json.RawMessage) {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	if len(root) == 0 {
		root = json.RawMessage("{}")
	}
	var doc struct {
		Channels map[string]json.RawMessage `json:"channels"`
	}
	_ = json.Unmarshal(root, &doc)
	var top map[string]json.RawMessage
	_ = json.Unmarshal(root, &top)

	type want struct {
		p   Plugin
		cfg AccountConfig
		fp  string
	}
	wanted := map[string]want{}
	for _, p := range m.plugins {
		id := p.Meta().ID
		section := doc.Channels[id]
		if len(section) == 0 {
			section = json.RawMessage("{}")
		}
		extra := ""
		if rw, ok := p.(ReloadWatcher); ok {
			for _, s := range rw.ReloadSections() {
				extra += "\x00" + s + "=" + string(top[s])
			}
		}
		for _, acct := range AccountIDs(section) {
			merged := MergeAccount(section, acct)
			cfg := AccountConfig{Channel: id, AccountID: acct, Merged: merged, Section: section, Root: root,
				StateDir: m.d.StateDir, Getenv: m.d.Getenv}
			// Other accounts' fields do not restart this one: only its
			// merged config, the section's enabled and watched sections.
			wanted[id+"/"+acct] = want{p: p, cfg: cfg, fp: string(merged) + "\x00" + fmt.Sprint(Enabled(section, nil)) + extra}
		}
	}

	m.mu.Lock()
	m.root = root
	started, skip := m.started, m.skip
	var stops, starts []*accountRunner
	for k, r := range m.accounts {
		w, ok := wanted[k]
		if !ok || w.fp != r.fingerprint {
			stops = append(stops, r)
			delete(m.accounts, k)
		}
	}
	for k, w := range wanted {
		if _, ok := m.accounts[k]; ok {
			continue // same settings: keeps running on the config it was built from
		}
		r := newAccountRunner(m, w.p, w.cfg, w.fp)
		m.accounts[k] = r
		starts = append(starts, r)
	}
	m.mu.Unlock()

	for _, r := range stops {
		r.stop()
	}
	for _, r := range starts {
		r.build()
		if started && !skip {
			r.start()
		}
	}
}

// account is the runner of channel/accountID (nil when unknown).
func (m *Manager) account(channel, accountID string) *accountRunner {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.accounts[channel+"/"+accountID]
}

// accountsOf are channel's runners sorted by account id.
func (m *Manager) accountsOf(channel string) []*accountRunner {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*accountRunner
	for _, r := range m.accounts {
		if r.channel == channel {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// defaultAccountOf is the account a request without accountId addresses.
func (m *Manager) defaultAccountOf(channel string) string {
	var ids []string
	for _, r := range m.accountsOf(channel) {
		ids = append(ids, r.id)
	}
	return DefaultAccount(ids)
}

// normalizeEntry canonicalises an allowFrom entry with the channel's
// account normaliser (any account of the channel: the rule is per plugin).
func (m *Manager) normalizeEntry(channel, entry string) string {
	for _, r := range m.accountsOf(channel) {
		if n, ok := r.acct().(AllowEntryNormalizer); ok {
			return n.NormalizeAllowEntry(entry)
		}
	}
	return strings.TrimSpace(entry)
}

// Normalize is the plugin id that name means (its id or an alias,
// case-insensitively), or "".
func (m *Manager) Normalize(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, p := range m.plugins {
		meta := p.Meta()
		if strings.ToLower(meta.ID) == n {
			return meta.ID
		}
		for _, a := range meta.Aliases {
			if strings.ToLower(a) == n {
				return meta.ID
			}
		}
	}
	return ""
}

// StartAccount (re)starts channel/accountID if it is idle (after a
// web.login link).
func (m *Manager) StartAccount(channel, accountID string) {
	if r := m.account(channel, accountID); r != nil {
		m.mu.Lock()
		ok := m.started && !m.skip
		m.mu.Unlock()
		if ok {
			r.build()
			r.start()
		}
	}
}

// StopAccount stops channel/accountID and waits for it.
func (m *Manager) StopAccount(channel, accountID string) {
	if r := m.account(channel, accountID); r != nil {
		r.stop()
	}
}

// accountRunner is one account's lifecycle and status.
type accountRunner struct {
	m           *Manager
	plugin      Plugin
	channel, id string
	cfg         AccountConfig
	fingerprint string

	mu       sync.Mutex
	account  Account
	buildErr error
	status   map[string]any // plugin runtime fields
	running  bool
	lastStartAt, lastStopAt,
	lastInboundAt, lastOutboundAt, lastProbeAt *int64
	lastError *string
	probe     *ProbeResult
	cancel    context.CancelFunc
	done      chan struct{}
}

func newAccountRunner(m *Manager, p Plugin, cfg AccountConfig, fp string) *accountRunner {
	return &accountRunner{m: m, plugin: p, channel: cfg.Channel, id: cfg.AccountID, cfg: cfg, fingerprint: fp, status: map[string]any{}}
}

func (r *accountRunner) acct() Account {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.account
}

// built is the account and the error that kept it from being built.
func (r *accountRunner) built() (Account, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.account, r.buildErr
}

func (r *accountRunner) nowMs() *int64 {
	n := r.m.d.Now().UnixMilli()
	return &n
}

func (r *accountRunner) setError(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg == "" {
		r.lastError = nil
		return
	}
	r.lastError = &msg
}

// build creates the Account (once); a failure is kept as lastError.
func (r *accountRunner) build() {
	r.mu.Lock()
	if r.account != nil || r.buildErr != nil {
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	var a Account
	err := safeCall(func() error {
		var err error
		a, err = r.plugin.NewAccount(r.cfg)
		return err
	})
	r.mu.Lock()
	r.account, r.buildErr = a, err
	if err != nil {
		msg := err.Error()
		r.lastError = &msg
	}
	r.mu.Unlock()
	if err != nil {
		r.m.d.Log.Warn(fmt.Sprintf("[%s/%s] channel config unusable: %v", r.channel, r.id, err))
	}
}

// safeCall runs fn, turning a panic into an error (a plugin bug never
// takes the gateway down).
func safeCall(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			slog.Default().Debug("channel panic", "stack", string(debug.Stack()))
		}
	}()
	return fn()
}

// start launches the run loop when the account is enabled, configured and
// not already running.
func (r *accountRunner) start() {
	a := r.acct()
	if a == nil {
		return
	}
	var desc Description
	if err := safeCall(func() error { desc = a.Describe(); return nil }); err != nil {
		r.setError(err.Error())
		return
	}
	switch {
	case !desc.Enabled:
		r.setError("disabled")
		return
	case !desc.Configured:
		reason := desc.NotConfiguredReason
		if reason == "" {
			reason = "not configured"
		}
		r.setError(reason)
		return
	}
	r.mu.Lock()
	if r.done != nil {
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(r.m.ctx)
	r.cancel, r.done = cancel, make(chan struct{})
	done := r.done
	r.mu.Unlock()
	go r.loop(ctx, a, done)
}

// loop runs the account until ctx ends, restarting it with backoff.
func (r *accountRunner) loop(ctx context.Context, a Account, done chan struct{}) {
	defer close(done)
	host := &host{r: r}
	attempt := 0
	for ctx.Err() == nil {
		r.mu.Lock()
		r.running, r.lastStartAt = true, r.nowMs()
		r.mu.Unlock()
		r.m.changed()
		began := time.Now()
		err := safeCall(func() error { return a.Run(ctx, host) })
		r.mu.Lock()
		r.running, r.lastStopAt = false, r.nowMs()
		r.mu.Unlock()
		r.m.changed()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = fmt.Errorf("channel exited")
		}
		r.setError(err.Error())
		r.m.d.Log.Warn(fmt.Sprintf("[%s/%s] channel exited: %v", r.channel, r.id, err))
		if time.Since(began) > healthyRun {
			attempt = 0
		}
		attempt++
		t := time.NewTimer(r.m.d.Backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stop cancels the run loop and waits for it (bounded).
func (r *accountRunner) stop() {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.cancel, r.done = nil, nil
	r.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		r.m.d.Log.Warn(fmt.Sprintf("[%s/%s] channel did not stop within %s; left behind", r.channel, r.id, stopTimeout))
	}
	r.mu.Lock()
	r.running = false
	r.mu.Unlock()
}

// host is the Host a running account reports to.
type host struct{ r *accountRunner }

func (h *host) SetStatus(fields map[string]any) {
	r := h.r
	notable := false
	for _, k := range []string{"connected", "running", "lastError", "linked"} {
		if _, ok := fields[k]; ok {
			notable = true
		}
	}
	if notable {
		defer r.m.changed() // after the unlock below
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range fields {
		switch k {
		case "lastError":
			switch e := v.(type) {
			case nil:
				r.lastError = nil
			case string:
				if e == "" {
					r.lastError = nil
				} else {
					r.lastError = &e
				}
			case error:
				s := e.Error()
				r.lastError = &s
			}
		case "running":
			if b, ok := v.(bool); ok {
				r.running = b
			}
		default:
			r.status[k] = v
		}
	}
}

func (h *host) Inbound(m Inbound) {
	r := h.r
	if m.Channel == "" {
		m.Channel = r.channel
	}
	if m.AccountID == "" {
		m.AccountID = r.id
	}
	r.mu.Lock()
	r.lastInboundAt = r.nowMs()
	r.mu.Unlock()
	r.m.router.inbound(r, m)
}

func (h *host) Logf(format string, args ...any) {
	h.r.m.d.Log.Info(fmt.Sprintf("[%s/%s] ", h.r.channel, h.r.id) + fmt.Sprintf(format, args...))
}

func (h *host) SystemEvent(text string) {
	if h.r.m.d.Events != nil {
		h.r.m.d.Events(text)
	}
}

var _ SystemEventer = (*host)(nil)
