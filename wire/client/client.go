// Package client is the Go client of the Clawdbot gateway protocol, used by
// the CLI and doctor. It follows the original Node GatewayClient
// (doc/protocol.md §11): dial, wait up to 750 ms for connect.challenge, send connect
// signed with the profile's Ed25519 device identity (payload v2 with the
// nonce, v1 without), keep the device token from hello-ok and prefer it next
// time, drop a stored token whose connect failed, match responses to
// requests (skipping the "accepted" ack of two-stage calls when asked),
// deliver events with seq-gap detection, and watch ticks.
//
// Dial gives one connection; CallOnce is the CLI's one-shot call (the
// original's callGateway); Reconnecting keeps a connection up with backoff.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/device"
)

// DefaultURL is the gateway address of the default profile.
const DefaultURL = "ws://127.0.0.1:18789"

// maxInbound is the largest frame the client accepts, as the Node client
// (25 MiB); hello-ok and logs.tail results can be large.
const maxInbound = 25 << 20

// Options configure a connection.
type Options struct {
	// URL of the gateway (default DefaultURL).
	URL string
	// Token and Password are the shared gateway secret (auth.token /
	// auth.password). A stored device token is sent in place of Token,
	// unless ExplicitAuth is set.
	Token    string
	Password string
	// ExplicitAuth says Token/Password were given by the user for this
	// connection (the CLI's --token/--password): they are sent as given and
	// the gateway checks them, so a wrong one fails instead of being masked
	// by a stored device token. Ambient secrets (config, environment) leave
	// it false and defer to the device token, as the original does.
	ExplicitAuth bool
	// StateDir is the profile's state dir; the device identity lives in
	// <StateDir>/identity/device.json and the device token cache in
	// <StateDir>/identity/device-auth.json. Empty: no device block unless
	// Identity is set.
	StateDir string
	// Identity overrides the identity loaded from StateDir.
	Identity *device.Identity
	// NoDevice sends no device block (token-only connect).
	NoDevice bool
	// ClientID and Mode go in client.id / client.mode (default "cli"/"cli").
	ClientID string
	Mode     string
	// Role is "operator" (default) or "node".
	Role string
	// Scopes requested; empty lets the server default them.
	Scopes []string
	// InstanceID is client.instanceId (the presence key); empty: none.
	InstanceID  string
	DisplayName string
	// Version and Platform describe this client (defaults "dev" and the OS
	// as Node names it).
	Version  string
	Platform string
	// ChallengeWait is how long to wait for connect.challenge before
	// connecting without a nonce (default 750 ms).
	ChallengeWait time.Duration
	// HandshakeTimeout bounds dial + connect when ctx has no earlier
	// deadline (default 10 s).
	HandshakeTimeout time.Duration
	// OnEvent receives every event after the handshake, in order, on the
	// connection's reader goroutine: keep it fast.
	OnEvent func(Event)
	// OnGap is called when an event's seq skips ahead of the last one.
	OnGap func(expected, received int64)
}

// Event is an event frame as received.
type Event struct {
	Event        string
	Payload      json.RawMessage
	Seq          *int64
	StateVersion *wire.StateVersion
}

// CloseError is a connection the gateway (or the network) closed.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = closeHint(e.Code)
	}
	return fmt.Sprintf("gateway closed (%d): %s", e.Code, reason)
}

func closeHint(code int) string {
	switch code {
	case wire.CloseNormal:
		return "normal closure"
	case 1006:
		return "abnormal closure (no close frame)"
	case wire.ClosePolicyViolation:
		return "policy violation"
	case wire.CloseServiceRestart:
		return "service restart"
	case wire.CloseTickTimeout:
		return "tick timeout"
	}
	return "no reason"
}

// UnreachableError is a gateway that could not be dialled.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("gateway not reachable at %s: %s", e.URL, describeDialError(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ConnectError is a connect the gateway rejected: its error response, and
// the close that followed when it arrived in time.
type ConnectError struct {
	Shape *wire.ErrorShape
	Close *CloseError
}

func (e *ConnectError) Error() string {
	if e.Close != nil {
		return e.Close.Error()
	}
	if e.Shape != nil {
		return "gateway connect failed: " + e.Shape.Message
	}
	return "gateway connect failed"
}

// Unwrap exposes the error shape (errors.As with *wire.ErrorShape) and the
// close (errors.As with *CloseError).
func (e *ConnectError) Unwrap() []error {
	var out []error
	if e.Shape != nil {
		out = append(out, e.Shape)
	}
	if e.Close != nil {
		out = append(out, e.Close)
	}
	return out
}

// TimeoutError is a call or handshake that ran past its deadline.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("gateway timeout after %dms", e.After.Milliseconds())
}

