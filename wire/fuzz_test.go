package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
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
