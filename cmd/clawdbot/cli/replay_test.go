package cli

// replayGateway is a scripted WebSocket server that answers our client with
// frames the ORIGINAL gateway sent (gateway/agent/testdata/peer/frames-*.json,
// captured from clawdbot 2026.1.24; that README explains the format). It is a
// stand-in until our own gateway implements agent and chat: it lets the CLI
// and the TUI be checked against the real shapes, orders and timings of the
// original rather than against shapes we wrote ourselves.
//
// How it replays: every recorded request ("out" frame) and the frames that
// followed it until the next request form one exchange. When our client
// sends a request, the first unused exchange of that method is played (one
// with the same sessionKey first; when all are used, the last one again),
// its frames delayed as recorded, with time divided by Speed. Normalised on
// the way out, as the README says: res ids become our request's id, the
// recorded idempotency keys (= runIds) become ours, frame seq is renumbered
// per connection, and health/tick events are dropped. The connect handshake
// is ours (a fresh challenge, the recorded hello-ok); signatures are not
// checked.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/wire"
)

// peerDir holds the original's recorded frames.
var peerDir = filepath.Join("..", "..", "..", "gateway", "agent", "testdata", "peer")

type recordedFrame struct {
	Dir   string          `json:"dir"`
	TMs   float64         `json:"t_ms"`
	Frame json.RawMessage `json:"frame"`
}

type replayReq struct {
	ID     string          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

type exchange struct {
	file    string
	req     replayReq
	t       float64 // the request's t_ms
	replies []recordedFrame
	used    bool
}

// receivedReq is one request our client sent.
type receivedReq struct {
	Method string
	Params map[string]any
}

type replayGateway struct {
	t     *testing.T
	srv   *httptest.Server
	Speed float64
	hello json.RawMessage

	mu        sync.Mutex
	exchanges []*exchange
	runIDs    map[string]string // recorded runId → ours
	received  []receivedReq
	unmatched []string
}

// newReplayGateway loads the exchanges of files (in order; the hello-ok is
// the first file's) and serves them on 127.0.0.1. skip names recorded
// request ids to leave out (e.g. a call made with the wrong session key).
func newReplayGateway(t *testing.T, speed float64, files []string, skip ...string) *replayGateway {
	t.Helper()
	g := &replayGateway{t: t, Speed: speed, runIDs: map[string]string{}}
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(peerDir, f))
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		var frames []recordedFrame
		if err := json.Unmarshal(raw, &frames); err != nil {
			t.Fatalf("replay: %s: %v", f, err)
		}
		var cur *exchange
		for _, fr := range frames {
			switch fr.Dir {
			case "out":
				var r replayReq
				if err := json.Unmarshal(fr.Frame, &r); err != nil {
					t.Fatalf("replay: %s: %v", f, err)
				}
				cur = &exchange{file: f, req: r, t: fr.TMs}
				if r.Method == "connect" || slices.Contains(skip, r.ID) {
					if r.Method == "connect" {
						cur.used = true
					} else {
						cur = nil
					}
				}
				if cur != nil && r.Method != "connect" {
					g.exchanges = append(g.exchanges, cur)
				}
			case "in":
				var head struct {
					Type  string `json:"type"`
					Event string `json:"event"`
					ID    string `json:"id"`
					OK    bool   `json:"ok"`
				}
				_ = json.Unmarshal(fr.Frame, &head)
				if head.Type == "event" && (head.Event == "health" || head.Event == "tick" || head.Event == "connect.challenge") {
					continue
				}
				if cur != nil && cur.req.Method == "connect" {
					if g.hello == nil && head.Type == "res" && head.OK {
						var res struct {
							Payload json.RawMessage `json:"payload"`
						}
						_ = json.Unmarshal(fr.Frame, &res)
						g.hello = res.Payload
					}
					continue
				}
				if cur != nil {
					cur.replies = append(cur.replies, fr)
				}
			}
		}
	}
	if g.hello == nil {
		t.Fatal("replay: no hello-ok in the recorded files")
	}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

// URL is the ws:// address of the server.
func (g *replayGateway) URL() string { return "ws" + strings.TrimPrefix(g.srv.URL, "http") }

