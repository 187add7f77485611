package gateway

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/wire"
)

// deepFrame is a request for method whose params nest depth arrays deep.
func deepFrame(id, method string, depth int) string {
	return `{"type":"req","id":"` + id + `","method":"` + method + `","params":` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
}

// Invalid UTF-8 in a text frame closes with 1007, as the original's ws
// library does (RFC 6455 §8.1), before and after the handshake; binary
// frames are decoded leniently (the Swift apps send JSON in them).
func TestInvalidUTF8TextFrameCloses1007(t *testing.T) {
	s := startServer(t, nil)
	bad := "{\"type\":\"req\",\"id\":\"1\",\"method\":\"health\",\"params\":{\"x\":\"\xff\xfe\"}}"
	t.Run("before handshake", func(t *testing.T) {
		c := dial(t, s)
		c.SendRaw(bad)
		c.ExpectClose(closeInvalidPayload, "")
	})
	t.Run("after handshake", func(t *testing.T) {
		c := dial(t, s)
		c.Connect(connectParams(testToken))
		c.SendRaw(bad)
		c.ExpectClose(closeInvalidPayload, "")
	})
	t.Run("binary frame stays lenient", func(t *testing.T) {
		c := dial(t, s)
		c.Connect(connectParams(testToken))
		if err := c.WS.Write(context.Background(), websocket.MessageBinary, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if res := c.ReadRes(); res["id"] != "1" || res["ok"] != true {
			t.Fatalf("binary frame with invalid UTF-8: %v", res)
		}
	})
}

// A frame nested deeper than the JSON decoders go gets an INVALID_REQUEST
// response naming the limit: after the handshake the connection stays
// open, before it the connect is refused with 1008 like any invalid
// connect. Nesting within the limit is served as before.
func TestDeeplyNestedFrame(t *testing.T) {
	s := startServer(t, nil)
	t.Run("after handshake", func(t *testing.T) {
		c := dial(t, s)
		c.Connect(connectParams(testToken))
		for _, method := range []string{"health", "config.get"} {
			c.SendRaw(deepFrame("deep-"+method, method, 100_000))
			res := c.ReadRes()
			if res["id"] != "deep-"+method {
				t.Fatalf("%s: response id = %v, want the frame's id", method, res["id"])
			}
			code, msg := errOf(t, res)
			if code != wire.ErrInvalidRequest || !strings.Contains(msg, "nested deeper than") {
				t.Fatalf("%s: error = %s %q", method, code, msg)
			}
		}
		// Still connected and served; a deep-but-allowed frame works.
		c.SendRaw(deepFrame("ok", "health", maxFrameDepth-2))
		if res := c.ReadRes(); res["id"] != "ok" || res["ok"] != true {
			t.Fatalf("health within the depth limit: %v", res)
		}
	})
	t.Run("before handshake", func(t *testing.T) {
		c := dial(t, s)
		c.SendRaw(deepFrame("c1", "connect", 100_000))
		res := c.ReadRes()
		if res["id"] != "c1" {
			t.Fatalf("response id = %v", res["id"])
		}
		code, msg := errOf(t, res)
		if code != wire.ErrInvalidRequest || !strings.Contains(msg, "nested deeper than") {
			t.Fatalf("error = %s %q", code, msg)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _, err := c.WS.Read(ctx)
		if websocket.CloseStatus(err) != wire.ClosePolicyViolation {
			t.Fatalf("close = %v, want 1008", err)
		}
	})
}

// topLevelID finds the top-level "id" without decoding the frame, and
// ignores an "id" nested inside another value.
func TestTopLevelID(t *testing.T) {
	deep := strings.Repeat("[", 20) + strings.Repeat("]", 20)
	for _, tc := range []struct{ in, want string }{
		{`{"type":"req","id":"a1","params":` + deep + `}`, `"a1"`},
		{`{"params":` + deep + `, "id" : 42}`, `42`},
		{`{"params":{"id":"inner"},"id":"outer"}`, `"outer"`},
		{`{"params":{"id":"inner"}}`, `"invalid"`},
		{`{"i\u0064":"esc"}`, `"esc"`},
		{`{"id":"q\"uote"}`, `"q\"uote"`},
		{`{"id":{"x":1}}`, `"invalid"`},
		{`{"id":`, `"invalid"`},
		{`[{"id":"x"}]`, `"invalid"`},
	} {
		if got := string(topLevelID([]byte(tc.in))); got != tc.want {
			t.Errorf("topLevelID(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// BenchmarkFrameUTF8 is the cost read adds to every text frame: utf8.Valid
// over a health request, a CLI connect and a 64 KiB frame.
func BenchmarkFrameUTF8(b *testing.B) {
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"health", []byte(`{"type":"req","id":"r1","method":"health"}`)},
		{"connect", connectFrame(testToken)},
		{"64KiB", []byte(`{"type":"req","id":"r1","method":"system-event","params":{"text":"` + strings.Repeat("é", 32*1024) + `"}}`)},
	} {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(f.data)))
			for b.Loop() {
				if !utf8.Valid(f.data) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
