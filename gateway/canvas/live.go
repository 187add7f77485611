package canvas

import (
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/fsnotify/fsnotify"
)

// Bounds of the live-reload socket. Everything a client can make the host
// hold is capped: the number of sockets, what it may send (nothing but
// control frames, themselves ≤ 125 bytes by RFC 6455), how long a write may
// block, and how long a dead peer keeps its slot.
const (
	// MaxLiveClients is how many live-reload sockets may be open at once
	// (per Host). Further upgrades get 503 and a log line. A canvas page
	// holds one socket, so this is far above any real set of devices.
	MaxLiveClients = 256
	// liveReadLimit caps a client message. The host reads none: a data
	// message closes the socket (policy violation) after its header, and
	// the close handshake skips what is left of the frame for at most 5 s,
	// so this only backs that up.
	liveReadLimit = 128
	// liveWriteTimeout bounds one "reload" write or ping; a client that
	// cannot take it in that time is disconnected.
	liveWriteTimeout = 5 * time.Second
	// livePingInterval is how often an idle socket is pinged, so a peer
	// that vanished without a close (sleeping phone, cut network) frees its
	// slot within about a minute instead of never.
	livePingInterval = 45 * time.Second
)

// liveClient is one live-reload socket. kick has room for one pending
// reload: reloads coalesce, since one "reload" makes the page fetch
// everything anew.
type liveClient struct {
	c    *websocket.Conn
	kick chan struct{}
}

func (h *Host) serveWS(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "upgrade required", http.StatusUpgradeRequired)
		return
	}
	// Reserve the slot before the upgrade, so a flood is refused with a
	// plain 503 and never costs a WebSocket.
	lc := &liveClient{kick: make(chan struct{}, 1)}
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		http.Error(w, "canvas host closed", http.StatusServiceUnavailable)
		return
	case len(h.clients) >= h.maxClients:
		h.mu.Unlock()
		h.logFull(r.RemoteAddr)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many live-reload clients", http.StatusServiceUnavailable)
		return
	}
	h.clients[lc] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.clients, lc)
		h.mu.Unlock()
	}()
	// The socket only ever carries "reload" to the client and reads nothing,
	// and native canvas WebViews load pages from app origins, so the origin
	// check is off on purpose (the original had none either).
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(liveReadLimit)
	h.mu.Lock()
	lc.c = c
	closed := h.closed
	h.mu.Unlock()
	if closed { // Close ran between the reservation and the upgrade
		c.Close(websocket.StatusGoingAway, "canvas host closed")
		return
	}
	// Write-only connection: the reader answers control frames, closes on
	// any data message and ends ctx when the peer goes away. Not
	// c.CloseRead: in coder/websocket v1.8.15 its goroutine calls Close,
	// which then waits 15 s for that same goroutine to finish (a known
	// upstream bug), holding the slot all that time.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		if _, _, err := c.Reader(ctx); err == nil {
			c.Close(websocket.StatusPolicyViolation, "the live-reload socket takes no messages")
		}
	}()
	ping := time.NewTicker(h.pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lc.kick:
			wctx, cancel := context.WithTimeout(ctx, h.writeTimeout)
			err := c.Write(wctx, websocket.MessageText, []byte(ReloadMessage))
			cancel()
			if err != nil {
				return // a client that cannot take 6 bytes in 5 s is gone
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, h.writeTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

// logFull logs a refused live-reload client, at most once a minute.
func (h *Host) logFull(remote string) {
	h.mu.Lock()
	now := time.Now()
	quiet := now.Sub(h.lastFullLog) < time.Minute
	if !quiet {
		h.lastFullLog = now
	}
	h.mu.Unlock()
	if !quiet {
		h.logf("canvas: live-reload client limit (%d) reached; refusing %s (further refusals not logged for 1m)",
			h.maxClients, remote)
	}
}

// Clients is the number of connected live-reload sockets.
func (h *Host) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for lc := range h.clients {
		if lc.c != nil {
			n++
		}
	}
	return n
}

// Reload sends "reload" to every live-reload client. It never blocks: each
// client's own goroutine writes, and a reload already pending for a client
// absorbs this one.
func (h *Host) Reload() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for lc := range h.clients {
		select {
		case lc.kick <- struct{}{}:
		default:
		}
	}
}

// watching reports whether dir is watched (tests wait on it).
func (h *Host) watching(dir string) bool {
	if h.fsw == nil {
		return false
	}
	return slices.Contains(h.fsw.WatchList(), dir)
}

// ignored reports whether a path below root is skipped by the watcher:
// dotfiles/dot-directories and node_modules, at any depth.
func ignored(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == "." {
		return false
	}
	for _, seg := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(seg, ".") || seg == "node_modules" {
			return true
		}
	}
	return false
}

// addTree watches dir and its subdirectories (fsnotify is not recursive).
func (h *Host) addTree(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if ignored(h.root, p) {
			return filepath.SkipDir
		}
		if err := h.fsw.Add(p); err != nil {
			h.logf("canvas: watch %s: %v", p, err)
		}
		return nil
	})
}

func (h *Host) startWatch() error {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	h.fsw = fsw
	h.stop = make(chan struct{})
	h.done = make(chan struct{})
	h.addTree(h.root)
	go h.watchLoop()
	return nil
}

func (h *Host) watchLoop() {
	defer close(h.done)
	var timer *time.Timer
	var timerC <-chan time.Time
	for {
		select {
		case <-h.stop:
			if timer != nil {
				timer.Stop()
			}
			return
		case ev, ok := <-h.fsw.Events:
			if !ok {
				return
			}
			if ignored(h.root, ev.Name) || ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Op.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					h.addTree(ev.Name)
				}
			}
			if timer == nil {
				timer = time.NewTimer(h.debounce)
			} else {
				timer.Reset(h.debounce)
			}
			timerC = timer.C
		case err, ok := <-h.fsw.Errors:
			if !ok {
				return
			}
			h.logf("canvas: watcher: %v", err)
		case <-timerC:
			timerC = nil
			h.Reload()
		}
	}
}
