//go:build unix

package cron

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// TestStoreSurvivesKill9 re-executes the test binary as a writer that
// saves jobs.json in a loop and SIGKILLs it mid-stream: whatever instant
// the kill lands on, the file left is a complete store (temp + rename).
func TestStoreSurvivesKill9(t *testing.T) {
	if path := os.Getenv("CRON_KILL_WRITER"); path != "" {
		for i := 0; ; i++ {
			st := wire.CronStore{Version: 1}
			for k := range 200 {
				st.Jobs = append(st.Jobs, wire.CronJob{ID: fmt.Sprintf("j%d-%d", i, k), Name: strings.Repeat("x", 500), Enabled: true,
					Schedule: wire.CronSchedule{Kind: "every", EveryMs: ptr(int64(1000))}, SessionTarget: "main", WakeMode: "now",
					Payload: wire.CronPayload{Kind: "systemEvent", Text: "t"}})
			}
			if err := SaveStore(path, st); err != nil {
				os.Exit(3)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "cron", "jobs.json")
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreSurvivesKill9$")
		cmd.Env = append(os.Environ(), "CRON_KILL_WRITER="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if st, err := os.Stat(path); err == nil && st.Size() > 0 {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatal("writer never wrote")
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(round*7) * time.Millisecond) // vary where the kill lands
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		st, _, err := LoadStore(path)
		if err != nil || len(st.Jobs) != 200 {
			t.Fatalf("round %d: store after kill -9: %d jobs, %v", round, len(st.Jobs), err)
		}
	}
}
