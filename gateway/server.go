// Package gateway is the core of the Clawdbot gateway: one TCP port
// serving plain HTTP and WebSocket upgrades on any path, the protocol-3
// handshake (challenge, connect, auth, device identity and pairing), the
// dispatch of request frames through the runtime's rpc.Registry, the
// broadcaster (one process-wide seq, slow-consumer cut-off), the tick
// timer, and the lifecycle (signals, in-process restart, config reload).
//
// The methods themselves live in feature packages (gateway/system,
// gateway/configrpc, gateway/devices, gateway/nodes) that import
// gateway/rpc and never this package; features.go wires them in. See
// doc/architecture.md for the package map and the flows.
//
// # Runtime and restart
//
// The Server owns its net.Listener for its whole life. Everything derived
// from the config lives in a runtime (auth, method registry, tick interval,
// node policy, mounted parts such as the canvas host) built by newRuntime
// and held in an atomic pointer:
//
//   - Server.Restart(ctx, rc) builds a new runtime from rc, swaps it in (new
//     connections use it at once; a connection that arrives mid-swap blocks
//     on swapMu for the few microseconds of the swap and is never refused),
//     stops the parts of the old runtime the new one does not keep, then
//     broadcasts shutdown {reason:"gateway restarting",
//     restartExpectedMs:1500} to the connections of the old runtime and
//     closes them with 1012 "service restart" in the background. A runtime
//     that fails to build leaves the old one serving, whole, and stops the
//     parts built for the new one (roll back).
//   - Server.Shutdown(ctx) closes the listener, broadcasts shutdown
//     {reason:"gateway stopping", restartExpectedMs:null}, closes every
//     WebSocket with 1012, then lets plain HTTP requests finish with what
//     is left of ctx (force-closing the rest) and waits for in-flight
//     requests, all bounded by ctx (5 s by default). WebSockets go first
//     so a stuck HTTP request cannot delay the shutdown event.
//   - Options.Limits bound the connections (listener_caps.go): keep-alive
//     idle 5 s, plain HTTP read 30 s, pre-handshake connections 64 per
//     address and 1024 in total. Inbound frames are checked beyond the
//     schema (framecheck.go: UTF-8, nesting depth) and connect fields are
//     size-limited (limits.go).
//   - Closing a connection is bounded (connCloseTimeout, or the caller's
//     ctx when that ends first): a peer that does not complete the close
//     handshake in time has its TCP socket closed.
//   - Options.ScheduleRestart is how config.apply/config.patch ask for a
//     restart; the lifecycle supplies it (SIGUSR1-style authorization,
//     sentinel). Without it those methods write the config and report
//     restart {ok:false, mode:"none"}.
//   - RuntimeConfig.Canvas: the canvas host, a Mount of the runtime served
//     under /__clawdbot*; while set, hello-ok carries canvasHostUrl.
//   - Options.Listener (and Options.Listeners) hand over already bound
//     listeners instead of Addr. An Addr is bound as the original binds it
//     (listen.go): an IPv4 host on IPv4 only, a loopback host on 127.0.0.1
//     and ::1. Every listener is served by the one HTTP server; Addr
//     reports the first.
//   - New and Restart refuse auth none on any listener that is not
//     loopback (servable.go, profiles.CheckStartable on the real host).
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/internal/faillimit"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Auth modes after resolution (doc/protocol.md §10.1), as profiles resolves
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
	// TrustedProxies are the peer IPs (or CIDR prefixes) whose
	// X-Forwarded-For / X-Real-IP are believed (doc/protocol.md §10.5, clientaddr.go).
	TrustedProxies []string
	// Canvas, when set, is the canvas host mounted under /__clawdbot*
	// for this runtime, and hello-ok carries canvasHostUrl. The runtime
	// owns it from Restart on (see Mount).
	Canvas Mount
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
	// Listeners, when set, are used instead of listening on Addr (after
	// Listener, when both are set): every one is served by the same HTTP
	// server; the first is the primary (Addr). A loopback Addr binds two
	// (127.0.0.1 and ::1, listen.go).
	Listeners []net.Listener
	// StateDir is the profile's state directory (devices/, nodes/, logs/).
	StateDir string
	// ConfigPath is the profile's clawdbot.json.
	ConfigPath string
	// Workspace is the profile's default agent workspace (~/clawd); the
	// config's agents.defaults.workspace and agents.list[].workspace
	// override it.
	Workspace string
	// Models picks the models of agent turns; nil: the providers the
	// config names. Tests hand in a fake upstream's resolver here.
	Models llm.Resolver
	// ChatDeltaInterval throttles chat delta events per run (0: the
	// original's 150 ms; negative: every delta).
	ChatDeltaInterval time.Duration
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
	// LogFile returns the log file logs.tail reads (nil: today's file under
	// <state>/logs).
	LogFile func() string
	// Limits bound HTTP connections: keep-alive idle and read timeouts,
	// the pre-handshake connection caps (listener_caps.go).
	Limits Limits
	// Runtime is the initial config-derived runtime.
	Runtime RuntimeConfig
}

