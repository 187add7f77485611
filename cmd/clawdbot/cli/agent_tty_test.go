//go:build !windows

package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// On a terminal the reply streams as agent events arrive, and the final
// reply completes it instead of printing it twice.
func TestAgentStreamsToATerminal(t *testing.T) {
	ptmx, tty := openPTY(t)
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	read := func() string {
		mu.Lock()
		defer mu.Unlock()
		return screen.String()
	}
	// Speed 1: the recorded deltas are 200 ms apart and the final res
	// comes 630 ms after the third one.
	g := newReplayGateway(t, 1, []string{"frames-h-tool-turn.json"})
	env, _, errb := callTestEnv(t, nil)
	env.Stdout = tty
	done := make(chan int, 1)
	go func() {
		done <- Main([]string{"agent", "--url", g.URL(), "--agent", "main", "-m", "TOOLCALL please"}, env)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(read(), "Checking status.\r\nAll good") {
		select {
		case code := <-done:
			t.Fatalf("exited %d before the stream was seen; screen %q stderr %q", code, read(), errb)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no streamed text; screen %q", read())
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case code := <-done:
		t.Fatalf("exited %d before the final; the text was not streamed", code)
	default:
	}
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errb)
	}
	want := "Checking status.\r\nAll good after tool.\r\n"
	deadline = time.Now().Add(5 * time.Second)
	for read() != want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := read(); got != want {
		t.Errorf("terminal shows %q, want %q", got, want)
	}
}
