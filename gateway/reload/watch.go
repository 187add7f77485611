package reload

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is gateway.reload.debounceMs's default.
const DefaultDebounce = 300 * time.Millisecond

// Watcher calls a function after the config file changed. It watches the
// file's directory rather than the file: editors and our own atomic saves
// write a temp file and rename it over the original, which replaces the
// inode a file watch would be attached to. Creation, writes, renames and
// removal of the file all count as a change (the callback re-reads the file
// and decides; a missing or broken file is its business).
//
// Changes are debounced, and callbacks never overlap: a change that arrives
// while the callback runs schedules exactly one more run after it.
type Watcher struct {
	fsw      *fsnotify.Watcher
	name     string
	debounce atomic.Int64 // time.Duration; SetDebounce changes it while watching
	onChange func()
	errf     func(error)

	cancel context.CancelFunc
	done   chan struct{}
}

// WatchOptions configure Watch.
type WatchOptions struct {
	// Debounce is the quiet time after the last event before OnChange runs
	// (0 means DefaultDebounce).
	Debounce time.Duration
	// OnChange is called, never concurrently, after the file changed.
	OnChange func()
	// OnError receives watcher errors (may be nil).
	OnError func(error)
}

// Watch starts watching path. Close stops it.
func Watch(path string, opts WatchOptions) (*Watcher, error) {
	if opts.OnChange == nil {
		return nil, errors.New("reload.Watch: OnChange is required")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if err := fsw.Add(dir); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watch %s: directory %s: %w (create it first)", path, dir, err)
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{
		fsw: fsw, name: filepath.Base(abs),
		onChange: opts.OnChange, errf: opts.OnError,
		cancel: cancel, done: make(chan struct{}),
	}
	w.debounce.Store(int64(opts.Debounce))
	go w.loop(ctx)
	return w, nil
}

// SetDebounce changes the quiet time for changes seen from now on (0 or
// less means DefaultDebounce). The original re-reads
// gateway.reload.debounceMs on every reload, so the gateway calls this with
// each newly loaded config.
func (w *Watcher) SetDebounce(d time.Duration) {
	if d <= 0 {
		d = DefaultDebounce
	}
	w.debounce.Store(int64(d))
}

// Close stops the watcher and waits for a running callback to return.
func (w *Watcher) Close() error {
	w.cancel()
	err := w.fsw.Close()
	<-w.done
	return err
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	// trigger has room for one pending run: a change during a callback
	// fills it, further changes coalesce into that same run.
	trigger := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-trigger:
				w.onChange()
			}
		}
	}()
	defer wg.Wait()

	var timer *time.Timer
	var timerC <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) != w.name || ev.Op == fsnotify.Chmod {
				continue
			}
			d := time.Duration(w.debounce.Load())
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			timerC = timer.C
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if w.errf != nil {
				w.errf(err)
			}
		case <-timerC:
			timerC = nil
			select {
			case trigger <- struct{}{}:
			default: // one run is already queued; it will see this change too
			}
		}
	}
}
