package wire

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// stringCases are strings json.Marshal escapes in each of its ways.
var stringCases = []string{"", "plain", `q"b\s`, "<a&b>", "\b\f\n\r\t\x00\x1f\x7f", "é😀", "line\u2028sep\u2029", "bad\xffutf8\xc3", "\xe2\x80", "日本語"}

func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, s := range stringCases {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendRawMatchesMarshal(t *testing.T) {
	for _, raw := range []string{`{"a":1}`, "{ \"a\" : [1, 2,\n 3] }", `{"h":"<&>\u2028"}`, "\"x\u2029y\"", `5`, `null`} {
		want, _ := json.Marshal(json.RawMessage(raw))
		for _, prefix := range []string{"", "prefix:"} {
			dst := make([]byte, 0, 64)
			got, err := AppendRaw(append(dst, prefix...), json.RawMessage(raw))
			if err != nil || string(got) != prefix+string(want) {
				t.Errorf("AppendRaw(%q, %s) = %s %v, want %s", prefix, raw, got, err, want)
			}
		}
	}
	if got, err := AppendRaw([]byte("x"), json.RawMessage(`{bad`)); err == nil || string(got) != "x" {
		t.Errorf("AppendRaw of invalid JSON = %s, %v", got, err)
	}
}

// TestSessionRowAppendJSONMatchesMarshal is the differential test of the
// hand-ordered encoder: random rows (every field present or absent,
// strings drawn from stringCases) encode as json.Marshal encodes them.
func TestSessionRowAppendJSONMatchesMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		return stringCases[rng.IntN(len(stringCases))]
	}
	num := func() *int64 {
		if rng.IntN(2) == 0 {
			return nil
		}
		n := rng.Int64N(1<<40) - 1<<20
		return &n
	}
	boo := func() *bool {
		if rng.IntN(2) == 0 {
			return nil
		}
		b := rng.IntN(2) == 0
		return &b
	}
	raw := func() json.RawMessage {
		return [...]json.RawMessage{nil, json.RawMessage(`{"channel":"telegram","to":"<1>"}`), json.RawMessage(`{ "label" : "x" }`), json.RawMessage(`"s"`)}[rng.IntN(4)]
	}
	for range 2000 {
		r := SessionRow{Key: str(), Kind: str(), Label: str(), DisplayName: str(), Channel: str(), Subject: str(), GroupChannel: str(),
			Space: str(), ChatType: str(), Origin: raw(), UpdatedAt: num(), SessionID: str(), SystemSent: boo(), AbortedLastRun: boo(),
			ThinkingLevel: str(), VerboseLevel: str(), ReasoningLevel: str(), ElevatedLevel: str(), SendPolicy: str(),
			InputTokens: num(), OutputTokens: num(), TotalTokens: rng.Int64(), ResponseUsage: str(), ModelProvider: str(), Model: str(),
			ContextTokens: num(), DeliveryContext: raw(), LastChannel: str(), LastTo: str(), LastAccountID: str(),
			DerivedTitle: str(), LastMessagePreview: str()}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.AppendJSON(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON = %s %v\n  Marshal = %s", got, err, want)
		}
		d := SessionsDefaults{ModelProvider: ptrOr(str()), Model: ptrOr(str()), ContextTokens: num()}
		want, _ = json.Marshal(d)
		if got, _ := d.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("defaults AppendJSON = %s, Marshal = %s", got, want)
		}
	}
}

func ptrOr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func TestAppendPayload(t *testing.T) {
	r := &SessionRow{Key: "k", Kind: "direct"}
	a, _ := AppendPayload([]byte("x"), r)
	m, _ := AppendPayload([]byte("x"), *r) // not an appender: json.Marshal
	if !bytes.Equal(a, m) || string(a) != `x{"key":"k","kind":"direct","updatedAt":null,"totalTokens":0}` {
		t.Errorf("AppendPayload = %s / %s", a, m)
	}
}
