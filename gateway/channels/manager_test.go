package channels_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/channelstest"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// The manager is tested with channelstest's in-memory plugin: the real
// channels talk to Telegram and WhatsApp, which no test may reach.

// configDoc is a config document a test can change between reloads.
type configDoc struct {
	mu  sync.Mutex
	raw string
}

func (c *configDoc) set(s string) { c.mu.Lock(); c.raw = s; c.mu.Unlock() }
func (c *configDoc) get() json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return json.RawMessage(c.raw)
}

type fixture struct {
	m      *channels.Manager
	plugin *channelstest.Plugin
	cfg    *configDoc
	dir    string
}

// newFixture is a manager over one fake plugin "fake" and config raw.
func newFixture(t *testing.T, raw string, mod func(*channels.Deps)) *fixture {
	t.Helper()
	f := &fixture{plugin: channelstest.New(channels.Meta{ID: "fake", Aliases: []string{"fk"}, TextChunkLimit: 10}),
		cfg: &configDoc{raw: raw}, dir: t.TempDir()}
	d := channels.Deps{Plugins: []channels.Plugin{f.plugin}, Config: f.cfg.get, StateDir: f.dir,
		Backoff: func(int) time.Duration { return 5 * time.Millisecond }}
	if mod != nil {
		mod(&d)
	}
	f.m = channels.New(d)
	t.Cleanup(f.m.Stop)
	return f
}

// row is channel account id's status row.
func (f *fixture) row(t *testing.T, id string) map[string]any {
	t.Helper()
	for _, r := range f.m.Status(context.Background(), false, 0).ChannelAccounts["fake"] {
		if r["accountId"] == id {
			return r
		}
	}
	t.Fatalf("no account %s", id)
	return nil
}

func TestManagerStartsConfiguredAccounts(t *testing.T) {
	cases := []struct {
		name, config string
		running      bool
		lastError    any
	}{
		{"configured", `{"channels":{"fake":{"token":"t"}}}`, true, nil},
		{"not configured", `{"channels":{"fake":{}}}`, false, "not configured"},
		{"no section", `{}`, false, "not configured"},
		{"disabled section", `{"channels":{"fake":{"token":"t","enabled":false}}}`, false, "disabled"},
		{"build error", `{"channels":{"fake":{"failBuild":"bad token file"}}}`, false, "bad token file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.config, nil)
			f.m.Start()
			if tc.running {
				gatewaytest.WaitFor(t, 5*time.Second, func() bool { return f.row(t, "default")["running"] == true })
			}
			r := f.row(t, "default")
			if r["running"] != tc.running {
				t.Errorf("running = %v, want %v", r["running"], tc.running)
			}
			var le any
			if p, ok := r["lastError"].(*string); ok && p != nil {
				le = *p
			}
			if le != tc.lastError {
				t.Errorf("lastError = %v, want %v", le, tc.lastError)
			}
		})
	}
}

func TestManagerSkipEnv(t *testing.T) {
	for _, k := range []string{"CLAWDBOT_SKIP_CHANNELS", "CLAWDBOT_SKIP_PROVIDERS"} {
		t.Run(k, func(t *testing.T) {
			f := newFixture(t, `{"channels":{"fake":{"token":"t"}}}`, func(d *channels.Deps) {
				d.Getenv = func(n string) string {
					if n == k {
						return "1"
					}
					return ""
				}
			})
			f.m.Start()
			time.Sleep(50 * time.Millisecond)
			if a := f.plugin.Account("default"); a == nil || a.Runs() != 0 {
				t.Fatalf("account built %v, runs %d; want built and never run", a != nil, a.Runs())
			}
		})
	}
}

// A failing Run is restarted with backoff; a panicking one too, with the
// panic in lastError; the manager itself survives both.
func TestManagerRestartsFailedAndPanickingAccounts(t *testing.T) {
	for _, mode := range []string{"error", "panic"} {
		t.Run(mode, func(t *testing.T) {
			var backoffs atomic.Int32
			f := newFixture(t, `{"channels":{"fake":{"token":"t"}}}`, func(d *channels.Deps) {
				d.Backoff = func(n int) time.Duration { backoffs.Add(1); return time.Millisecond }
			})
			f.plugin.OnRun(func(a *channelstest.Account, attempt int) error {
				if attempt <= 2 {
					if mode == "panic" {
						panic("boom")
					}
					return errors.New("409 conflict")
				}
				return nil
			})
			f.m.Start()
			gatewaytest.WaitFor(t, 5*time.Second, func() bool {
				a := f.plugin.Account("default")
				return a != nil && a.Running()
			})
			if got := f.plugin.Account("default").Runs(); got != 3 {
				t.Errorf("runs = %d, want 3", got)
			}
			if backoffs.Load() != 2 {
				t.Errorf("backoffs = %d, want 2", backoffs.Load())
			}
			r := f.row(t, "default")
			want := "409 conflict"
			if mode == "panic" {
				want = "panic: boom"
			}
			if p, _ := r["lastError"].(*string); p == nil || *p != want {
				t.Errorf("lastError = %v, want %q", r["lastError"], want)
			}
		})
	}
}

