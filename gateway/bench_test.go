package gateway

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The gateway's performance targets, on a 2-core machine:
//
//	go test -run '^$' -bench 'Handshake|HealthRoundTrip|Pipelined|Broadcast1000|IdleConnHeap' -benchmem ./gateway/
//
//   - handshake (socket open → hello-ok) ≤ 300 µs median
//   - health round trip ≤ 50 µs median
//   - one broadcast to 1,000 connections ≤ 20 ms
//   - heap per idle connection ≤ 20 KiB at 10,000 connections
//
// Medians are reported as p50-µs. Clients share the process (or at least
// the two cores) with the gateway, so where many clients run at once they
// are rawWS clients (rawws_test.go) that cost next to nothing, and the
// figure is the gateway's.

func reportP50(b *testing.B, ds []time.Duration, unit string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, unit)
}

// BenchmarkHandshake: socket open → upgrade → challenge → connect →
// hello-ok, with a raw client that only frames bytes (a full client's own
// dial machinery and JSON decoding of hello-ok would otherwise share the
// two cores with the gateway and be timed with it).
func BenchmarkHandshake(b *testing.B) {
	s := startServer(b, nil)
	addr := s.Addr().String()
	connect := connectFrame(testToken)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		r, err := rawDial(addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.handshake(connect); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
		r.Close()
	}
	b.StopTimer()
	reportP50(b, ds, "p50-µs")
}

// BenchmarkHandshakeClient is the same handshake with coder/websocket as
// the client (what Go clients of the gateway use), for comparison.
func BenchmarkHandshakeClient(b *testing.B) {
	s := startServer(b, nil)
	url := "ws://" + s.Addr().String() + "/"
	connect := connectFrame(testToken)
	ctx := context.Background()
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		ws.SetReadLimit(64 << 20)
		if _, _, err := ws.Read(ctx); err != nil {
			b.Fatal(err)
		}
		if err := ws.Write(ctx, websocket.MessageText, connect); err != nil {
			b.Fatal(err)
		}
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if bytes.HasPrefix(data, []byte(`{"type":"res"`)) {
				if !bytes.Contains(data[:min(len(data), 80)], []byte(`"ok":true`)) {
					b.Fatalf("connect failed: %.200s", data)
				}
				break
			}
		}
		ds = append(ds, time.Since(t0))
		ws.CloseNow()
	}
	b.StopTimer()
	reportP50(b, ds, "p50-µs")
}

