package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/canvas"
	"github.com/clawdbot/clawdbot/profiles"
)

// canvasMount is the canvas host as a Mount of the runtime: its handler
// serves /__clawdbot* on the gateway port, and Start also serves it on
// canvasHost.port when that port is free.
type canvasMount struct {
	h      *canvas.Host
	addr   string // the standalone listen address, "" for none
	root   string
	log    *slog.Logger
	lns    []net.Listener
	cancel context.CancelFunc
	stop   sync.Once
}

func (m *canvasMount) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.h.ServeHTTP(w, r) }

// Start binds the standalone port the way the gateway port is bound
// (listen.go: IPv4 only for 0.0.0.0, 127.0.0.1 and ::1 for loopback); a
// port in use is logged and the host stays on the gateway port only.
func (m *canvasMount) Start() {
	if m.addr == "" {
		return
	}
	lns, err := listenAll(m.addr, m.log)
	if err != nil {
		m.log.Warn(fmt.Sprintf("canvas host: standalone port %s unavailable (%v); serving on the gateway port only", m.addr, err))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.lns, m.cancel = lns, cancel
	for _, ln := range lns {
		go m.h.Serve(ctx, ln)
	}
	m.log.Info(fmt.Sprintf("canvas host: http://%s%s (root %s)", m.addr, canvas.Prefix, m.root))
}

// Stop closes the standalone listener at once (so a successor can bind
// the same port) and the host.
func (m *canvasMount) Stop() {
	m.stop.Do(func() {
		if m.cancel != nil {
			m.cancel()
			closeAll(m.lns)
		}
		m.h.Close()
	})
}

// buildCanvas builds, without starting, the canvas host for cfg; nil when
// it is disabled or cannot be built (logged).
func (l *lifecycle) buildCanvas(cfg *profiles.Config) Mount {
	if !canvas.Enabled(cfg.CanvasHost, l.lo.Getenv) {
		return nil
	}
	root := canvas.RootFor(cfg.CanvasHost, l.lo.Workspace, l.lo.Home)
	h, err := canvas.New(canvas.Options{
		Root: root, LiveReload: canvas.LiveReloadEnabled(cfg.CanvasHost),
		Logf: func(f string, a ...any) { l.canvasLog.Warn(fmt.Sprintf(f, a...)) },
	})
	if err != nil {
		l.canvasLog.Warn("canvas host disabled", "err", err)
		return nil
	}
	m := &canvasMount{h: h, root: root, log: l.canvasLog}
	host, portStr, _ := net.SplitHostPort(l.s.Addr().String())
	gwPort, _ := strconv.Atoi(portStr)
	if p := canvas.StandalonePort(cfg.CanvasHost, gwPort); p > 0 {
		m.addr = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return m
}