// ErrClosed is returned by calls on a connection closed with Close.
var ErrClosed = errors.New("gateway connection closed")

// Conn is one authenticated connection.
type Conn struct {
	ws    *websocket.Conn
	opts  Options
	hello wire.HelloOk

	mu       sync.Mutex
	pending  map[string]*pendingCall
	closed   chan struct{}
	closeErr error
	lastSeq  int64
	lastTick time.Time

	handshake chan string // connect.challenge nonce, until the handshake ends
	hsDone    bool
}

type pendingCall struct {
	ch          chan inFrame
	expectFinal bool
}

// inFrame is any inbound frame, decoded loosely: we route on type.
type inFrame struct {
	Type         string             `json:"type"`
	ID           string             `json:"id"`
	OK           bool               `json:"ok"`
	Payload      json.RawMessage    `json:"payload"`
	Error        *wire.ErrorShape   `json:"error"`
	Event        string             `json:"event"`
	Seq          *int64             `json:"seq"`
	StateVersion *wire.StateVersion `json:"stateVersion"`
}

func (o *Options) defaults() {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.ClientID == "" {
		o.ClientID = "cli"
	}
	if o.Mode == "" {
		o.Mode = "cli"
	}
	if o.Role == "" {
		o.Role = wire.RoleOperator
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Platform == "" {
		o.Platform = nodePlatform()
	}
	if o.ChallengeWait <= 0 {
		o.ChallengeWait = wire.ChallengeWaitMs * time.Millisecond
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = wire.HandshakeTimeoutMs * time.Millisecond
	}
}

// nodePlatform names the OS as Node's process.platform does, because that
// is what the original puts in client.platform and presence.
func nodePlatform() string {
	if runtime.GOOS == "windows" {
		return "win32"
	}
	return runtime.GOOS
}

// identityPaths are the device identity and token cache of a state dir.
func identityPaths(stateDir string) (idPath, authPath string) {
	d := filepath.Join(stateDir, "identity")
	return filepath.Join(d, "device.json"), filepath.Join(d, "device-auth.json")
}

// Dial connects and completes the handshake. The returned Conn is ready
// for calls; close it with Close.
func Dial(ctx context.Context, opts Options) (*Conn, error) {
	opts.defaults()
	if u, err := url.Parse(opts.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("invalid gateway URL %q (use ws://host:port or wss://host:port)", opts.URL)
	}
	id := opts.Identity
	var store *device.AuthStore
	if !opts.NoDevice && opts.StateDir != "" {
		idPath, authPath := identityPaths(opts.StateDir)
		if id == nil {
			var err error
			if id, err = device.LoadOrCreate(idPath); err != nil {
				return nil, err
			}
		}
		store = device.NewAuthStore(authPath)
	}
	if opts.NoDevice {
		id = nil
	}

	hsCtx, cancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(hsCtx, opts.URL, nil)
	if err != nil {
		if hsCtx.Err() != nil && ctx.Err() == nil {
			return nil, &TimeoutError{After: opts.HandshakeTimeout}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{URL: opts.URL, Err: err}
	}
	ws.SetReadLimit(maxInbound)
	c := &Conn{
		ws: ws, opts: opts,
		pending:   map[string]*pendingCall{},
		closed:    make(chan struct{}),
		handshake: make(chan string, 1),
		lastTick:  time.Now(),
	}
	go c.readLoop()

	hello, err := c.connect(hsCtx, id, store)
	if err != nil {
		if hsCtx.Err() != nil && ctx.Err() == nil {
			err = &TimeoutError{After: opts.HandshakeTimeout}
		}
		c.shutdown(websocket.StatusPolicyViolation, "connect failed")
		return nil, err
	}
	c.hello = *hello
	go c.tickWatch()
	return c, nil
}

// connect waits for the challenge, sends the signed connect and decodes
// hello-ok, managing the stored device token (doc/protocol.md §1.5).
func (c *Conn) connect(ctx context.Context, id *device.Identity, store *device.AuthStore) (*wire.HelloOk, error) {
	var nonce string
	t := time.NewTimer(c.opts.ChallengeWait)
	select {
	case nonce = <-c.handshake:
	case <-t.C: // an older or foreign gateway: connect without a nonce (v1)
	case <-c.closed:
		t.Stop()
		return nil, c.err()
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	}
	t.Stop()

	o := c.opts
	token := o.Token
	usedStored := false
	var stored *device.AuthEntry
	if id != nil && store != nil {
		if e, err := store.Load(id.DeviceID(), o.Role); err == nil && e != nil {
			stored = e
		}
	}
	if stored != nil && !o.ExplicitAuth {
		token, usedStored = stored.Token, true
	}
	p := wire.ConnectParams{
		MinProtocol: wire.ProtocolVersion,
		MaxProtocol: wire.ProtocolVersion,
		Client: wire.ClientInfo{
			ID: o.ClientID, DisplayName: o.DisplayName, Version: o.Version, Platform: o.Platform,
			Mode: o.Mode, InstanceID: o.InstanceID,
		},
		Role:   o.Role,
		Scopes: o.Scopes,
	}
	if token != "" || o.Password != "" {
		p.Auth = &wire.ConnectAuth{Token: token, Password: o.Password}
	}
	if id != nil {
		signedAt := time.Now().UnixMilli()
		payload := device.BuildPayload(device.PayloadFields{
			DeviceID: id.DeviceID(), ClientID: o.ClientID, ClientMode: o.Mode, Role: o.Role,
			Scopes: o.Scopes, SignedAtMs: signedAt, Token: token, Nonce: nonce,
		})
		p.Device = &wire.DeviceAuth{
			ID: id.DeviceID(), PublicKey: id.PublicKeyBase64URL(), Signature: id.Sign(payload),
			SignedAt: signedAt, Nonce: nonce,
		}
	}

	var hello wire.HelloOk
	err := c.call(ctx, "connect", p, &hello, false)
	if err != nil {
		if usedStored {
			// The stored token is stale (revoked, or another gateway):
			// forget it so the next call uses the shared token.
			_ = store.Delete(id.DeviceID(), o.Role)
		}
		var shape *wire.ErrorShape
		if errors.As(err, &shape) {
			ce := &ConnectError{Shape: shape}
			// The gateway closes right after a failed connect; wait briefly
			// for the close so the error names its code and reason.
			select {
			case <-c.closed:
				errors.As(c.err(), &ce.Close)
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			return nil, ce
		}
		return nil, err
	}
	// Rewriting an unchanged token would cost an fsync on every CLI call.
	if hello.Auth != nil && hello.Auth.DeviceToken != "" && id != nil && store != nil &&
		!(stored != nil && hello.Auth.DeviceToken == stored.Token) {
		role := hello.Auth.Role
		if role == "" {
			role = o.Role
		}
		_, _ = store.Store(id.DeviceID(), role, hello.Auth.DeviceToken, hello.Auth.Scopes)
	}
	return &hello, nil
}

// Hello is the hello-ok payload of this connection.
func (c *Conn) Hello() wire.HelloOk { return c.hello }

// Done is closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Err is why the connection ended (nil while it is open).
func (c *Conn) Err() error {
	select {
	case <-c.closed:
		return c.err()
	default:
		return nil
	}
}

func (c *Conn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Close closes the connection normally.
func (c *Conn) Close() error {
	c.shutdown(websocket.StatusNormalClosure, "")
	return nil
}

// shutdown closes the socket once with code and reason; calls in flight fail
// with ErrClosed unless the reader already recorded why the peer closed.
func (c *Conn) shutdown(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	first := c.closeErr == nil
	if first {
		c.closeErr = ErrClosed
	}
	c.mu.Unlock()
	if first {
		// A proper close handshake (the reader goroutine receives the
		// peer's close frame), so the gateway logs a normal closure.
		_ = c.ws.Close(code, reason)
	}
	<-c.closed
}

// CallOption modifies one call.
type CallOption func(*pendingCall)

// ExpectFinal makes a two-stage call skip the {status:"accepted"} ack and
// return the final response with the same id.
func ExpectFinal() CallOption { return func(p *pendingCall) { p.expectFinal = true } }

// Call sends method with params and decodes the response payload into
// result (nil: discard; *json.RawMessage: raw). A gateway error comes back as
// *wire.ErrorShape; a closed connection as *CloseError.
func (c *Conn) Call(ctx context.Context, method string, params, result any, opts ...CallOption) error {
	var p pendingCall
	for _, o := range opts {
		o(&p)
	}
	return c.call(ctx, method, params, result, p.expectFinal)
}

func (c *Conn) call(ctx context.Context, method string, params, result any, expectFinal bool) error {
	if params == nil {
		params = struct{}{}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode %s params: %w", method, err)
	}
	id := wire.NewID()
	frame, err := json.Marshal(wire.RequestFrame{Type: wire.FrameReq, ID: id, Method: method, Params: raw})
	if err != nil {
		return err
	}
	p := &pendingCall{ch: make(chan inFrame, 1), expectFinal: expectFinal}
	c.mu.Lock()
	if c.closeErr != nil {
		err := c.closeErr
		c.mu.Unlock()
		return err
	}
	c.pending[id] = p
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		if e := c.Err(); e != nil {
			return e
		}
		return fmt.Errorf("send %s: %w", method, err)
	}
	var f inFrame
	select {
	case f = <-p.ch:
	case <-c.closed:
		// The gateway answers a failed connect and closes right after; when
		// both are ready select picks at random, so the response that was
		// read first must win over the close.
		select {
		case f = <-p.ch:
		default:
			return c.err()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	if !f.OK {
		if f.Error == nil {
			return &wire.ErrorShape{Code: wire.ErrUnavailable, Message: "request failed without an error"}
		}
		return f.Error
	}
	switch r := result.(type) {
	case nil:
		return nil
	case *json.RawMessage:
		*r = append((*r)[:0], f.Payload...)
		return nil
	default:
		if len(f.Payload) == 0 {
			return nil
		}
		if err := json.Unmarshal(f.Payload, result); err != nil {
			return fmt.Errorf("decode %s result: %w", method, err)
		}
		return nil
	}
}

// readLoop routes every inbound frame until the socket ends.
func (c *Conn) readLoop() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.recordClose(err)
			return
		}
		var f inFrame
		if json.Unmarshal(data, &f) != nil {
			continue // a frame we cannot parse is dropped, as the Node client does
		}
		switch f.Type {
		case wire.FrameRes:
			c.mu.Lock()
			if !c.hsDone && f.OK && isHelloOk(f.Payload) {
				// Mark the handshake done here, not in Dial, so an event
				// the gateway sends right after hello-ok is not dropped.
				c.hsDone = true
			}
			p := c.pending[f.ID]
			if p != nil && p.expectFinal && f.OK && isAccepted(f.Payload) {
				p = nil // the ack of a two-stage call: keep waiting
			} else if p != nil {
				delete(c.pending, f.ID)
			}
			c.mu.Unlock()
			if p != nil {
				p.ch <- f
			}
		case wire.FrameEvent:
			c.onEvent(f)
		}
	}
}

func (c *Conn) onEvent(f inFrame) {
	c.mu.Lock()
	hs := c.hsDone
	if f.Event == "tick" {
		c.lastTick = time.Now()
	}
	var gapFrom int64
	if f.Seq != nil && hs {
		if c.lastSeq > 0 && *f.Seq > c.lastSeq+1 {
			gapFrom = c.lastSeq + 1
		}
		c.lastSeq = *f.Seq
	}
	c.mu.Unlock()
	if f.Event == "connect.challenge" {
		var ch wire.ConnectChallenge
		if json.Unmarshal(f.Payload, &ch) == nil && ch.Nonce != "" {
			select {
			case c.handshake <- ch.Nonce:
			default:
			}
		}
		return
	}
	if !hs {
		return // events before hello-ok (e.g. a broadcast) are not ours yet
	}
	if gapFrom > 0 && c.opts.OnGap != nil {
		c.opts.OnGap(gapFrom, *f.Seq)
	}
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(Event{Event: f.Event, Payload: f.Payload, Seq: f.Seq, StateVersion: f.StateVersion})
	}
}

func (c *Conn) recordClose(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return // we closed it ourselves
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		c.closeErr = &CloseError{Code: int(ce.Code), Reason: ce.Reason}
		return
	}
	c.closeErr = &CloseError{Code: 1006, Reason: ""}
}

