package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Differential tests. The schema path (the AJV walker, which decides and
// words every rejection at run time) is the oracle of the fast paths: same
// verdict, same message, same decode. santhosh-tekuri, linked only into
// these tests, is the oracle of the walker's verdict on every schema. Both
// are held on the captured frames and on fuzzed input.

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
	walkerAgrees(t, "ConnectParams", in)
}

func diffFrame(t *testing.T, raw []byte) {
	t.Helper()
	got, gotErr := ValidateRequestFrame(raw)
	want, wantErr := schemaRequestFrame(raw)
	sameOutcome(t, raw, got, gotErr, want, wantErr)
	walkerAgrees(t, "RequestFrame", raw)
}

// FuzzConnectDifferential: ValidateConnectParams (fast path first) and the
// schema path alone accept and reject the same inputs, with the same
// message and the same decode.
func FuzzConnectDifferential(f *testing.F) {
	f.Add(benchConnect)
	for _, p := range capturedSeeds(f).connect {
		f.Add(p)
	}
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
	for _, fr := range capturedSeeds(f).frames {
		f.Add(fr)
	}
	f.Add([]byte(`{"type":"req","id":"1","method":"m","params":{"a":[1,{"b":"}"}]}}`))
	f.Add([]byte(`{"type":"req","type":"event","id":"1","method":"m"}`))
	f.Add([]byte(`{"type":"req","id":"1","method":"m"} x`))
	f.Add([]byte(`{"type":"r\u0065q","id":"","method":"m","x":1}`))
	f.Fuzz(func(t *testing.T, raw []byte) { diffFrame(t, raw) })
}

// seeds are the client frames of the captures (testdata/wire/frames, the
// original's sessions recorded by the peer tools) and the connect params
// among them, for the fuzz targets' seed corpora.
type seeds struct{ frames, connect [][]byte }

func capturedSeeds(t testing.TB) seeds {
	var s seeds
	for _, c := range inboundCases(t) {
		s.frames = append(s.frames, c.raw)
		var fr RequestFrame
		if json.Unmarshal(c.raw, &fr) == nil && fr.Method == "connect" && len(fr.Params) > 0 {
			s.connect = append(s.connect, fr.Params)
		}
	}
	if len(s.frames) == 0 || len(s.connect) == 0 {
		t.Fatal("the captures hold no client frames or no connect params")
	}
	return s
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

var (
	santhoshOnce sync.Once
	santhoshAll  map[string]*jsonschema.Schema
	santhoshErr  error
)

// santhoshSchemas compiles every embedded schema with santhosh-tekuri, an
// independent JSON Schema implementation the tests hold the walker to. It
// is linked only into the tests: at run time the walker decides alone.
func santhoshSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	santhoshOnce.Do(func() {
		c := jsonschema.NewCompiler()
		names := schemaNames(t)
		for _, name := range names {
			data, err := schemaFS.ReadFile("schema/" + name + ".json")
			if err != nil {
				santhoshErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err == nil {
				err = c.AddResource("urn:clawdbot:wire:"+name, doc)
			}
			if err != nil {
				santhoshErr = fmt.Errorf("schema %s: %w", name, err)
				return
			}
		}
		santhoshAll = map[string]*jsonschema.Schema{}
		for _, name := range names {
			sch, err := c.Compile("urn:clawdbot:wire:" + name)
			if err != nil {
				santhoshErr = fmt.Errorf("compile %s: %w", name, err)
				return
			}
			santhoshAll[name] = sch
		}
	})
	if santhoshErr != nil {
		t.Fatal(santhoshErr)
	}
	return santhoshAll
}

// asParsed rewrites every number of a santhosh-decoded document as the
// double JSON.parse would give the original, so santhosh (which compares
// exact decimals) judges the value AJV judges: 1.0000000000000001 becomes
// 1, and a literal beyond the double range becomes ±1e400, which like
// ±Infinity is an integer beyond every finite bound.
func asParsed(v any) any {
	switch x := v.(type) {
	case json.Number:
		f := jsNumber(x)
		switch {
		case math.IsInf(f, 1):
			return json.Number("1e400")
		case math.IsInf(f, -1):
			return json.Number("-1e400")
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case []any:
		for i := range x {
			x[i] = asParsed(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = asParsed(x[k])
		}
	}
	return v
}

// walkerAgrees checks one document against one schema with both engines:
// santhosh-tekuri's verdict (on the parsed value, see asParsed) must equal
// the walker's, and the walker's verdict must be "no error found".
func walkerAgrees(t *testing.T, name string, raw []byte) {
	t.Helper()
	node := func() *snode {
		all, err := loadSchemas()
		if err != nil {
			t.Fatal(err)
		}
		return all[name]
	}()
	v, err1 := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	ordered, err2 := decodeOrdered(raw)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%s %q: decoders disagree on JSON syntax: santhosh %v, ordered %v", name, raw, err1, err2)
	}
	if err1 != nil {
		return
	}
	santhoshOK := santhoshSchemas(t)[name].Validate(asParsed(v)) == nil
	var errs []ajvErr
	node.walk(ordered, "", &errs)
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
		`{"limit":1.0000000000000001,"cursor":1e400}`, `{"limit":5000.0000000000001,"maxBytes":-1e-400}`,
		`{"id":"1","nodeId":"n","ok":true,"payloadJSON":"{}"}`,
		`{"message":"hi","idempotencyKey":"k","label":"` + string(bytes.Repeat([]byte("é"), 65)) + `"}`,
		`{"sessionKey":"s","limit":0}`, `{"raw":"{}","baseHash":""}`, `{"raw":"\ud83d"}`, `{"raw":"\ud83d\ude00"}`,
		`{"deviceId":"d","role":"operator","scopes":["", 1]}`,
		string(benchConnect), string(benchFrame),
	}
	for _, s := range seeds {
		for i := range names {
			f.Add(uint8(i), []byte(s))
		}
	}
	// Every captured client frame, and its params, against every schema
	// (the params against their own schema come out among them).
	for _, c := range inboundCases(f) {
		var fr struct {
			Params json.RawMessage `json:"params"`
		}
		docs := [][]byte{c.raw}
		if json.Unmarshal(c.raw, &fr) == nil && len(fr.Params) > 0 {
			docs = append(docs, fr.Params)
		}
		for _, d := range docs {
			for i := range names {
				f.Add(uint8(i), d)
			}
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, raw []byte) {
		walkerAgrees(t, names[int(sel)%len(names)], raw)
	})
}
