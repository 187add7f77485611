package canvas

import (
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/fsnotify/fsnotify"
)

func (h *Host) serveWS(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "upgrade required", http.StatusUpgradeRequired)
		return
	}
	// The socket only ever carries "reload" to the client and reads nothing,
	// and native canvas WebViews load pages from app origins, so the origin
	// check is off on purpose (the original had none either).
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		c.Close(websocket.StatusGoingAway, "canvas host closed")
		return
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	// Write-only connection: CloseRead handles control frames and ends ctx
	// when the peer goes away.
	ctx := c.CloseRead(context.Background())
	<-ctx.Done()
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// Clients is the number of connected live-reload sockets.
func (h *Host) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Reload sends "reload" to every live-reload client.
func (h *Host) Reload() {
	h.mu.Lock()
	cs := make([]*websocket.Conn, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.Write(ctx, websocket.MessageText, []byte(ReloadMessage)); err != nil {
				c.CloseNow() // a client that cannot take 6 bytes in 5 s is gone
			}
		}()
	}
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