// tickWatch closes the connection with 4000 "tick timeout" when no tick
// arrives for twice the advertised interval, as the Node client does.
func (c *Conn) tickWatch() {
	iv := time.Duration(c.hello.Policy.TickIntervalMs) * time.Millisecond
	if iv <= 0 {
		return
	}
	t := time.NewTicker(max(iv, time.Second))
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
			c.mu.Lock()
			stale := time.Since(c.lastTick) > 2*iv
			c.mu.Unlock()
			if stale {
				c.mu.Lock()
				if c.closeErr == nil {
					c.closeErr = &CloseError{Code: wire.CloseTickTimeout, Reason: "tick timeout"}
				}
				c.mu.Unlock()
				_ = c.ws.Close(wire.CloseTickTimeout, "tick timeout")
				return
			}
		}
	}
}

func isHelloOk(payload json.RawMessage) bool {
	var s struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(payload, &s) == nil && s.Type == "hello-ok"
}

func isAccepted(payload json.RawMessage) bool {
	var s struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(payload, &s) == nil && s.Status == "accepted"
}

// describeDialError turns a dial failure into a short cause.
func describeDialError(err error) string {
	s := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(s, "connection refused") || strings.Contains(s, "actively refused"):
		return "connection refused"
	case strings.Contains(s, "no such host"):
		return "host not found"
	case strings.Contains(s, "i/o timeout"):
		return "connect timed out"
	}
	return s
}
