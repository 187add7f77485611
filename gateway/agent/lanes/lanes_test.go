package lanes_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent/lanes"
)

func TestFIFOAndLimit(t *testing.T) {
	l := lanes.New(func(name string) int {
		if name == "main" {
			return 2
		}
		return 1
	})
	ctx := context.Background()
	rel, err := l.Acquire(ctx, "session:a")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := l.Acquire(ctx, "session:a")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			r()
		}()
		// Arrival order is the order the waiters queued in.
		for deadline := time.Now().Add(2 * time.Second); l.Waiting("session:a") < i+1 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	rel()
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("order = %v, want FIFO", order)
		}
	}
	if l.Len() != 0 {
		t.Fatalf("%d lanes left after all released", l.Len())
	}

	r1, _ := l.Acquire(ctx, "main")
	r2, _ := l.Acquire(ctx, "main")
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(short, "main"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third slot of a 2-lane: err = %v", err)
	}
	r1()
	r3, err := l.Acquire(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
	r3() // a second release is a no-op
	if l.Busy("main") {
		t.Fatal("main busy after every release")
	}
}
