package rpc_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
)

func TestDedupeTTLAndBound(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	d := rpc.NewDedupe(clock)
	d.Store("agent:a", "ack", nil)
	if e, ok := d.Load("agent:a"); !ok || e.Payload != "ack" {
		t.Fatalf("Load = %+v %v", e, ok)
	}
	now = now.Add(rpc.DedupeTTL - time.Millisecond)
	if _, ok := d.Load("agent:a"); !ok {
		t.Fatal("expired before the TTL")
	}
	now = now.Add(time.Millisecond)
	if _, ok := d.Load("agent:a"); ok {
		t.Fatal("live after the TTL")
	}
	for i := range rpc.DedupeMax + 5 {
		now = now.Add(time.Millisecond)
		d.Store(fmt.Sprint("k", i), i, nil)
	}
	if d.Len() != rpc.DedupeMax {
		t.Fatalf("Len = %d, want %d", d.Len(), rpc.DedupeMax)
	}
	for i := range 5 {
		if _, ok := d.Load(fmt.Sprint("k", i)); ok {
			t.Fatalf("oldest entry k%d kept", i)
		}
	}
	if _, ok := d.Load(fmt.Sprint("k", rpc.DedupeMax+4)); !ok {
		t.Fatal("newest entry dropped")
	}
}

func TestDedupeLoadOrStoreMergesConcurrentDuplicates(t *testing.T) {
	d := rpc.NewDedupe(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, loaded := d.LoadOrStore("chat:x", i, nil); !loaded {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firsts != 1 {
		t.Fatalf("%d callers stored, want exactly 1", firsts)
	}
}
