package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/telegram/telegramtest"
)

// The Bot API in these tests is telegramtest's fake on loopback: the real
// api.telegram.org cannot be reached from here.

// fastBackoff keeps retry tests quick without sleeping in the test.
var fastBackoff = Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, Factor: 2}

type fakeHost struct {
	mu      sync.Mutex
	status  map[string]any
	history []map[string]any
	inbound chan channels.Inbound
	logs    []string
}

func newHost() *fakeHost {
	return &fakeHost{status: map[string]any{}, inbound: make(chan channels.Inbound, 100)}
}

func (h *fakeHost) SetStatus(f map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cp := map[string]any{}
	for k, v := range f {
		h.status[k] = v
		cp[k] = v
	}
	h.history = append(h.history, cp)
}

func (h *fakeHost) Inbound(m channels.Inbound) { h.inbound <- m }

func (h *fakeHost) Logf(format string, args ...any) {
	h.mu.Lock()
	h.logs = append(h.logs, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *fakeHost) get(key string) (any, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.status[key]
	return v, ok
}

// waitStatus waits until key's value satisfies ok.
func (h *fakeHost) waitStatus(t *testing.T, key string, ok func(any) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if v, has := h.get(key); has && ok(v) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	v, _ := h.get(key)
	t.Fatalf("status %s = %v; the wanted value never came", key, v)
}

func (h *fakeHost) next(t *testing.T) channels.Inbound {
	t.Helper()
	select {
	case m := <-h.inbound:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no inbound message within 5 s")
		return channels.Inbound{}
	}
}

func rawJSON(t *testing.T, v map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newAccount builds the default account against srv with state in dir.
func newAccount(t *testing.T, srv *telegramtest.Server, dir string, extra map[string]any, opts ...Option) channels.Account {
	t.Helper()
	sec := map[string]any{"botToken": telegramtest.Token, "apiRoot": srv.APIRoot()}
	for k, v := range extra {
		sec[k] = v
	}
	raw := rawJSON(t, sec)
	opts = append([]Option{WithBackoff(fastBackoff, fastBackoff), WithPollTimeout(time.Second)}, opts...)
	acct, err := New(opts...).NewAccount(channels.AccountConfig{Channel: "telegram", AccountID: "default",
		Merged: raw, Section: raw, StateDir: dir, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

// run starts acct.Run and returns a stop function that waits for it.
func run(t *testing.T, acct channels.Account, host *fakeHost) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- acct.Run(ctx, host) }()
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(5 * time.Second):
				result = fmt.Errorf("Run did not return within 5 s of cancel")
			}
		})
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
