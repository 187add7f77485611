package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

func TestFormatLogLine(t *testing.T) {
	ours := `{"0":"{\"subsystem\":\"gateway/ws\"}","1":{"conn":"c1"},"2":"connected","_meta":{"name":"{\"subsystem\":\"gateway/ws\"}","date":"2026-01-09T01:38:41.523Z","logLevelId":3,"logLevelName":"INFO"},"time":"2026-01-09T01:38:41.523Z","level":"info","msg":"connected"}`
	root := `{"0":"plain line","_meta":{"name":"clawdbot","logLevelName":"WARN"},"time":"2026-01-09T01:38:41.523Z"}`
	module := `{"0":"{\"module\":\"cron\",\"storePath\":\"/x\"}","1":{"enabled":false},"2":"cron: disabled","_meta":{"name":"{\"module\":\"cron\",\"storePath\":\"/x\"}","logLevelName":"INFO"},"time":"2026-11-25T16:41:20.774Z"}`
	local := time.Date(2026, 1, 9, 1, 38, 41, 0, time.UTC).Local().Format("15:04:05")
	tests := []struct {
		name, line string
		pretty     bool
		want       string
	}{
		{"subsystem line, plain", ours, false, `2026-01-09T01:38:41.523Z info gateway/ws {"conn":"c1"} connected`},
		{"subsystem line, pretty", ours, true, local + ` info gateway/ws {"conn":"c1"} connected`},
		{"root logger", root, false, "2026-01-09T01:38:41.523Z warn plain line"},
		{"module logger", module, false, `2026-11-25T16:41:20.774Z info cron {"enabled":false} cron: disabled`},
		{"not JSON is shown raw", "panic: oops", false, "panic: oops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatLogLine(tc.line, tc.pretty); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestLogsJSONMatchesOriginal replays the raw lines of a real
// `clawdbot logs --json` capture through our --json output and expects the
// same bytes, record for record.
func TestLogsJSONMatchesOriginal(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "..", "gateway", "filelog", "testdata", "original-cli-logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var res filelog.TailResult
	sc := bufio.NewScanner(bytes.NewReader(want))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		switch rec["type"] {
		case "meta":
			res.File = rec["file"].(string)
			res.Cursor = int64(rec["cursor"].(float64))
			res.Size = int64(rec["size"].(float64))
		case "log", "raw":
			res.Lines = append(res.Lines, rec["raw"].(string))
		}
	}
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb}
	if err := emitLogs(env, res, true, logsOptions{asJSON: true}, false); err != nil {
		t.Fatal(err)
	}
	gotLines := strings.Split(strings.TrimSpace(out.String()), "\n")
	wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d records, want %d", len(gotLines), len(wantLines))
	}
	for i := range wantLines {
		if gotLines[i] != wantLines[i] {
			t.Errorf("record %d differs:\n got  %.300s\n want %.300s", i, gotLines[i], wantLines[i])
		}
	}
}

func TestLogsTextAndNotices(t *testing.T) {
	res := filelog.TailResult{File: "/s/logs/gateway-2026-01-09.log", Cursor: 10, Size: 10,
		Lines: []string{"raw one"}, Truncated: true, Reset: true}
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb}
	if err := emitLogs(env, res, true, logsOptions{}, false); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Log file: /s/logs/gateway-2026-01-09.log\nraw one\n" {
		t.Errorf("stdout %q", out.String())
	}
	if errb.String() != noticeTruncated+"\n"+noticeReset+"\n" {
		t.Errorf("stderr %q", errb.String())
	}
	// Later polls do not repeat the header.
	out.Reset()
	emitLogs(env, filelog.TailResult{File: res.File, Lines: []string{"two"}}, false, logsOptions{}, false)
	if out.String() != "two\n" {
		t.Errorf("second poll %q", out.String())
	}

	out.Reset()
	emitLogs(env, res, false, logsOptions{asJSON: true}, false)
	want := `{"type":"raw","raw":"raw one"}` + "\n" +
		`{"type":"notice","message":"Log tail truncated (increase --max-bytes)."}` + "\n" +
		`{"type":"notice","message":"Log cursor reset (file rotated)."}` + "\n"
	if out.String() != want {
		t.Errorf("json notices\n got %s\nwant %s", out.String(), want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestLogsStopsOnClosedStdout(t *testing.T) {
	env := &Env{Stdout: failingWriter{}, Stderr: &bytes.Buffer{}}
	if err := emitLogs(env, filelog.TailResult{Lines: []string{"x"}}, false, logsOptions{}, false); err == nil {
		t.Error("a failed stdout write was not reported")
	}
}

// countingProxy forwards TCP connections to target and counts them, and
// the reads of client bytes it forwards: each holds at least one frame, so
// reads is a lower bound on the frames the client sent.
type countingProxy struct {
	ln    net.Listener
	conns atomic.Int32
	reads atomic.Int32
}

// countingReader counts the reads that returned data.
type countingReader struct {
	r io.Reader
	n *atomic.Int32
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.n.Add(1)
	}
	return n, err
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, countingReader{c, &p.reads})
				io.Copy(c, up)
			}()
		}
	}()
	return p
}

// `logs --follow` polls logs.tail every --interval. Opening a connection
// per poll made the gateway log "client connected" once a second, so the
// follower's own connections flooded the very log it was showing. One
// connection now serves every poll.
func TestLogsFollowKeepsOneConnection(t *testing.T) {
	f := newStatusFixture(t)
	f.serve(t, f.port)
	proxy := newCountingProxy(t, "127.0.0.1:"+strconv.Itoa(f.port))
	ctx, cancel := context.WithCancel(context.Background())
	f.env.Context = ctx
	done := make(chan int)
	go func() {
		done <- Main([]string{"logs", "--follow", "--interval", "20", "--url", "ws://" + proxy.ln.Addr().String()}, f.env)
	}()
	// The connect plus at least ten polls have gone through the proxy.
	gatewaytest.WaitFor(t, 20*time.Second, func() bool { return proxy.reads.Load() >= 11 })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, f.errb.String())
	}
	if n := proxy.conns.Load(); n != 1 {
		t.Errorf("logs --follow opened %d connections in 10 or more polls, want 1", n)
	}
}
