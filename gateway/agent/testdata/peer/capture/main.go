package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

type Frame struct {
	Dir   string          `json:"dir"`
	TMs   float64         `json:"t_ms"`
	Frame json.RawMessage `json:"frame,omitempty"`
	Close *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"close,omitempty"`
	Note string `json:"note,omitempty"`
}

type parsed struct {
	Type    string          `json:"type"`
	ID      any             `json:"id"`
	OK      *bool           `json:"ok"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Error   json.RawMessage `json:"error"`
}

type Cap struct {
	ws     *websocket.Conn
	start  time.Time
	mu     sync.Mutex
	frames []Frame
	ps     []parsed
	n      int
	name   string
	done   chan struct{}
}

var (
	url      = flag.String("url", "ws://127.0.0.1:28789", "")
	token    = flag.String("token", "peer-token-0123456789", "")
	outDir   = flag.String("out", "/tmp/peercap/out", "")
	upCtl    = flag.String("upctl", "http://127.0.0.1:28902/_scenario", "")
	mode     = flag.String("mode", "drive", "drive|upstream|http")
	httpBase = flag.String("http", "http://127.0.0.1:28931", "gateway base URL (-mode http)")
	upAddr   = flag.String("upaddr", "127.0.0.1:28902", "")
	only     = flag.String("only", "", "comma list of scenarios")
	extra    = flag.Bool("extra", false, "run the second set (j-n)")
)

func (c *Cap) add(dir string, b []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := Frame{Dir: dir, TMs: ms(time.Since(c.start))}
	var p parsed
	if json.Valid(b) {
		f.Frame = append(json.RawMessage(nil), b...)
		_ = json.Unmarshal(b, &p)
	} else {
		f.Note = "non-json: " + string(b)
	}
	if dir == "out" {
		p = parsed{Type: "_out"}
	}
	c.frames = append(c.frames, f)
	c.ps = append(c.ps, p)
	return len(c.frames) - 1
}

func dial(name string) *Cap {
	c := &Cap{start: time.Now(), name: name, done: make(chan struct{})}
	http.Get(*upCtl + "?name=" + name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, *url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		log.Fatalf("%s: dial: %v", name, err)
	}
	ws.SetReadLimit(64 << 20)
	c.ws = ws
	go func() {
		defer close(c.done)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				c.mu.Lock()
				var ce websocket.CloseError
				f := Frame{Dir: "close", TMs: ms(time.Since(c.start))}
				if ok := asClose(err, &ce); ok {
					f.Close = &struct {
						Code   int    `json:"code"`
						Reason string `json:"reason"`
					}{int(ce.Code), ce.Reason}
				} else {
					f.Note = err.Error()
				}
				c.frames = append(c.frames, f)
				c.ps = append(c.ps, parsed{Type: "_close"})
				c.mu.Unlock()
				return
			}
			c.add("in", b)
		}
	}()
	c.wait(0, 5*time.Second, func(p parsed) bool { return p.Event == "connect.challenge" })
	id := c.req("connect", map[string]any{
		"minProtocol": 3, "maxProtocol": 3,
		"client": map[string]any{"id": "cli", "mode": "cli", "platform": "linux", "version": "peercap-1"},
		"role":   "operator", "scopes": []string{"operator.admin"}, "caps": []string{},
		"auth": map[string]any{"token": *token},
	})
	c.waitRes(id, 5*time.Second)
	return c
}

func asClose(err error, ce *websocket.CloseError) bool {
	s := websocket.CloseStatus(err)
	if s == -1 {
		return false
	}
	ce.Code = s
	var x websocket.CloseError
	if e, ok := err.(websocket.CloseError); ok {
		x = e
	}
	ce.Reason = x.Reason
	return true
}

func (c *Cap) req(method string, params any) string {
	c.mu.Lock()
	c.n++
	id := fmt.Sprintf("%s-%d", c.name, c.n)
	c.mu.Unlock()
	m := map[string]any{"type": "req", "id": id, "method": method}
	if params != nil {
		m["params"] = params
	}
	b, _ := json.Marshal(m)
	c.add("out", b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		log.Printf("%s: write: %v", c.name, err)
	}
	return id
}

