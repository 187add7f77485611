package reload

import (
	"path/filepath"
	"testing"
	"time"
)

// gateway.reload.debounceMs is re-read on every reload: a new debounce set
// while watching governs the next change.
func TestWatcherSetDebounceAppliesToNextChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clawdbot.json")
	write(t, path, `{}`)
	c := newCounter()
	w := startWatch(t, path, c)

	w.SetDebounce(20 * testDebounce)
	write(t, path, `{"a":1}`)
	c.quiet(t, 8*testDebounce, "the longer debounce must hold the run back")
	c.wait(t, "after the longer debounce")

	w.SetDebounce(testDebounce)
	start := time.Now()
	write(t, path, `{"a":2}`)
	c.wait(t, "after the debounce was shortened again")
	if d := time.Since(start); d >= 20*testDebounce {
		t.Errorf("run came after %v: the shortened debounce was not used", d)
	}
}

func TestWatcherSetDebounceZeroMeansDefault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clawdbot.json")
	write(t, path, `{}`)
	w := startWatch(t, path, newCounter())
	for _, d := range []time.Duration{0, -time.Second} {
		w.SetDebounce(d)
		if got := time.Duration(w.debounce.Load()); got != DefaultDebounce {
			t.Errorf("SetDebounce(%v) stored %v, want DefaultDebounce", d, got)
		}
	}
}
