// Package gateway is the Clawdbot gateway server: one TCP port serving plain
// HTTP and WebSocket upgrades on any path, the protocol-3 handshake (challenge,
// connect, auth, device identity and pairing), the method registry with
// scopes, presence, the broadcaster (one process-wide seq, slow-consumer
// cut-off) and the tick/health timers.
//
// # Seams for the lifecycle work (issue #4)
//
// The Server owns its net.Listener for its whole life. Everything derived
// from the config lives in a runtime (auth, method registry, tick interval,
// presence self entry, canvas URL...) built by newRuntime and held in an
// atomic pointer:
//
//   - Server.Restart(ctx, rc) builds a new runtime from rc, swaps it in (new
//     connections use it at once; a connection that arrives mid-swap blocks
//     on swapMu for the few microseconds of the swap and is never refused),
//     then broadcasts shutdown {reason:"gateway restarting",
//     restartExpectedMs:1500} to the connections of the old runtime and
//     closes them with 1012 "service restart" in the background, so a
//     client that stopped reading cannot delay the restart. A runtime that
//     fails to build leaves the old one serving and returns the error (roll
//     back for free).
//   - Server.Shutdown(ctx) closes the listener, broadcasts shutdown
//     {reason:"gateway stopping", restartExpectedMs:null}, closes every
//     connection with 1012 and waits for in-flight requests, all bounded
//     by ctx (5 s by default).
//   - Closing a connection is bounded (connCloseTimeout, or the caller's
//     ctx when that ends first): a peer that does not complete the close
//     handshake in time has its TCP socket closed.
//   - Options.ScheduleRestart is how config.apply/config.patch ask for a
//     restart; the lifecycle helper supplies it (SIGUSR1-style authorization,
//     sentinel). Without it those methods write the config and report
//     restart {ok:false, mode:"none"}.
//   - Options.CanvasHost / RuntimeConfig.CanvasHostMounted: the canvas host
//     helper mounts its handler on the same mux and sets the flag so
//     hello-ok carries canvasHostUrl.
//   - Options.Listener lets --force takeover (gateway/ports) hand over an
//     already bound listener.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Auth modes after resolution (protocol spec §10.1), as profiles resolves
// them.
const (
	AuthNone     = profiles.AuthNone
	AuthToken    = profiles.AuthToken
	AuthPassword = profiles.AuthPassword
)

// Auth is the resolved gateway auth: the mode and its secret.
type Auth struct {
	Mode     string // none | token | password
	Token    string
	Password string
}

// RuntimeConfig is everything derived from the config file: Restart swaps a
// runtime built from a new RuntimeConfig without touching the listener.
type RuntimeConfig struct {
	// Config is the loaded config (nil when running unconfigured).
	Config *profiles.Config
	// Auth is the resolved auth (flags > config > env).
	Auth Auth
	// TickInterval is the tick cadence (default 30 s); tests shorten it.
	TickInterval time.Duration
	// TrustedProxies are exact peer IPs whose X-Forwarded-For / X-Real-IP
	// are believed (spec §10.5).
	TrustedProxies []string
	// CanvasHostMounted makes hello-ok carry canvasHostUrl.
	CanvasHostMounted bool
	// AllowInsecureControlUI is gateway.controlUi.allowInsecureAuth.
	AllowInsecureControlUI bool
}

// Options are the process-level settings of a Server: they do not change on
// restart.
type Options struct {
	// Addr is the listen address (host:port); ignored when Listener is set.
	Addr string
	// Listener, when set, is used instead of listening on Addr.
	Listener net.Listener
	// StateDir is the profile's state directory (devices/, nodes/, logs/).
	StateDir string
	// ConfigPath is the profile's clawdbot.json.
	ConfigPath string
	// Version and Commit are reported in hello-ok.server.
	Version string
	Commit  string
	// Logger receives structured logs (nil: discard). The server tags its
	// lines with the original's subsystems (filelog.Subsystem): "gateway"
	// for startup and lifecycle, "gateway/ws" for connections and the
	// handshake, "gateway/methods", "gateway/reload", "gateway/canvas",
	// "gateway/http", so `clawdbot logs` shows where a line comes from.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now); presence expiry tests inject one.
	Now func() time.Time
	// HandshakeTimeout bounds open → successful connect (default 10 s).
	HandshakeTimeout time.Duration
	// IsLocal overrides the "is this client local" decision (tests use it to
	// simulate a remote client on loopback). nil: loopback peer after
	// trusted-proxy resolution.
	IsLocal func(r *http.Request) bool
	// ScheduleRestart is the lifecycle hook used by config.apply/patch; what
	// it reports becomes the restart field of their result.
	ScheduleRestart func(reason string, delay time.Duration) wire.RestartInfo
	// CanvasHost, when non-nil, is mounted for plain HTTP requests under
	// /__clawdbot__/ (the canvas helper owns it).
	CanvasHost http.Handler
	// LogFile returns the log file logs.tail reads (nil: today's file under
	// <state>/logs).
	LogFile func() string
	// Runtime is the initial config-derived runtime.
	Runtime RuntimeConfig
}

