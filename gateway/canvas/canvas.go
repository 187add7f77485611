// Package canvas is the canvas host (doc/protocol.md §8): static files from a
// root directory under /__clawdbot__/canvas/, with live reload over a
// WebSocket at /__clawdbot/ws. The gateway mounts a Host on its own port; the
// same Host can also serve a standalone listener (canvasHost.port, default
// gateway port + 4), which the original documented but never bound.
//
// Serving is confined to the root with os.Root, so neither ".." (plain or
// percent-encoded) nor a symlink pointing outside the root can reach other
// files.
package canvas

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/fsnotify/fsnotify"

	"github.com/clawdbot/clawdbot/profiles"
)

// Paths the Host answers.
const (
	// Prefix is where canvas files are served.
	Prefix = "/__clawdbot__/canvas/"
	// WSPath is the live-reload socket (one underscore pair, not under Prefix).
	WSPath = "/__clawdbot/ws"
	// ReloadMessage is the text frame sent to live-reload clients.
	ReloadMessage = "reload"
	// DefaultDebounce is the quiet time after file changes before "reload".
	DefaultDebounce = 75 * time.Millisecond
	// PortOffset derives the standalone canvas port from the gateway port.
	PortOffset = 4
)

// Options configure a Host.
type Options struct {
	// Root is the directory served. It is created (with a demo index.html)
	// if missing.
	Root string
	// LiveReload watches Root and tells live-reload clients to reload.
	LiveReload bool
	// Debounce overrides DefaultDebounce (tests).
	Debounce time.Duration
	// Logf receives diagnostics (may be nil).
	Logf func(format string, args ...any)
}

// Host serves one canvas root. It is an http.Handler; Close releases the
// watcher and disconnects live-reload clients.
type Host struct {
	root     string
	fsroot   *os.Root
	debounce time.Duration
	logf     func(string, ...any)
	liveJS   bool

	mu           sync.Mutex
	clients      map[*liveClient]struct{}
	closed       bool
	maxClients   int
	pingInterval time.Duration
	writeTimeout time.Duration
	lastFullLog  time.Time

	fsw  *fsnotify.Watcher
	stop chan struct{}
	done chan struct{}
}

var _ http.Handler = (*Host)(nil)

// Enabled reports whether the canvas host should run: canvasHost.enabled is
// not false and CLAWDBOT_SKIP_CANVAS_HOST is not truthy (1, true, yes, on).
func Enabled(cfg profiles.CanvasHostConfig, getenv func(string) string) bool {
	if cfg.Enabled != nil && !*cfg.Enabled {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("CLAWDBOT_SKIP_CANVAS_HOST"))) {
	case "1", "true", "yes", "on":
		return false
	}
	return true
}

// LiveReloadEnabled reports canvasHost.liveReload (default true).
func LiveReloadEnabled(cfg profiles.CanvasHostConfig) bool {
	return cfg.LiveReload == nil || *cfg.LiveReload
}

// RootFor resolves canvasHost.root: the configured path ("~/" expanded
// against home, relative paths against workspace), else <workspace>/canvas.
func RootFor(cfg profiles.CanvasHostConfig, workspace, home string) string {
	r := strings.TrimSpace(cfg.Root)
	switch {
	case r == "":
		return filepath.Join(workspace, "canvas")
	case r == "~":
		return home
	case strings.HasPrefix(r, "~/"):
		return filepath.Join(home, r[2:])
	case !filepath.IsAbs(r):
		return filepath.Join(workspace, r)
	}
	return filepath.Clean(r)
}

// StandalonePort is canvasHost.port, else gatewayPort+4 (0 if that is not a
// valid port).
func StandalonePort(cfg profiles.CanvasHostConfig, gatewayPort int) int {
	if cfg.Port > 0 && cfg.Port <= 65535 {
		return cfg.Port
	}
	if p := gatewayPort + PortOffset; gatewayPort > 0 && p <= 65535 {
		return p
	}
	return 0
}

// New prepares the root (creating it and a demo index.html if needed) and,
// with LiveReload, starts watching it.
func New(opts Options) (*Host, error) {
	if opts.Root == "" {
		return nil, errors.New("canvas: no root directory (set canvasHost.root)")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("canvas root %s: %w", opts.Root, err)
	}
	if err := ensureRoot(root); err != nil {
		return nil, err
	}
	fsroot, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("canvas root %s: %w", root, err)
	}
	h := &Host{
		root: root, fsroot: fsroot, debounce: opts.Debounce, logf: opts.Logf,
		liveJS: opts.LiveReload, clients: map[*liveClient]struct{}{},
		maxClients: MaxLiveClients, pingInterval: livePingInterval, writeTimeout: liveWriteTimeout,
	}
	if h.debounce <= 0 {
		h.debounce = DefaultDebounce
	}
	if h.logf == nil {
		h.logf = func(string, ...any) {}
	}
	if opts.LiveReload {
		if err := h.startWatch(); err != nil {
			fsroot.Close()
			return nil, err
		}
	}
	return h, nil
}

// Root is the absolute root directory served.
func (h *Host) Root() string { return h.root }

// Handles reports whether path belongs to the canvas host, so a server that
// dispatches in order (doc/protocol.md §7) can hand it over.
func Handles(path string) bool {
	return path == WSPath || path == strings.TrimSuffix(Prefix, "/") || strings.HasPrefix(path, Prefix)
}

// ServeHTTP serves canvas files and the live-reload socket; other paths get 404.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == WSPath:
		h.serveWS(w, r)
	case r.URL.Path == strings.TrimSuffix(Prefix, "/"):
		if !allowMethod(w, r) {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
	case strings.HasPrefix(r.URL.Path, Prefix):
		h.serveFile(w, r, strings.TrimPrefix(r.URL.Path, Prefix))
	default:
		http.NotFound(w, r)
	}
}

// Close stops the watcher and disconnects live-reload clients.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	var conns []*websocket.Conn
	for lc := range h.clients {
		if lc.c != nil {
			conns = append(conns, lc.c)
		}
	}
	h.mu.Unlock()
	if h.fsw != nil {
		close(h.stop)
		h.fsw.Close()
		<-h.done
	}
	// In parallel: each close handshake may wait up to 5 s for a peer
	// that has gone silent.
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.Close(websocket.StatusGoingAway, "canvas host closed") })
	}
	wg.Wait()
	return h.fsroot.Close()
}

// Serve serves h on ln until ctx is done (the standalone canvas port).
func (h *Host) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Serve runs a standalone canvas host with opts on addr until ctx is done.
func Serve(ctx context.Context, addr string, opts Options) error {
	h, err := New(opts)
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("canvas host: listen on %s: %w", addr, err)
	}
	return h.Serve(ctx, ln)
}
