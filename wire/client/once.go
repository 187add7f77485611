package client

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// DefaultCallTimeout is the overall budget of a one-shot call (the
// original's callGateway default).
const DefaultCallTimeout = 10 * time.Second

// CLIScopes are the scopes the CLI's one-shot calls request.
var CLIScopes = []string{wire.ScopeAdmin, wire.ScopeApprovals, wire.ScopePairing}

// CallOnce opens a connection, makes one call and closes it, as the CLI
// does for every command (the original's callGateway): client "cli", mode
// "cli", a random instanceId, the admin+approvals+pairing scopes unless
// opts.Scopes says otherwise, and an overall timeout (timeout ≤ 0:
// DefaultCallTimeout) covering dial, handshake and the call. Running past
// it gives a *TimeoutError ("gateway timeout after 10000ms").
func CallOnce(ctx context.Context, opts Options, timeout time.Duration, method string, params any, callOpts ...CallOption) (json.RawMessage, error) {
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	if opts.ClientID == "" {
		opts.ClientID = "cli"
	}
	if opts.Mode == "" {
		opts.Mode = "cli"
	}
	if opts.InstanceID == "" {
		opts.InstanceID = wire.NewID()
	}
	if opts.Scopes == nil {
		opts.Scopes = CLIScopes
	}
	if opts.HandshakeTimeout <= 0 || opts.HandshakeTimeout > timeout {
		opts.HandshakeTimeout = timeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	timedOut := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return &TimeoutError{After: timeout}
		}
		var te *TimeoutError
		if errors.As(err, &te) {
			return &TimeoutError{After: timeout}
		}
		return err
	}
	c, err := Dial(cctx, opts)
	if err != nil {
		return nil, timedOut(err)
	}
	defer c.Close()
	var out json.RawMessage
	if err := c.Call(cctx, method, params, &out, callOpts...); err != nil {
		return nil, timedOut(err)
	}
	return out, nil
}

// Backoff is the reconnect delay of the Node client: 1 s, doubling to 30 s,
// back to 1 s after a successful hello-ok.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the delay before the next attempt and doubles it.
func (b *Backoff) Next() time.Duration {
	if b.Min <= 0 {
		b.Min = time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.cur < b.Min {
		b.cur = b.Min
	}
	d := b.cur
	b.cur = min(b.cur*2, b.Max)
	return d
}

// Reset starts the sequence over (called on hello-ok).
func (b *Backoff) Reset() { b.cur = 0 }

// Reconnecting keeps one connection to the gateway up: it redials with
// Backoff whenever the connection ends, until Run's context is cancelled.
type Reconnecting struct {
	Opts Options
	// Backoff tunes the delays (zero value: 1 s doubling to 30 s).
	Backoff Backoff
	// OnConnect runs after each successful handshake.
	OnConnect func(*Conn)
	// OnError receives each failed dial or lost connection.
	OnError func(error)

	mu   sync.Mutex
	conn *Conn
	up   chan struct{} // closed while a connection is up
}

// ErrNotConnected is returned by Reconnecting.Call between connections.
var ErrNotConnected = errors.New("gateway not connected")

// Run connects and reconnects until ctx is cancelled; it returns ctx.Err().
func (r *Reconnecting) Run(ctx context.Context) error {
	for {
		c, err := Dial(ctx, r.Opts)
		if err == nil {
			r.Backoff.Reset()
			r.mu.Lock()
			r.conn = c
			if r.up != nil {
				close(r.up)
			}
			r.mu.Unlock()
			if r.OnConnect != nil {
				r.OnConnect(c)
			}
			select {
			case <-c.Done():
				err = c.Err()
			case <-ctx.Done():
				c.Close()
			}
			r.mu.Lock()
			r.conn = nil
			r.up = nil
			r.mu.Unlock()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && r.OnError != nil {
			r.OnError(err)
		}
		t := time.NewTimer(r.Backoff.Next())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// Conn returns the current connection, or nil between connections.
func (r *Reconnecting) Conn() *Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conn
}

// WaitConnected blocks until a connection is up or ctx ends.
func (r *Reconnecting) WaitConnected(ctx context.Context) (*Conn, error) {
	for {
		r.mu.Lock()
		if r.conn != nil {
			c := r.conn
			r.mu.Unlock()
			return c, nil
		}
		if r.up == nil {
			r.up = make(chan struct{})
		}
		up := r.up
		r.mu.Unlock()
		select {
		case <-up:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Call makes a call on the current connection; ErrNotConnected between
// connections (the caller decides whether to wait and retry).
func (r *Reconnecting) Call(ctx context.Context, method string, params, result any, opts ...CallOption) error {
	c := r.Conn()
	if c == nil {
		return ErrNotConnected
	}
	return c.Call(ctx, method, params, result, opts...)
}