// BenchmarkHealthRoundTrip: one request/response at a time on one conn.
func BenchmarkHealthRoundTrip(b *testing.B) {
	s := startServer(b, nil)
	c := dial(b, s)
	c.Connect(connectParams(testToken))
	c.Call("health", nil) // warm the cache
	ctx := context.Background()
	req := []byte(`{"type":"req","id":"h","method":"health"}`)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := c.WS.Write(ctx, websocket.MessageText, req); err != nil {
			b.Fatal(err)
		}
		for {
			_, data, err := c.WS.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if bytes.HasPrefix(data, []byte(`{"type":"res"`)) {
				break
			}
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	reportP50(b, ds, "p50-µs")
}

// pipelineWindow bounds the requests in flight in BenchmarkPipelined. With
// no bound the writer can run ahead of its own reader by more than the
// gateway's 1.5 MiB send backlog, and the gateway then (rightly) cuts the
// client off as a slow consumer.
const pipelineWindow = 256

// BenchmarkPipelined: requests written back to back (up to
// pipelineWindow in flight) while a reader takes the responses; reports
// requests per second.
func BenchmarkPipelined(b *testing.B) {
	s := startServer(b, nil)
	c := dial(b, s)
	c.Connect(connectParams(testToken))
	ctx := context.Background()
	req := []byte(`{"type":"req","id":"p","method":"system-presence"}`)
	window := make(chan struct{}, pipelineWindow)
	done := make(chan error, 1)
	b.ResetTimer()
	go func() {
		for n := 0; n < b.N; {
			_, data, err := c.WS.Read(ctx)
			if err != nil {
				done <- err
				return
			}
			if bytes.HasPrefix(data, []byte(`{"type":"res"`)) {
				n++
				<-window
			}
		}
		done <- nil
	}()
	for i := 0; i < b.N; i++ {
		window <- struct{}{}
		if err := c.WS.Write(ctx, websocket.MessageText, req); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkBroadcast1000: one event to 1,000 connected clients, timed from
// the broadcast call until every client's socket has delivered it. The
// clients are rawWS sockets, each with one goroutine that parses frames
// in place: 1,000 full clients (their goroutines, contexts and per-message
// allocations) would spend more of the two shared cores than the gateway's
// fan-out itself and turn the figure into a client benchmark.
func BenchmarkBroadcast1000(b *testing.B) {
	const n = 1000
	raiseFileLimit(b, 2*n+200)
	s := startServer(b, nil)
	addr := s.Addr().String()
	connect := connectFrame(testToken)
	var got sync.WaitGroup
	var readers sync.WaitGroup
	marker := []byte(`"event":"bench"`)
	clients := make([]*rawWS, 0, n)
	defer func() {
		for _, r := range clients {
			r.Close()
		}
		readers.Wait()
	}()
	for range n {
		r, err := rawDial(addr)
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, r)
		if err := r.handshake(connect); err != nil {
			b.Fatal(err)
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				_, p, err := r.next()
				if err != nil {
					return
				}
				if bytes.Contains(p[:min(len(p), 64)], marker) {
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
		s.broadcast("bench", map[string]int{"i": i}, nil, nil, false)
		got.Wait()
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	reportP50(b, ds, "p50-µs")
}

// idleClientsEnv makes a re-executed test binary the client side of
// BenchmarkIdleConnHeap: "addr n" opens n rawWS connections to addr, sends
// connect on each, prints "ok" and holds them until stdin closes.
const idleClientsEnv = "GW_BENCH_IDLE_CLIENTS"

func init() {
	spec := os.Getenv(idleClientsEnv)
	if spec == "" {
		return
	}
	addr, ns, _ := strings.Cut(spec, " ")
	n, _ := strconv.Atoi(ns)
	if _, err := raiseNoFile(uint64(n) + 100); err != nil {
		fmt.Println("err:", err)
		os.Exit(1)
	}
	connect := clientFrame(connectFrame(testToken))
	conns := make([]*rawWS, 0, n)
	for range n {
		r, err := rawDial(addr)
		if err == nil {
			_, err = r.Write(connect)
		}
		if err != nil {
			fmt.Println("err:", err)
			os.Exit(1)
		}
		conns = append(conns, r)
	}
	fmt.Println("ok")
	_, _ = io.Copy(io.Discard, os.Stdin)
	goruntime.KeepAlive(conns) // the connections stay open until stdin closes
	os.Exit(0)
}

// BenchmarkIdleConnHeap: Go heap + goroutine stack bytes per idle,
// handshaken connection, with 10,000 connections. The clients run in a
// child process (the test binary re-executed), so the figure is the
// gateway's alone: HeapInuse + StackInuse after GC, minus the same before
// the clients connected, divided by the connection count. Kernel socket
// buffers are not counted. GW_BENCH_HEAPPROFILE=file writes a heap profile
// taken at the measurement point.
func BenchmarkIdleConnHeap(b *testing.B) {
	n := 10000
	if lim, err := raiseNoFile(uint64(n) + 1000); err != nil || lim < uint64(n)+1000 {
		n = int(lim) - 1000
	}
	b.Logf("%d idle connections", n)
	for i := 0; i < b.N; i++ {
		s := startServer(b, nil)
		goruntime.GC()
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)

		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", idleClientsEnv, s.Addr(), n))
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) != "ok" {
			stdin.Close()
			cmd.Wait()
			b.Fatalf("client process: %q", line)
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
		if path := os.Getenv("GW_BENCH_HEAPPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		heap := float64(after.HeapInuse) - float64(before.HeapInuse)
		stack := float64(after.StackInuse) - float64(before.StackInuse)
		b.ReportMetric((heap+stack)/float64(n)/1024, "KiB/conn")
		b.ReportMetric(heap/float64(n)/1024, "heap-KiB/conn")
		b.ReportMetric(stack/float64(n)/1024, "stack-KiB/conn")
		stdin.Close()
		cmd.Wait()
	}
}