// A reload rebuilds only the account whose merged config changed; a new
// account starts, a removed one stops.
func TestManagerReloadPerAccount(t *testing.T) {
	f := newFixture(t, `{"channels":{"fake":{"token":"t","accounts":{"a":{},"b":{}}}}}`, nil)
	f.m.Start()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		a, b := f.plugin.Account("a"), f.plugin.Account("b")
		return a != nil && b != nil && a.Running() && b.Running()
	})
	a0, b0 := f.plugin.Account("a"), f.plugin.Account("b")

	f.cfg.set(`{"channels":{"fake":{"token":"t","accounts":{"a":{},"b":{"textChunkLimit":5},"c":{}}}}}`)
	f.m.Apply(f.cfg.get())
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		b, c := f.plugin.Account("b"), f.plugin.Account("c")
		return b != b0 && b.Running() && c != nil && c.Running()
	})
	if f.plugin.Account("a") != a0 || !a0.Running() {
		t.Error("unchanged account a was restarted")
	}
	if b0.Running() {
		t.Error("old b still running")
	}

	f.cfg.set(`{"channels":{"fake":{"token":"t","accounts":{"a":{}}}}}`)
	f.m.Apply(f.cfg.get())
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return !f.plugin.Account("c").Running() })
	if ids := len(f.m.Status(context.Background(), false, 0).ChannelAccounts["fake"]); ids != 1 {
		t.Errorf("%d accounts after removal, want 1", ids)
	}
}

func TestManagerStatusShape(t *testing.T) {
	f := newFixture(t, `{"channels":{"fake":{"token":"t"}}}`, nil)
	f.m.Start()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return f.row(t, "default")["running"] == true })
	s := f.m.Status(context.Background(), true, time.Second)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	for _, k := range []string{"ts", "channelOrder", "channelLabels", "channelDetailLabels", "channelSystemImages",
		"channelMeta", "channels", "channelAccounts", "channelDefaultAccountId"} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing %s in %s", k, b)
		}
	}
	row := got["channelAccounts"].(map[string]any)["fake"].([]any)[0].(map[string]any)
	for _, k := range []string{"accountId", "enabled", "configured", "running", "lastStartAt", "lastStopAt",
		"lastError", "lastInboundAt", "lastOutboundAt", "mode", "connected", "probe", "lastProbeAt"} {
		if _, ok := row[k]; !ok {
			t.Errorf("account row lacks %s: %v", k, row)
		}
	}
	probe := row["probe"].(map[string]any)
	if probe["ok"] != true || probe["bot"] == nil {
		t.Errorf("probe = %v", probe)
	}
	sum := got["channels"].(map[string]any)["fake"].(map[string]any)
	if _, ok := sum["accountId"]; ok {
		t.Errorf("summary has accountId: %v", sum)
	}
	if got["channelDefaultAccountId"].(map[string]any)["fake"] != "default" {
		t.Errorf("default account = %v", got["channelDefaultAccountId"])
	}
}

// A request before Start (the gateway answers before the background
// start) sees the accounts built but idle; Start then runs them.
func TestManagerStatusBeforeStart(t *testing.T) {
	f := newFixture(t, `{"channels":{"fake":{"token":"t"}}}`, nil)
	r := f.row(t, "default")
	if r["configured"] != true || r["running"] != false {
		t.Fatalf("row before start %v", r)
	}
	f.m.Start()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return f.row(t, "default")["running"] == true })
}

// Starting and (dis)connecting tell Deps.Changed (the gateway refreshes
// health); plain runtime fields do not.
func TestManagerChangedNotifications(t *testing.T) {
	var n atomic.Int32
	f := newFixture(t, `{"channels":{"fake":{"token":"t"}}}`, func(d *channels.Deps) { d.Changed = func() { n.Add(1) } })
	f.m.Start()
	// Run start + the fake's SetStatus(connected).
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return n.Load() >= 2 })
	f.m.StopAccount("fake", "default")
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return n.Load() >= 4 })
}