// wait returns the index of the first frame at or after from matching pred, or -1 on timeout.
func (c *Cap) wait(from int, d time.Duration, pred func(parsed) bool) int {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i := from; i < len(c.ps); i++ {
			if pred(c.ps[i]) {
				c.mu.Unlock()
				return i
			}
		}
		c.mu.Unlock()
		time.Sleep(3 * time.Millisecond)
	}
	log.Printf("%s: wait timed out after %v", c.name, d)
	return -1
}

func (c *Cap) waitRes(id string, d time.Duration) (int, parsed) {
	i := c.wait(0, d, func(p parsed) bool { return p.Type == "res" && p.ID == id })
	if i < 0 {
		return -1, parsed{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return i, c.ps[i]
}

// waitFinalRes waits for a res with id whose payload.status is not "accepted".
func (c *Cap) waitFinalRes(id string, d time.Duration) parsed {
	var out parsed
	c.wait(0, d, func(p parsed) bool {
		if p.Type != "res" || p.ID != id {
			return false
		}
		var pl struct{ Status string }
		_ = json.Unmarshal(p.Payload, &pl)
		if pl.Status == "accepted" {
			return false
		}
		out = p
		return true
	})
	return out
}

func (c *Cap) waitChat(runID string, states []string, d time.Duration) parsed {
	var out parsed
	c.wait(0, d, func(p parsed) bool {
		if p.Type != "event" || p.Event != "chat" {
			return false
		}
		var pl struct{ RunID, State string }
		_ = json.Unmarshal(p.Payload, &pl)
		for _, s := range states {
			if pl.RunID == runID && pl.State == s {
				out = p
				return true
			}
		}
		return false
	})
	return out
}

func (c *Cap) call(method string, params any) parsed {
	id := c.req(method, params)
	_, p := c.waitRes(id, 30*time.Second)
	return p
}

func (c *Cap) finish(grace time.Duration) {
	time.Sleep(grace)
	c.ws.Close(websocket.StatusNormalClosure, "")
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, _ := json.MarshalIndent(c.frames, "", "  ")
	_ = os.WriteFile(filepath.Join(*outDir, "frames-"+c.name+".json"), append(b, '\n'), 0o644)
	log.Printf("%s: %d frames", c.name, len(c.frames))
}

func main() {
	flag.Parse()
	if *mode == "upstream" {
		os.MkdirAll(*outDir, 0o755)
		runUpstream(*upAddr, *outDir)
		return
	}
	os.MkdirAll(*outDir, 0o755)
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	if *mode == "http" {
		runHTTP(*httpBase, *token, want)
		return
	}
	if stateDir != "" {
		go watchFS(filepath.Join(stateDir, "agents", "main"))
	}
	all := scenarios
	if *extra {
		all = extraScenarios
	}
	for _, sc := range all {
		if len(want) > 0 && !want[sc.name] {
			continue
		}
		log.Printf("scenario %s", sc.name)
		t0 := time.Now()
		sc.run(sc.name)
		log.Printf("scenario %s done in %v", sc.name, time.Since(t0).Round(time.Millisecond))
	}
}

// watchFS polls the agent's sessions/ and agent/ dirs and records every file name seen, with
// first/last seen times, so short-lived lock and temp files show up.
type seen struct {
	Name    string  `json:"name"`
	FirstMs float64 `json:"first_ms"`
	LastMs  float64 `json:"last_ms"`
	Samples int     `json:"samples"`
}

func watchFS(root string) {
	t0 := time.Now()
	m := map[string]*seen{}
	var order []string
	lastWrite := time.Now()
	for {
		for _, sub := range []string{"sessions", "agent", "."} {
			ents, _ := os.ReadDir(filepath.Join(root, sub))
			for _, e := range ents {
				k := filepath.Join(sub, e.Name())
				now := ms(time.Since(t0))
				if x, ok := m[k]; ok {
					x.LastMs = now
					x.Samples++
				} else {
					m[k] = &seen{Name: k, FirstMs: now, LastMs: now, Samples: 1}
					order = append(order, k)
				}
			}
		}
		if time.Since(lastWrite) > 500*time.Millisecond {
			var out []*seen
			for _, k := range order {
				out = append(out, m[k])
			}
			b, _ := json.MarshalIndent(out, "", "  ")
			os.WriteFile(filepath.Join(*outDir, "fs-watch.json"), b, 0o644)
			lastWrite = time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
}
