package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Differential tests: the schema path (santhosh-tekuri for the verdict, the
// AJV walker for the text) is the oracle; the fast paths and the walker's
// own verdict are held to it on the captured frames and on fuzzed input.

// sameOutcome fails unless the two results of one validator pair agree:
// both accept with equal decodes, or both reject with the same code and
// message (and the same malformed-JSON classification).
func sameOutcome[T any](t *testing.T, raw []byte, got *T, gotErr error, want *T, wantErr error) {
	t.Helper()
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: fast+schema says %v, schema alone says %v", raw, gotErr, wantErr)
	}
	if wantErr != nil {
		var g, w *ErrorShape
		if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || g.Code != w.Code || g.Message != w.Message {
			t.Fatalf("%q: rejections differ:\n got %v\nwant %v", raw, gotErr, wantErr)
		}
		if errors.Is(gotErr, ErrMalformedJSON) != errors.Is(wantErr, ErrMalformedJSON) {
			t.Fatalf("%q: malformed-JSON classification differs: %v vs %v", raw, gotErr, wantErr)
		}
		return
	}
	if !reflect.DeepEqual(*got, *want) {
		t.Fatalf("%q: decodes differ:\n got %#v\nwant %#v", raw, *got, *want)
	}
}

func diffConnect(t *testing.T, raw []byte) {
	t.Helper()
	got, gotErr := ValidateConnectParams(raw)
	in := raw
	if len(bytes.TrimSpace(in)) == 0 {
		in = []byte("{}")
	}
	want, wantErr := schemaConnectParams(in)
	sameOutcome(t, raw, got, gotErr, want, wantErr)
}

func diffFrame(t *testing.T, raw []byte) {
	t.Helper()
	got, gotErr := ValidateRequestFrame(raw)
	want, wantErr := schemaRequestFrame(raw)
	sameOutcome(t, raw, got, gotErr, want, wantErr)
}

// FuzzConnectDifferential: ValidateConnectParams (fast path first) and the
// schema path alone accept and reject the same inputs, with the same
// message and the same decode.
func FuzzConnectDifferential(f *testing.F) {
	f.Add(benchConnect)
	f.Add([]byte(``))
	f.Add([]byte(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"caps":[""]}`))
	f.Add([]byte(`{"minProtocol":3.0,"maxProtocol":3,"client":{"id":"c\u006ci","version":"1","platform":"linux","mode":"cli"},"auth":null}`))
	f.Add([]byte(`{"minProtocol":3,"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}`))
	f.Add([]byte(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"permissions":{"a":true,"a":1}}`))
	f.Fuzz(func(t *testing.T, raw []byte) { diffConnect(t, raw) })
}

// FuzzFrameDifferential is the same for request frames.
func FuzzFrameDifferential(f *testing.F) {
	f.Add(benchFrame)
	f.Add([]byte(`{"type":"req","id":"1","method":"m","params":{"a":[1,{"b":"}"}]}}`))
	f.Add([]byte(`{"type":"req","type":"event","id":"1","method":"m"}`))
	f.Add([]byte(`{"type":"req","id":"1","method":"m"} x`))
	f.Add([]byte(`{"type":"r\u0065q","id":"","method":"m","x":1}`))
	f.Fuzz(func(t *testing.T, raw []byte) { diffFrame(t, raw) })
}

// TestDifferentialCaptures runs every captured client frame (and its
// connect params) through both pairs.
func TestDifferentialCaptures(t *testing.T) {
	for _, c := range inboundCases(t) {
		diffFrame(t, c.raw)
		var fr RequestFrame
		if json.Unmarshal(c.raw, &fr) == nil && fr.Method == "connect" {
			diffConnect(t, fr.Params)
		}
	}
}

// schemaNames are the embedded schema names, sorted, so a fuzz input can
// pick one by index.
func schemaNames(t testing.TB) []string {
	all, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// walkerAgrees checks one document against one schema with both engines:
// santhosh-tekuri's verdict must equal "the AJV walker found no error", so
// check never falls back to santhosh's own (non-AJV) wording and the walker
// never reports an error on a valid value.
func walkerAgrees(t *testing.T, name string, raw []byte) {
	t.Helper()
	all, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c := all[name]
	v, err1 := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	ordered, err2 := decodeOrdered(raw)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%s %q: decoders disagree on JSON syntax: santhosh %v, ordered %v", name, raw, err1, err2)
	}
	if err1 != nil {
		return
	}
	santhoshOK := c.sch.Validate(v) == nil
	var errs []ajvErr
	c.node.walk(ordered, "", &errs)
	if santhoshOK != (len(errs) == 0) {
		t.Fatalf("%s %q: santhosh valid=%v, walker errors %q", name, raw, santhoshOK, formatAJV(errs))
	}
}

// FuzzWalkerAgreesWithSchema holds the AJV walker's verdict equal to
// santhosh-tekuri's on every embedded schema.
func FuzzWalkerAgreesWithSchema(f *testing.F) {
	names := schemaNames(f)
	seeds := []string{
		`{}`, `null`, `[]`, `1`, `"x"`, `{"x":1}`,
		`{"mode":"now","text":"t"}`, `{"mode":"later","text":""}`,
		`{"limit":5001,"cursor":-1}`, `{"limit":1.5}`, `{"limit":2.0}`,
		`{"id":"1","nodeId":"n","ok":true,"payloadJSON":"{}"}`,
		`{"message":"hi","idempotencyKey":"k","label":"` + string(bytes.Repeat([]byte("é"), 65)) + `"}`,
		`{"sessionKey":"s","limit":0}`, `{"raw":"{}","baseHash":""}`,
		`{"deviceId":"d","role":"operator","scopes":["", 1]}`,
		string(benchConnect), string(benchFrame),
	}
	for i := range names {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, raw []byte) {
		walkerAgrees(t, names[int(sel)%len(names)], raw)
	})
}