// Server is a running gateway. Create it with New, then call Serve (or
// Run). It holds the transport and the core state; the state of the
// hosted features is in f.
type Server struct {
	opts    Options
	log     *slog.Logger // subsystem "gateway"
	wsLog   *slog.Logger // subsystem "gateway/ws": connections, handshake, frames
	callLog *slog.Logger // subsystem "gateway/methods": method handlers
	now     func() time.Time
	started time.Time
	ln      net.Listener   // the primary listener: Addr
	lns     []net.Listener // every listener served, ln first
	http    *http.Server
	host    string
	// canvasPaths: the lifecycle routes /__clawdbot* to the runtime's
	// canvas host (a 404 while it has none). Set by Run before serving.
	canvasPaths bool

	rt     atomic.Pointer[runtime]
	swapMu sync.RWMutex // held for writing during a runtime swap

	// Broadcast state: one seq for the process (doc/protocol.md §4.1).
	bmu   sync.Mutex
	seq   int64
	conns map[*conn]struct{}

	failures *faillimit.Limiter
	authLog  *authLog // failed logins, rate-limited (authlog.go)
	preAuth  *preAuth // pre-handshake connection caps (listener_caps.go)
	f        features

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
		failures: faillimit.New(opts.Now),
	}
	s.authLog = newAuthLog(s.wsLog, opts.Now)
	s.f = newFeatures(s)
	rt, err := s.newRuntime(opts.Runtime)
	if err != nil {
		return nil, err
	}
	s.rt.Store(rt)
	lns := slices.Clone(opts.Listeners)
	if opts.Listener != nil {
		lns = append([]net.Listener{opts.Listener}, lns...)
	}
	if len(lns) == 0 {
		lns, err = listenAll(opts.Addr, s.log)
		if err != nil {
			return nil, err
		}
	}
	if err := s.checkServable(rt.auth, rt.cfg, lns); err != nil {
		closeAll(lns)
		return nil, err
	}
	lim := opts.Limits.withDefaults()
	s.preAuth = newPreAuth(lim, filelog.Subsystem(opts.Logger, "gateway/http"))
	// One counter for every listener (127.0.0.1 and ::1 share the caps).
	for i := range lns {
		lns[i] = s.preAuth.wrap(lns[i])
	}
	s.ln, s.lns = lns[0], lns
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: min(10*time.Second, lim.ReadTimeout),
		ReadTimeout:       lim.ReadTimeout,
		IdleTimeout:       lim.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(filelog.Subsystem(opts.Logger, "gateway/http").Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Addr is the bound listen address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve() error {
	go s.tickLoop()
	s.serveSecondary()
	err := s.http.Serve(s.ln)
	// Shutdown closes the listener before it shuts the HTTP server down,
	// so a stop may end Serve with the listener's error instead.
	if errors.Is(err, http.ErrServerClosed) || s.closing.Load() {
		<-s.done
		return nil
	}
	return err
}

// Shutdown stops the gateway: close the listener, shutdown event, close
// 1012 to every client, then the plain HTTP connections with what is left
// of ctx (forced closed when it ends), then wait for in-flight requests.
// It returns by the time ctx ends even when a client never completes its
// close handshake or an HTTP request never completes.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		<-s.done
		return nil
	}
	defer s.closeOnce.Do(func() { close(s.done) })
	s.stopCron()
	close(s.tickStop)
	// Stop accepting first so no client slips in after the shutdown event
	// (the listener's Close is idempotent: http.Server closes it again).
	_ = s.ln.Close()
	// WebSockets first: a half-sent HTTP request or a slow download must
	// not hold the shutdown event back or use up the budget of the closes.
	s.closeConns(ctx, s.notifyConns(nil, wire.ShutdownEvent{Reason: "gateway stopping"}))
	herr := s.shutdownHTTP(ctx)
	s.rt.Load().stopMounts(nil)
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

// shutdownHTTP lets plain HTTP requests finish until shortly before ctx
// ends, keeping a little of the budget for the steps after it, then
// closes what is left.
func (s *Server) shutdownHTTP(ctx context.Context) error {
	hctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		hctx, cancel = context.WithDeadline(ctx, dl.Add(-httpShutdownReserve))
		defer cancel()
	}
	err := s.http.Shutdown(hctx)
	if err != nil {
		_ = s.http.Close()
	}
	return err
}

// httpShutdownReserve is the part of Shutdown's budget kept back from
// waiting on plain HTTP: the mounts stop and in-flight requests are
// waited for after it.
const httpShutdownReserve = 250 * time.Millisecond

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// The canvas live-reload socket is the one upgrade path that is not the
	// gateway protocol (doc/protocol.md §1.1).
	if isUpgrade(r) && (!s.canvasPaths || r.URL.Path != "/__clawdbot/ws") {
		s.serveWS(w, r)
		return
	}
	if s.canvasPaths && strings.HasPrefix(r.URL.Path, "/__clawdbot") {
		if h := s.rt.Load().canvas; h != nil {
			h.ServeHTTP(w, r)
			return
		}
	}
	// The HTTP API: /v1/* (a disabled endpoint is a 404 there) and the
	// hooks path when hooks are enabled (doc/messaging.md §6).
	if h := s.rt.Load().httpAPI; h.Routes(r.URL.Path) {
		h.ServeHTTP(w, r)
		return
	}
	// The Control UI takes the GETs nothing above claimed (controlui_mount.go).
	if h := s.rt.Load().controlUI; h.Routes(r) {
		h.ServeHTTP(w, r)
		return
	}
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
			s.broadcast(wire.EventTick, wire.TickEvent{TS: s.now().UnixMilli()}, nil, nil, true)
			// Re-read the interval each time: a restart may change it.
			t.Reset(s.rt.Load().tick)
		}
	}
}

func (s *Server) uptimeMs() int64 { return s.now().Sub(s.started).Milliseconds() }

// SetConfigError records (err != nil) or clears (err == nil) a config file
// the gateway refused to apply, so health and status report it; a change
// refreshes and broadcasts health at once.
func (s *Server) SetConfigError(path string, err error) { s.f.system.SetConfigError(path, err) }
