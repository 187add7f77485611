//go:build linux

package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builtBinary is the clawdbot binary the real-process tests share: built
// once per test run (each build costs seconds on these 2-core machines).
var builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary.dir != "" {
		os.RemoveAll(builtBinary.dir)
	}
	os.Exit(code)
}

// clawdbotBinary builds cmd/clawdbot once, into a directory outside the Go
// build cache: `gateway install` refuses `go run`/`go test` temp binaries.
func clawdbotBinary(t *testing.T) string {
	t.Helper()
	b := &builtBinary
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "clawdbot-clitest-bin-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "clawdbot")
		build := exec.Command("go", "build", "-o", b.path, "github.com/clawdbot/clawdbot/cmd/clawdbot")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.out, b.err = build.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build: %v\n%s", b.err, b.out)
	}
	return b.path
}
