package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidateRequestFrame feeds arbitrary bytes through the frame, connect
// and params validators. Invariants: no panic; every rejection is an
// INVALID_REQUEST *ErrorShape with the right prefix; the fast path never
// accepts what the schema rejects.
func FuzzValidateRequestFrame(f *testing.F) {
	f.Add([]byte(`{"type":"req","id":"1","method":"health"}`))
	f.Add(benchConnect)
	f.Add([]byte(`{"type":"req","id":"c","method":"connect","params":{"minProtocol":3,"maxProtocol":3,"client":{"id":"x"}}}`))
	f.Add([]byte(`{"type":"req","id":"n","method":"node.invoke.result","params":{"id":"1","nodeId":"n","ok":true,"payloadJSON":null}}`))
	for _, fr := range capturedSeeds(f).frames {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fr, err := ValidateRequestFrame(raw)
		fast, fastOK := fastRequestFrame(raw)
		detail, schemaErr := check("RequestFrame", raw, nil)
		if fastOK && (schemaErr != nil || detail != "") {
			t.Fatalf("fast path accepted %q, schema says %q / %v", raw, detail, schemaErr)
		}
		if err != nil {
			assertInvalid(t, err, "invalid request frame: ")
			return
		}
		if fastOK && (fast.ID != fr.ID || fast.Method != fr.Method) {
			t.Fatalf("fast path decoded differently: %+v vs %+v", fast, fr)
		}
		if fr.Method == "connect" {
			if _, err := ValidateConnectParams(fr.Params); err != nil {
				assertInvalid(t, err, "invalid connect params: ")
			}
			return
		}
		if err := ValidateParams(fr.Method, fr.Params); err != nil {
			assertInvalid(t, err, "invalid "+fr.Method+" params: ")
		}
	})
}

func assertInvalid(t *testing.T, err error, prefix string) {
	t.Helper()
	var es *ErrorShape
	if !errors.As(err, &es) || es.Code != ErrInvalidRequest || !strings.HasPrefix(es.Message, prefix) {
		t.Fatalf("bad rejection %v (want INVALID_REQUEST %q…)", err, prefix)
	}
	if strings.HasSuffix(es.Message, ": ") || strings.Contains(es.Message, "unknown validation error") {
		t.Fatalf("empty detail: %q", es.Message)
	}
}

// TestFastPathAgreesWithSchema replays every captured client frame through
// both frame validators.
func TestFastPathAgreesWithSchema(t *testing.T) {
	n := 0
	for _, c := range inboundCases(t) {
		_, fastOK := fastRequestFrame(c.raw)
		detail, err := check("RequestFrame", c.raw, nil)
		schemaOK := err == nil && detail == ""
		if fastOK && !schemaOK {
			t.Errorf("%s: fast path accepts, schema rejects (%s)", c.name, detail)
		}
		var probe map[string]any
		plain := json.Unmarshal(c.raw, &probe) == nil
		if schemaOK && plain && !fastOK {
			t.Errorf("%s: schema accepts a plain frame the fast path misses", c.name)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no frames")
	}
}

// FuzzDecodeParams decodes arbitrary params of every validated method into
// its Go type, as the handlers do. Invariants: no panic; DecodeParams and
// ValidateParams agree on rejection, with an INVALID_REQUEST naming the
// method; what decodes re-encodes to JSON the schema still accepts (our own
// types never produce what we refuse).
func FuzzDecodeParams(f *testing.F) {
	var validated []Method
	for _, m := range Methods() {
		if m.Params != nil {
			validated = append(validated, m)
		}
	}
	for i := range validated {
		for _, s := range []string{``, `null`, `{}`, `[]`, `{"x":1}`, `{"limit":5001}`, `{"mode":"now","text":"t"}`,
			`{"id":"1","nodeId":"n","ok":true,"payloadJSON":{"a":1},"error":null}`, `{"raw":"{}","baseHash":"h"}`,
			`{"sessionKey":"s","message":"m","idempotencyKey":"k","timeoutMs":0}`} {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, raw []byte) {
		m := validated[int(sel)%len(validated)]
		dst := reflect.New(m.Params).Interface()
		err := DecodeParams(m.Name, raw, dst)
		verr := ValidateParams(m.Name, raw)
		if verr != nil {
			assertInvalid(t, verr, "invalid "+m.Name+" params: ")
			if err == nil || err.Error() != verr.Error() {
				t.Fatalf("%s %q: ValidateParams %v, DecodeParams %v", m.Name, raw, verr, err)
			}
			return
		}
		if err != nil {
			// Valid by the schema but not decodable into the Go type: the
			// type is narrower than its schema (e.g. an int64 overflow).
			assertInvalid(t, err, "invalid "+m.Name+" params: ")
			return
		}
		again, mErr := json.Marshal(dst)
		if mErr != nil {
			t.Fatalf("%s: re-encode %#v: %v", m.Name, dst, mErr)
		}
		if err := ValidateParams(m.Name, again); err != nil {
			t.Fatalf("%s %q decoded to %s, which the schema refuses: %v", m.Name, raw, again, err)
		}
	})
}

// FuzzFrameErrorID: the id an invalid frame is answered with is always one
// JSON value, so the error response the gateway builds from it is valid.
func FuzzFrameErrorID(f *testing.F) {
	for _, s := range []string{`{"id":"a"}`, `{"id":42}`, `{"id":null}`, `{"id":{"x":[1]}}`, `{"id":"a"`, `[]`, ``, `{"id":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		id := FrameErrorID(raw)
		if !json.Valid(id) {
			t.Fatalf("FrameErrorID(%q) = %q: not JSON", raw, id)
		}
		if _, err := json.Marshal(RawResponseFrame{Type: FrameRes, ID: id, Error: NewError(ErrInvalidRequest, "x")}); err != nil {
			t.Fatalf("response with id %q: %v", id, err)
		}
	})
}

// FuzzTruncateCloseReason: a close reason fits a close frame, is a prefix
// of the input, and never splits a UTF-8 sequence of valid input.
func FuzzTruncateCloseReason(f *testing.F) {
	f.Add("")
	f.Add("pairing required")
	f.Add(strings.Repeat("é", 100))
	f.Add(strings.Repeat("a", 119) + "€")
	f.Fuzz(func(t *testing.T, reason string) {
		got := TruncateCloseReason(reason)
		if reason == "" {
			if got != "invalid handshake" {
				t.Fatalf("empty reason became %q", got)
			}
			return
		}
		if len(got) > CloseReasonMaxBytes || !strings.HasPrefix(reason, got) {
			t.Fatalf("TruncateCloseReason(%q) = %q", reason, got)
		}
		if utf8.ValidString(reason) && !utf8.ValidString(got) {
			t.Fatalf("TruncateCloseReason(%q) split a character: %q", reason, got)
		}
	})
}
