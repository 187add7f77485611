package gateway

import (
	"reflect"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestHandshakeOK(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	h := c.Connect(connectParams(testToken))
	if h["type"] != "hello-ok" || h["protocol"] != float64(3) {
		t.Fatalf("hello = %v", h)
	}
	pol := h["policy"].(map[string]any)
	want := map[string]any{"maxPayload": float64(524288), "maxBufferedBytes": float64(1572864), "tickIntervalMs": float64(30000)}
	if !reflect.DeepEqual(pol, want) {
		t.Fatalf("policy = %v, want %v", pol, want)
	}
	if _, ok := h["auth"]; ok {
		t.Fatalf("hello-ok.auth without a device: %v", h["auth"])
	}
	if _, ok := h["canvasHostUrl"]; ok {
		t.Fatalf("canvasHostUrl without a canvas host")
	}
	snap := h["snapshot"].(map[string]any)
	for _, k := range []string{"presence", "health", "stateVersion", "uptimeMs", "configPath", "stateDir"} {
		if _, ok := snap[k]; !ok {
			t.Errorf("snapshot lacks %s", k)
		}
	}
	methods := h["features"].(map[string]any)["methods"].([]any)
	if methods[0] != "health" {
		t.Errorf("methods[0] = %v, want health (original order)", methods[0])
	}
	for _, m := range methods {
		if !s.rt.Load().methods.Has(m.(string)) {
			t.Errorf("advertised %v is not implemented", m)
		}
	}
	res := c.Call("health", nil)
	if res["ok"] != true || res["payload"].(map[string]any)["ok"] != true {
		t.Fatalf("health = %v", res)
	}
	// health with params [] is accepted like the original.
	if res := c.Call("health", []any{}); res["ok"] != true {
		t.Fatalf("health [] = %v", res)
	}
}

func TestHandshakeFailures(t *testing.T) {
	mismatch := connectParams(testToken)
	mismatch["minProtocol"], mismatch["maxProtocol"] = 99, 99
	badClient := map[string]any{"minProtocol": 3, "maxProtocol": 3,
		"client": map[string]any{"id": "not-a-known-client", "version": "1", "platform": "linux", "mode": "cli"}}
	badRole := connectParams(testToken)
	badRole["role"] = "admin"
	cases := []struct {
		name      string
		raw       string
		frame     map[string]any
		wantCode  string // "" = no response expected
		wantMsg   string
		closeCode websocket.StatusCode
		reason    string
	}{
		{name: "first frame not connect", frame: map[string]any{"id": "pb-1", "method": "health", "params": map[string]any{}, "type": "req"},
			wantCode: "INVALID_REQUEST", wantMsg: "invalid handshake: first request must be connect",
			closeCode: 1008, reason: "invalid handshake: first request must be connect"},
		{name: "non-request first", frame: map[string]any{"type": "event", "event": "hello", "payload": map[string]any{}},
			closeCode: 1008, reason: "invalid request frame"},
		{name: "malformed json first", raw: `{"type":"req","id":"x1","method":"connect",`, closeCode: 1000, reason: ""},
		{name: "invalid connect params", frame: map[string]any{"type": "req", "id": "c1", "method": "connect", "params": badClient},
			wantCode: "INVALID_REQUEST", wantMsg: "invalid connect params: at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf",
			closeCode: 1008, reason: "invalid connect params: at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf"},
		{name: "protocol mismatch", frame: map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": mismatch},
			wantCode: "INVALID_REQUEST", wantMsg: "protocol mismatch", closeCode: 1002, reason: "protocol mismatch"},
		{name: "wrong token", frame: map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": connectParams("definitely-wrong-token")},
			wantCode: "INVALID_REQUEST", wantMsg: "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)",
			closeCode: 1008, reason: "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)"},
		{name: "no auth no device", frame: map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": connectParams("")},
			wantCode: "NOT_PAIRED", wantMsg: "device identity required", closeCode: 1008, reason: "device identity required"},
		{name: "invalid role", frame: map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": badRole},
			wantCode: "INVALID_REQUEST", wantMsg: "invalid role", closeCode: 1008, reason: "invalid role"},
	}
	s := startServer(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			if tc.raw != "" {
				c.SendRaw(tc.raw)
			} else {
				c.Send(tc.frame)
			}
			if tc.wantCode != "" {
				res := c.Read()
				if res["type"] != "res" {
					t.Fatalf("got %v, want res", res)
				}
				code, msg := errOf(t, res)
				if code != tc.wantCode || msg != tc.wantMsg {
					t.Fatalf("error = %s %q, want %s %q", code, msg, tc.wantCode, tc.wantMsg)
				}
				if tc.name == "protocol mismatch" {
					d := res["error"].(map[string]any)["details"].(map[string]any)
					if d["expectedProtocol"] != float64(3) {
						t.Fatalf("details = %v", d)
					}
				}
			}
			c.ExpectClose(tc.closeCode, tc.reason)
		})
	}
}

