package gateway

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
)

// pendingMethods are the original's advertised methods this gateway does
// not answer yet, each with the reason (README "Method coverage" lists the
// same). Everything else in the original's features.methods must reach a
// handler: a real result or a documented error, never "unknown method".
var pendingMethods = map[string]string{}

// originalMethods is features.methods of the original's hello-ok
// (testdata/wire/frames/handshake-ok.json).
func originalMethods(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/wire/frames/handshake-ok.json")
	if err != nil {
		t.Fatal(err)
	}
	var capture struct {
		Frames []struct {
			Data json.RawMessage `json:"data"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(raw, &capture); err != nil {
		t.Fatal(err)
	}
	for _, f := range capture.Frames {
		var res struct {
			Type    string `json:"type"`
			Payload struct {
				Type     string `json:"type"`
				Features struct {
					Methods []string `json:"methods"`
				} `json:"features"`
			} `json:"payload"`
		}
		if json.Unmarshal(f.Data, &res) == nil && res.Type == "res" && res.Payload.Type == "hello-ok" {
			return res.Payload.Features.Methods
		}
	}
	t.Fatal("no hello-ok in the capture")
	return nil
}

// Every method the original advertises is answered by this gateway (on a
// real listener, as an admin operator; node-only methods are looked up in
// the registry, since an operator is refused before the lookup), except
// the pending ones above.
func TestOriginalMethodsAnswered(t *testing.T) {
	methods := originalMethods(t)
	if len(methods) < 70 {
		t.Fatalf("only %d methods in the capture", len(methods))
	}
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	var unknown, nowAnswered []string
	for _, m := range methods {
		var answered bool
		res := c.Call(m, map[string]any{})
		if res["ok"] == true {
			answered = true
		} else if _, msg := errOf(t, res); msg == "unauthorized role: operator" {
			answered = s.rt.Load().methods.Has(m)
		} else {
			answered = msg != "unknown method: "+m
		}
		_, pending := pendingMethods[m]
		switch {
		case !answered && !pending:
			unknown = append(unknown, m)
		case answered && pending:
			nowAnswered = append(nowAnswered, m)
		}
	}
	if len(unknown) > 0 {
		t.Errorf("unknown method for %v; implement them or list them in pendingMethods and README", unknown)
	}
	if len(nowAnswered) > 0 {
		sort.Strings(nowAnswered)
		t.Errorf("answered now, drop from pendingMethods and README: %s", strings.Join(nowAnswered, ", "))
	}
}

// talk.mode and voicewake.set broadcast their event before the res (the
// original broadcasts, then responds): the caller sees the event first,
// and another client gets it too.
func TestVoiceEventsBeforeRes(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	other := dial(t, s)
	other.Connect(connectParams(testToken))
	for _, tc := range []struct {
		method, event string
		params        map[string]any
	}{
		{"talk.mode", "talk.mode", map[string]any{"enabled": true, "phase": "listening"}},
		{"voicewake.set", "voicewake.changed", map[string]any{"triggers": []any{"hey"}}},
	} {
		c.Send(map[string]any{"type": "req", "id": tc.method, "method": tc.method, "params": tc.params})
		var order []string
		for len(order) < 2 {
			f := c.Read()
			switch {
			case f["type"] == "event" && f["event"] == tc.event:
				order = append(order, "event")
			case f["type"] == "res" && f["id"] == tc.method:
				if f["ok"] != true {
					t.Fatalf("%s: %v", tc.method, f)
				}
				order = append(order, "res")
			}
		}
		if order[0] != "event" {
			t.Errorf("%s: order %v, want the event before the res", tc.method, order)
		}
		ev := other.ReadEvent(tc.event)
		if ev["payload"] == nil {
			t.Errorf("%s: other client got %v", tc.event, ev)
		}
	}
	if res := c.Call("voicewake.get", nil); res["payload"].(map[string]any)["triggers"].([]any)[0] != "hey" {
		t.Fatalf("voicewake.get = %v", res)
	}
}