// Server is a running gateway. Create it with New, then call Serve.
type Server struct {
	opts    Options
	log     *slog.Logger // subsystem "gateway"
	wsLog   *slog.Logger // subsystem "gateway/ws": connections, handshake, frames
	callLog *slog.Logger // subsystem "gateway/methods": method handlers
	now     func() time.Time
	started time.Time
	ln      net.Listener
	http    *http.Server
	host    string

	rt     atomic.Pointer[runtime]
	swapMu sync.RWMutex // held for writing during a runtime swap

	// Broadcast state: one seq for the process (spec §4.1).
	bmu   sync.Mutex
	seq   int64
	conns map[*conn]struct{}

	presence *presence.Store
	health   healthState
	// configErr is the config the lifecycle last refused to apply (nil
	// while the file is valid); health and status report it.
	configErr atomic.Pointer[wire.ConfigError]
	devices   *deviceStore
	nodes     *nodePairStore
	live      liveNodes
	failures  *failLimiter
	sysEvents systemEvents

	inflight  sync.WaitGroup
	closing   atomic.Bool
	done      chan struct{}
	tickStop  chan struct{}
	closeOnce sync.Once
}

// New builds a server and binds its listener (unless Options.Listener is
// given). It fails on an invalid auth setup or a bind error.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = wire.HandshakeTimeoutMs * time.Millisecond
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	host, _ := os.Hostname()
	s := &Server{
		opts:     opts,
		log:      filelog.Subsystem(opts.Logger, "gateway"),
		wsLog:    filelog.Subsystem(opts.Logger, "gateway/ws"),
		callLog:  filelog.Subsystem(opts.Logger, "gateway/methods"),
		now:      opts.Now,
		started:  opts.Now(),
		host:     host,
		conns:    make(map[*conn]struct{}),
		done:     make(chan struct{}),
		tickStop: make(chan struct{}),
		failures: newFailLimiter(opts.Now),
	}
	s.presence = presence.New(selfPresence(host, opts.Version), opts.Now)
	s.health.version = 1
	s.devices = newDeviceStore(opts.StateDir, opts.Now)
	s.nodes = newNodePairStore(opts.StateDir, opts.Now)
	s.live.init()
	rt, err := s.newRuntime(opts.Runtime)
	if err != nil {
		return nil, err
	}
	s.rt.Store(rt)
	ln := opts.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", opts.Addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
		}
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(filelog.Subsystem(opts.Logger, "gateway/http").Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Addr is the bound listen address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve() error {
	go s.tickLoop()
	err := s.http.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-s.done
		return nil
	}
	return err
}

// Shutdown stops the gateway: close the listener, shutdown event, close
// 1012 to every client, wait for in-flight requests. It returns by the
// time ctx ends even when a client never completes its close handshake.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		<-s.done
		return nil
	}
	defer s.closeOnce.Do(func() { close(s.done) })
	close(s.tickStop)
	// Stop accepting first so no client slips in after the shutdown event.
	herr := s.http.Shutdown(ctx)
	s.closeConns(ctx, s.notifyConns(nil, wire.ShutdownEvent{Reason: "gateway stopping"}))
	waited := make(chan struct{})
	go func() { s.inflight.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		// The closes may have used up ctx; requests that ended meanwhile
		// are not "still running".
		select {
		case <-waited:
		case <-time.After(10 * time.Millisecond):
			return fmt.Errorf("gateway shutdown: in-flight requests still running: %w", ctx.Err())
		}
	}
	if herr != nil && !errors.Is(herr, context.DeadlineExceeded) {
		return herr
	}
	return nil
}

// Restart builds a runtime from rc and swaps it in while the listener stays
// open; the connections of the old runtime get the shutdown event and a 1012
// close so they reconnect to the new one. On a build error nothing changes.
//
// Restart returns as soon as the new runtime serves: the shutdown event is
// queued before it returns, the close handshakes finish in the background
// (each bounded by connCloseTimeout). ctx is not used to bound them, since
// a caller's ctx usually ends as soon as Restart returns.
func (s *Server) Restart(ctx context.Context, rc RuntimeConfig) error {
	nrt, err := s.newRuntime(rc)
	if err != nil {
		return fmt.Errorf("gateway restart: %w (still serving the previous config)", err)
	}
	s.swapMu.Lock()
	old := s.rt.Swap(nrt)
	s.swapMu.Unlock()
	ms := int64(1500)
	victims := s.notifyConns(old, wire.ShutdownEvent{Reason: "gateway restarting", RestartExpectedMs: &ms})
	go s.closeConns(context.WithoutCancel(ctx), victims)
	s.log.Info("gateway runtime restarted", "auth", nrt.auth.Mode)
	return nil
}

