package faillimit

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(func() time.Time { return now })
	for i := range MaxFails {
		if l.Blocked("a") {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("a")
	}
	if !l.Blocked("a") || l.Blocked("b") {
		t.Fatal("a not blocked after MaxFails, or b blocked")
	}
	now = now.Add(Window + time.Second)
	if l.Blocked("a") {
		t.Fatal("still blocked after the window")
	}
	// The table stays bounded under a flood of addresses.
	for i := range TableSize + 100 {
		l.Fail(strconv.Itoa(i))
	}
	if n := len(l.m); n > TableSize {
		t.Fatalf("table holds %d entries, cap %d", n, TableSize)
	}
}
