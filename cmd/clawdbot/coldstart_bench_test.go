//go:build linux

package main_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkGatewayColdStart measures what a supervisor sees: exec of the
// real binary until its port accepts a TCP connection (the original takes
// 1.5–2.6 s), and the gateway's resident memory once it is listening (the
// original: ~405 MB idle). Linux only: RSS comes from /proc/<pid>/status.
func BenchmarkGatewayColdStart(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "clawdbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	env := cleanEnv(home)
	var starts []time.Duration
	var rssKiB []int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		port := freePortB(b)
		t0 := time.Now()
		cmd := exec.Command(bin, "--dev", "gateway", "--allow-unconfigured", "--port", port)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
				c.Close()
				break
			}
			if time.Since(t0) > 10*time.Second {
				cmd.Process.Kill()
				b.Fatalf("gateway did not listen on %s", port)
			}
			time.Sleep(200 * time.Microsecond)
		}
		starts = append(starts, time.Since(t0))
		rssKiB = append(rssKiB, vmRSSKiB(cmd.Process.Pid))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	b.StopTimer()
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	sort.Ints(rssKiB)
	b.ReportMetric(float64(starts[len(starts)/2].Microseconds())/1000, "p50-ms-to-listen")
	b.ReportMetric(float64(rssKiB[len(rssKiB)/2])/1024, "p50-RSS-MiB")
}

func freePortB(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// vmRSSKiB reads VmRSS of pid (0 when unreadable).
func vmRSSKiB(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return n
		}
	}
	return 0
}