func TestHandshakeTimeout(t *testing.T) {
	s := startServer(t, func(o *Options) { o.HandshakeTimeout = 150 * time.Millisecond })
	c := dial(t, s)
	start := time.Now()
	c.ExpectClose(1000, "")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestBinaryConnect(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	b := `{"type":"req","id":"bin-1","method":"connect","params":{"auth":{"token":"` + testToken + `"},"client":{"id":"cli","mode":"cli","platform":"linux","version":"peerbench-1"},"maxProtocol":3,"minProtocol":3}}`
	if err := c.WS.Write(t.Context(), websocket.MessageBinary, []byte(b)); err != nil {
		t.Fatal(err)
	}
	res := c.ReadRes()
	if res["ok"] != true || res["id"] != "bin-1" {
		t.Fatalf("binary connect = %v", res)
	}
}

func TestFramesAfterConnect(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	cases := []struct {
		raw    string
		wantID any
		msg    string
	}{
		{`{"type":"req","method":"health"}`, "invalid", "invalid request frame: must have required property 'id'"},
		{`{"type":"req","id":"bad-2"}`, "bad-2", "invalid request frame: must have required property 'method'"},
		{`{"type":"req","id":"bad-3","method":""}`, "bad-3", "invalid request frame: at /method: must NOT have fewer than 1 characters"},
		{`{"type":"event","event":"tick","payload":{}}`, "invalid", "invalid request frame: must have required property 'id'; must have required property 'method'; at root: unexpected property 'event'; at root: unexpected property 'payload'; at /type: must be equal to constant"},
		{`{"type":"res","id":"bad-5","ok":true}`, "bad-5", "invalid request frame: must have required property 'method'; at root: unexpected property 'ok'; at /type: must be equal to constant"},
		{`{"type":"req","id":42,"method":"health"}`, float64(42), "invalid request frame: at /id: must be string"},
		{`{"type":"req","id":"x","method":"health","extra":1}`, "x", "invalid request frame: at root: unexpected property 'extra'"},
		{`{"type":"req","id":"u","method":"no.such.method"}`, "u", "unknown method: no.such.method"},
		{`{"type":"req","id":"c2","method":"connect","params":{}}`, "c2", "connect is only valid as the first request"},
		{`{"type":"req","id":"nd","method":"node.describe","params":{}}`, "nd", "invalid node.describe params: must have required property 'nodeId'"},
		{`{"type":"req","id":"se","method":"system-event","params":{}}`, "se", "text required"},
	}
	for _, tc := range cases {
		c.SendRaw("{not json") // ignored: no res, no close
		c.SendRaw(tc.raw)
		res := c.ReadRes()
		if res["id"] != tc.wantID {
			t.Fatalf("%s: id = %v, want %v", tc.raw, res["id"], tc.wantID)
		}
		if _, msg := errOf(t, res); msg != tc.msg {
			t.Fatalf("%s:\n got %q\nwant %q", tc.raw, msg, tc.msg)
		}
	}
	if res := c.Call("health", nil); res["ok"] != true {
		t.Fatalf("connection unusable after bad frames: %v", res)
	}
}
