package reload

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter records callback runs and lets a test wait for the n-th.
type counter struct {
	mu    sync.Mutex
	n     int
	ch    chan int
	block chan struct{} // if non-nil, each run waits on it
	cur   atomic.Int32  // callbacks running right now
	max   atomic.Int32
}

func newCounter() *counter { return &counter{ch: make(chan int, 100)} }

func (c *counter) run() {
	if v := c.cur.Add(1); v > c.max.Load() {
		c.max.Store(v)
	}
	if c.block != nil {
		<-c.block
	}
	c.cur.Add(-1)
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	c.ch <- n
}

func (c *counter) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-c.ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no change reported within 5s", what)
	}
}

// quiet asserts that no callback runs for d.
func (c *counter) quiet(t *testing.T, d time.Duration, what string) {
	t.Helper()
	select {
	case n := <-c.ch:
		t.Fatalf("%s: unexpected change report #%d", what, n)
	case <-time.After(d):
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

const testDebounce = 50 * time.Millisecond

func startWatch(t *testing.T, path string, c *counter) *Watcher {
	t.Helper()
	w, err := Watch(path, WatchOptions{Debounce: testDebounce, OnChange: c.run,
		OnError: func(err error) { t.Errorf("watcher error: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestWatcherSeesEditsRenamesAndRecreation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clawdbot.json")
	write(t, path, `{}`)
	c := newCounter()
	startWatch(t, path, c)

	write(t, path, `{"a":1}`)
	c.wait(t, "in-place write")

	// Editor-style save: write a temp file, rename it over the original.
	tmp := filepath.Join(dir, ".clawdbot.json.tmp")
	write(t, tmp, `{"a":2}`)
	c.quiet(t, 4*testDebounce, "temp file (other name) must be ignored")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	c.wait(t, "rename over")

	// The watch must survive the rename: a further in-place write is seen.
	write(t, path, `{"a":3}`)
	c.wait(t, "write after rename")

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	c.wait(t, "delete")
	write(t, path, `{"a":4}`)
	c.wait(t, "recreate")

	write(t, filepath.Join(dir, "other.json"), `{}`)
	c.quiet(t, 4*testDebounce, "other file in the directory")
}

func TestWatcherDebouncesBursts(t *testing.T) {
	// A burst is ten writes, each within the debounce window of the one
	// before. A loaded machine can stall a writer past the window, which
	// makes two bursts; such an attempt proves nothing, so it is tried
	// again, and only an attempt whose gaps all stayed inside the window
	// is judged.
	for attempt := 1; ; attempt++ {
		path := filepath.Join(t.TempDir(), "clawdbot.json")
		write(t, path, `{}`)
		c := newCounter()
		w := startWatch(t, path, c)
		var maxGap time.Duration
		last := time.Now()
		for i := range 10 {
			write(t, path, string(rune('a'+i)))
			now := time.Now()
			if i > 0 {
				maxGap = max(maxGap, now.Sub(last))
			}
			last = now
			time.Sleep(testDebounce / 5)
		}
		c.wait(t, "burst")
		if maxGap < testDebounce*3/4 {
			c.quiet(t, 4*testDebounce, "a burst must produce a single run")
			return
		}
		w.Close()
		if attempt == 5 {
			t.Skipf("the machine stalled the writer past the %v debounce window in 5 attempts (last gap %v)", testDebounce, maxGap)
		}
	}
}

func TestWatcherSerialisesAndQueuesOneMore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clawdbot.json")
	write(t, path, `{}`)
	c := newCounter()
	c.block = make(chan struct{})
	startWatch(t, path, c)

	write(t, path, "1")
	// Wait until the first callback is running (and blocked).
	deadline := time.Now().Add(5 * time.Second)
	for c.cur.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("first callback never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Two separate debounced changes while it runs: they coalesce into one queued run.
	write(t, path, "2")
	time.Sleep(4 * testDebounce)
	write(t, path, "3")
	time.Sleep(4 * testDebounce)
	close(c.block)
	c.wait(t, "first run")
	c.wait(t, "queued run")
	c.quiet(t, 4*testDebounce, "only one run may be queued")
	if m := c.max.Load(); m != 1 {
		t.Errorf("callbacks overlapped: %d ran at once", m)
	}
}

func TestWatchMissingDirectory(t *testing.T) {
	_, err := Watch(filepath.Join(t.TempDir(), "nope", "clawdbot.json"), WatchOptions{OnChange: func() {}})
	if err == nil {
		t.Fatal("want an error for a missing directory")
	}
}
