package gateway

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func reportP50(b *testing.B, ds []time.Duration, unit string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, unit)
}

// BenchmarkHandshake: open → challenge → connect → hello-ok.
func BenchmarkHandshake(b *testing.B) {
	s := startServer(b, nil)
	params := connectParams(testToken)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		c := dial(b, s)
		c.connect(params)
		ds = append(ds, time.Since(t0))
		c.ws.CloseNow()
	}
	b.StopTimer()
	reportP50(b, ds, "p50-µs")
}

// BenchmarkHealthRoundTrip: one request/response at a time on one conn.
func BenchmarkHealthRoundTrip(b *testing.B) {
	s := startServer(b, nil)
	c := dial(b, s)
	c.connect(connectParams(testToken))
	c.call("health", nil) // warm the cache
	ctx := context.Background()
	req := []byte(`{"type":"req","id":"h","method":"health"}`)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := c.ws.Write(ctx, websocket.MessageText, req); err != nil {
			b.Fatal(err)
		}
		for {
			_, data, err := c.ws.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if strings.Contains(string(data[:min(len(data), 40)]), `"type":"res"`) {
				break
			}
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	reportP50(b, ds, "p50-µs")
}

// BenchmarkPipelined: b.N requests written back to back, then all
// responses read; reports requests per second.
func BenchmarkPipelined(b *testing.B) {
	s := startServer(b, nil)
	c := dial(b, s)
	c.connect(connectParams(testToken))
	ctx := context.Background()
	req := []byte(`{"type":"req","id":"p","method":"system-presence"}`)
	done := make(chan struct{})
	b.ResetTimer()
	go func() {
		defer close(done)
		for n := 0; n < b.N; {
			_, data, err := c.ws.Read(ctx)
			if err != nil {
				return
			}
			if strings.Contains(string(data[:min(len(data), 40)]), `"type":"res"`) {
				n++
			}
		}
	}()
	for i := 0; i < b.N; i++ {
		if err := c.ws.Write(ctx, websocket.MessageText, req); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkBroadcast1000: one event to 1,000 connected clients, timed until
// every client has read it.
func BenchmarkBroadcast1000(b *testing.B) {
	raiseFileLimit(b, 4096)
	s := startServer(b, nil)
	const n = 1000
	var got sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < n; i++ {
		c := dial(b, s)
		c.connect(connectParams(testToken))
		go func() {
			for {
				_, data, err := c.ws.Read(ctx)
				if err != nil {
					return
				}
				if strings.Contains(string(data[:min(len(data), 60)]), `"event":"bench"`) {
					got.Done()
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // let the post-connect health refresh settle
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got.Add(n)
		t0 := time.Now()
		s.broadcast("bench", map[string]int{"i": i}, nil, false)
		got.Wait()
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	reportP50(b, ds, "p50-µs")
}

// BenchmarkIdleConnHeap: heap + stack bytes per idle, handshaken
// connection with 10,000 connections. Clients are raw TCP sockets speaking
// just enough WebSocket to connect, so the figure is (almost only) the
// server's cost; the client side adds a net.Conn per connection.
func BenchmarkIdleConnHeap(b *testing.B) {
	// 10,000 connections need 20,000 fds in one process (both ends); a
	// lower hard limit shrinks n rather than skipping.
	n := 10000
	if lim := raiseFileLimit(b, 2*uint64(n)+1000); lim < 2*uint64(n)+1000 {
		n = int(lim-1000) / 2
	}
	b.Logf("%d idle connections", n)
	for i := 0; i < b.N; i++ {
		s := startServer(b, nil)
		goruntime.GC()
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		conns := make([]net.Conn, 0, n)
		for j := 0; j < n; j++ {
			conns = append(conns, rawConnect(b, s.Addr().String()))
		}
		deadline := time.Now().Add(60 * time.Second)
		for findConn(s, func(c *conn) bool { return c.ready.Load() }) < n {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d connections ready", findConn(s, func(c *conn) bool { return c.ready.Load() }), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Second) // the post-connect health broadcast drains
		goruntime.GC()
		goruntime.GC()
		goruntime.ReadMemStats(&after)
		used := (after.HeapInuse + after.StackInuse) - (before.HeapInuse + before.StackInuse)
		b.ReportMetric(float64(used)/float64(n)/1024, "KiB/conn")
		for _, c := range conns {
			c.Close()
		}
	}
}

// rawConnect does the WebSocket upgrade and sends connect by hand.
func rawConnect(b *testing.B, addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("upgrade: %v %v", err, resp)
	}
	payload, _ := json.Marshal(map[string]any{"type": "req", "id": "1", "method": "connect", "params": connectParams(testToken)})
	c.Write(maskedFrame(payload))
	return c
}

func maskedFrame(p []byte) []byte {
	f := []byte{0x81}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = append(f, 0x80|126, 0, 0)
		binary.BigEndian.PutUint16(f[2:], uint16(len(p)))
	}
	f = append(f, 0, 0, 0, 0) // zero mask: payload unchanged
	return append(f, p...)
}
