package llm

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// A transcript line the original wrote (doc/messaging.md §3.4) decodes and
// re-encodes without losing a field, and a user message with string content
// reads as one text block.
func TestMessageRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, in, text string }{
		{"assistant", `{"role":"assistant","content":[{"type":"text","text":"Hello from the fake model."}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":11,"output":6,"cacheRead":0,"cacheWrite":0,"totalTokens":17,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":1796160721458}`, "Hello from the fake model."},
		{"user blocks", `{"role":"user","content":[{"type":"text","text":"hi there"}],"timestamp":1796160721453}`, "hi there"},
		{"tool call", `{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"toolCall","id":"call_1","name":"status","arguments":{"x":1}}],"stopReason":"toolUse","timestamp":1}`, "Checking."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := json.Unmarshal([]byte(tc.in), &m); err != nil {
				t.Fatal(err)
			}
			if got := m.PlainText(); got != tc.text {
				t.Errorf("PlainText = %q, want %q", got, tc.text)
			}
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			_ = json.Unmarshal([]byte(tc.in), &a)
			_ = json.Unmarshal(out, &b)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Errorf("round trip changed the message:\n in  %s\n out %s", ja, jb)
			}
		})
	}
	var m Message
	if err := json.Unmarshal([]byte(`{"role":"user","content":"plain words","timestamp":5}`), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Content) != 1 || m.Content[0].Type != ContentText || m.PlainText() != "plain words" || m.Timestamp != 5 {
		t.Errorf("string content: %+v", m)
	}
	if err := json.Unmarshal([]byte(`{"role":"user","content":7}`), &m); err == nil {
		t.Error("numeric content accepted")
	}
}

func TestErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		kind            string
		retry, failover bool
	}{
		{KindAuth, false, true}, {KindRateLimit, true, true}, {KindServer, true, true}, {KindNetwork, true, true},
		{KindBadRequest, false, true}, {KindConfig, false, true}, {KindTimeout, false, false}, {KindAborted, false, false},
	} {
		e := &Error{Kind: tc.kind}
		if e.Retryable() != tc.retry || e.Failover() != tc.failover {
			t.Errorf("%s: retryable %v failover %v, want %v %v", tc.kind, e.Retryable(), e.Failover(), tc.retry, tc.failover)
		}
	}
	e := &Error{Kind: KindRateLimit, Status: 429, Message: "slow down", RetryAfter: time.Second, Fix: "wait"}
	if e.Error() != "429 slow down (wait)" {
		t.Errorf("Error() = %q", e.Error())
	}
	wrapped := AsError(errors.New("boom"))
	if wrapped.Kind != KindServer || wrapped.Error() != "boom" {
		t.Errorf("AsError = %+v", wrapped)
	}
	if AsError(e) != e {
		t.Error("AsError did not find the *Error")
	}
}