// Received returns the requests our client sent, connect excluded.
func (g *replayGateway) Received() []receivedReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]receivedReq(nil), g.received...)
}

// Unmatched lists the methods that had no recorded answer.
func (g *replayGateway) Unmatched() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.unmatched...)
}

type replayConn struct {
	ws  *websocket.Conn
	mu  sync.Mutex
	seq int64
}

// send writes a frame; events get the next frame seq of this connection.
func (c *replayConn) send(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m map[string]json.RawMessage
	if json.Unmarshal(frame, &m) == nil {
		if string(m["type"]) == `"event"` {
			c.seq++
			m["seq"], _ = json.Marshal(c.seq)
			frame, _ = json.Marshal(m)
		}
	}
	_ = c.ws.Write(context.Background(), websocket.MessageText, frame)
}

func (g *replayGateway) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	c := &replayConn{ws: ws}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer ws.CloseNow()
	challenge, _ := json.Marshal(map[string]any{"type": "event", "event": wire.EventConnectChallenge,
		"payload": map[string]any{"nonce": wire.NewID(), "ts": time.Now().UnixMilli()}})
	c.send(challenge)
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var req replayReq
		if json.Unmarshal(data, &req) != nil || req.ID == "" {
			continue
		}
		if req.Method == "connect" {
			res, _ := json.Marshal(map[string]any{"type": "res", "id": req.ID, "ok": true, "payload": g.hello})
			c.send(res)
			continue
		}
		g.answer(ctx, c, req)
	}
}

// answer picks the exchange for req and plays it in the background, so a
// later request (chat.abort) is answered while a run still streams.
func (g *replayGateway) answer(ctx context.Context, c *replayConn, req replayReq) {
	var params map[string]any
	_ = json.Unmarshal(req.Params, &params)
	g.mu.Lock()
	g.received = append(g.received, receivedReq{Method: req.Method, Params: params})
	ex := g.pick(req.Method, params)
	if ex == nil {
		g.unmatched = append(g.unmatched, req.Method)
		g.mu.Unlock()
		res, _ := json.Marshal(map[string]any{"type": "res", "id": req.ID, "ok": false,
			"error": map[string]any{"code": wire.ErrUnavailable, "message": "replay: no recorded answer for " + req.Method}})
		c.send(res)
		return
	}
	ex.used = true
	var recParams map[string]any
	_ = json.Unmarshal(ex.req.Params, &recParams)
	if k, _ := recParams["idempotencyKey"].(string); k != "" {
		if ours, _ := params["idempotencyKey"].(string); ours != "" {
			g.runIDs[k] = ours
		}
	}
	repl := []string{`"` + ex.req.ID + `"`, mustJSON(req.ID)}
	for rec, ours := range g.runIDs {
		repl = append(repl, `"`+rec+`"`, mustJSON(ours))
	}
	g.mu.Unlock()
	replacer := strings.NewReplacer(repl...)
	start := time.Now()
	go func() {
		for _, fr := range ex.replies {
			due := time.Duration((fr.TMs - ex.t) / g.Speed * float64(time.Millisecond))
			if d := time.Until(start.Add(due)); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			}
			c.send([]byte(replacer.Replace(string(fr.Frame))))
		}
	}()
}

// pick chooses the exchange for a request (g.mu held): same method; the
// same sessionKey when some exchange has it; unused first, else the last
// one again.
func (g *replayGateway) pick(method string, params map[string]any) *exchange {
	key, _ := params["sessionKey"].(string)
	var same []*exchange
	for _, ex := range g.exchanges {
		if ex.req.Method == method {
			same = append(same, ex)
		}
	}
	if key != "" {
		var keyed []*exchange
		for _, ex := range same {
			var rec struct {
				SessionKey string `json:"sessionKey"`
			}
			if json.Unmarshal(ex.req.Params, &rec) == nil && rec.SessionKey == key {
				keyed = append(keyed, ex)
			}
		}
		if len(keyed) > 0 {
			same = keyed
		}
	}
	for _, ex := range same {
		if !ex.used {
			return ex
		}
	}
	if len(same) > 0 {
		return same[len(same)-1]
	}
	return nil
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
