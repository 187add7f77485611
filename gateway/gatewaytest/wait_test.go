package gatewaytest

import (
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	n := 0
	if !Poll(time.Second, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("Poll stopped after %d tries", n)
	}
	start := time.Now()
	if Poll(30*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll of a false condition reported true")
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("Poll gave up before its timeout")
	}
}