// notifyConns queues the shutdown event for every connection of rt (every
// connection when rt is nil) and returns those connections. Queuing never
// blocks.
func (s *Server) notifyConns(rt *runtime, ev wire.ShutdownEvent) []*conn {
	of := func(c *conn) bool { return rt == nil || c.rt == rt }
	s.broadcast("shutdown", ev, of, false)
	s.bmu.Lock()
	defer s.bmu.Unlock()
	var victims []*conn
	for c := range s.conns {
		if of(c) {
			victims = append(victims, c)
		}
	}
	return victims
}

// closeConns closes victims with 1012 in parallel and returns when every
// close handshake has ended, ctx has ended or connCloseTimeout has passed,
// whichever comes first: the sockets of peers that did not answer in time
// are closed without a handshake.
func (s *Server) closeConns(ctx context.Context, victims []*conn) {
	var wg sync.WaitGroup
	for _, c := range victims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.closeWithin(ctx, wire.CloseServiceRestart, "service restart")
		}()
	}
	wg.Wait()
}

// runtime is the config-derived part of the server.
type runtime struct {
	auth           Auth
	cfg            *profiles.Config
	tick           time.Duration
	trusted        map[string]bool
	canvas         bool
	insecureUI     bool
	methods        map[string]*method
	methodNames    []string
	eventNames     []string
	nodeAllow      []string
	nodeDeny       []string
	policy         wire.Policy
	controlUIHints bool
}

func (s *Server) newRuntime(rc RuntimeConfig) (*runtime, error) {
	a := rc.Auth
	if a.Mode == "" {
		a.Mode = profiles.InferAuthMode(a.Password, a.Token)
	}
	switch a.Mode {
	case AuthToken:
		if a.Token == "" {
			return nil, errors.New("gateway auth mode is token but no token is set (set gateway.auth.token or CLAWDBOT_GATEWAY_TOKEN, or pass --token)")
		}
	case AuthPassword:
		if a.Password == "" {
			return nil, errors.New("gateway auth mode is password but no password is set (set gateway.auth.password or CLAWDBOT_GATEWAY_PASSWORD, or pass --password)")
		}
	case AuthNone:
	default:
		return nil, fmt.Errorf("unknown gateway auth mode %q (use token or password)", a.Mode)
	}
	tick := rc.TickInterval
	if tick <= 0 {
		tick = wire.DefaultTickIntervalMs * time.Millisecond
	}
	rt := &runtime{
		auth:       a,
		cfg:        rc.Config,
		tick:       tick,
		trusted:    map[string]bool{},
		canvas:     rc.CanvasHostMounted,
		insecureUI: rc.AllowInsecureControlUI,
		policy: wire.Policy{
			MaxPayload:       wire.MaxPayloadBytes,
			MaxBufferedBytes: wire.MaxBufferedBytes,
			TickIntervalMs:   int(tick / time.Millisecond),
		},
	}
	for _, p := range rc.TrustedProxies {
		rt.trusted[strings.TrimSpace(p)] = true
	}
	if rc.Config != nil {
		rt.nodeAllow = rc.Config.Gateway.Nodes.AllowCommands
		rt.nodeDeny = rc.Config.Gateway.Nodes.DenyCommands
		if rc.Config.Gateway.ControlUI.AllowInsecureAuth {
			rt.insecureUI = true
		}
	}
	s.registerMethods(rt)
	return rt, nil
}

// runtimeForNewConn returns the runtime a new connection binds to; it waits
// while a swap is in progress instead of refusing the client.
func (s *Server) runtimeForNewConn() *runtime {
	s.swapMu.RLock()
	defer s.swapMu.RUnlock()
	return s.rt.Load()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// The canvas live-reload socket is the one upgrade path that is not the
	// gateway protocol (spec §1.1).
	if isUpgrade(r) && (s.opts.CanvasHost == nil || r.URL.Path != "/__clawdbot/ws") {
		s.serveWS(w, r)
		return
	}
	if s.opts.CanvasHost != nil && strings.HasPrefix(r.URL.Path, "/__clawdbot") {
		s.opts.CanvasHost.ServeHTTP(w, r)
		return
	}
	// No control UI, hooks or OpenAI endpoints yet (later issues); the
	// original answers unmatched requests the same way.
	http.Error(w, "Not Found", http.StatusNotFound)
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (s *Server) tickLoop() {
	t := time.NewTimer(s.rt.Load().tick)
	defer t.Stop()
	for {
		select {
		case <-s.tickStop:
			return
		case <-t.C:
			s.broadcast("tick", wire.TickEvent{TS: s.now().UnixMilli()}, nil, true)
			// Re-read the interval each time: a restart may change it.
			t.Reset(s.rt.Load().tick)
		}
	}
}

func (s *Server) uptimeMs() int64 { return s.now().Sub(s.started).Milliseconds() }
