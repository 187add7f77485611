package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fixtures under testdata/wire/frames/ are the real captures of the
// original gateway (spec/samples/frames-*.json): every frame both ways.
// Each client frame is replayed through our validator and must produce what
// the original produced: accepted, or rejected with the very same message.

type captureFrame struct {
	Dir    string          `json:"dir"`
	Kind   string          `json:"kind"`
	Data   json.RawMessage `json:"data"`
	Text   *string         `json:"text"`
	Code   int             `json:"code"`
	Reason string          `json:"reason"`
}

type capture struct {
	Scenario string         `json:"scenario"`
	Frames   []captureFrame `json:"frames"`
}

func loadCaptures(t testing.TB) map[string]capture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "wire", "frames", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	out := map[string]capture{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var c capture
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = c
	}
	return out
}

// inboundCase is one client frame and what the original answered.
type inboundCase struct {
	name      string
	raw       []byte
	malformed bool
	// wantErr is the original's validation message; "" = it passed
	// validation (the original may still have refused it for another
	// reason, e.g. "unknown method" or "protocol mismatch").
	wantErr string
	// rejectedNoMessage: the original closed without a response
	// ("invalid request frame"), so only the rejection is compared.
	rejectedNoMessage bool
}

func isValidationMessage(msg string) bool {
	return strings.HasPrefix(msg, "invalid request frame") || strings.HasPrefix(msg, "invalid connect params") ||
		(strings.HasPrefix(msg, "invalid ") && strings.Contains(msg, " params: "))
}

func inboundCases(t testing.TB) []inboundCase {
	var cases []inboundCase
	for name, c := range loadCaptures(t) {
		for i, f := range c.Frames {
			if f.Dir != "out" {
				continue
			}
			ic := inboundCase{name: name + "/" + itoa(i)}
			if f.Text != nil {
				ic.raw, ic.malformed = []byte(*f.Text), true
				cases = append(cases, ic)
				continue
			}
			ic.raw = f.Data
			var probe struct {
				ID json.RawMessage `json:"id"`
			}
			_ = json.Unmarshal(f.Data, &probe)
			wantID := string(FrameErrorID(f.Data))
			// Find the response to this frame: the next res with its id.
			found := false
			for _, g := range c.Frames[i+1:] {
				if g.Dir == "out" {
					break
				}
				if g.Dir == "close" && g.Reason == "invalid request frame" {
					ic.rejectedNoMessage, found = true, true
					break
				}
				if g.Dir != "in" {
					continue
				}
				var res struct {
					Type  string          `json:"type"`
					ID    json.RawMessage `json:"id"`
					OK    bool            `json:"ok"`
					Error *ErrorShape     `json:"error"`
				}
				if json.Unmarshal(g.Data, &res) != nil || res.Type != "res" || string(res.ID) != wantID {
					continue
				}
				found = true
				if !res.OK && res.Error != nil && isValidationMessage(res.Error.Message) {
					ic.wantErr = res.Error.Message
				}
				break
			}
			if !found {
				continue // e.g. the client closed first; nothing to compare
			}
			cases = append(cases, ic)
		}
	}
	return cases
}

func itoa(i int) string { return fmt.Sprintf("%03d", i) }

// validateInbound runs a client frame through the same steps as the
// gateway: frame schema, then connect params or method params.
func validateInbound(raw []byte) error {
	f, err := ValidateRequestFrame(raw)
	if err != nil {
		return err
	}
	if f.Method == "connect" {
		if len(f.Params) == 0 || string(f.Params) == "{}" {
			return nil // "connect is only valid as the first request" after the handshake
		}
		_, err = ValidateConnectParams(f.Params)
		return err
	}
	return ValidateParams(f.Method, f.Params)
}

func TestInboundFramesMatchOriginal(t *testing.T) {
	cases := inboundCases(t)
	var rejected, accepted, malformed int
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validateInbound(c.raw)
			switch {
			case c.malformed:
				malformed++
				if !errors.Is(err, ErrMalformedJSON) {
					t.Fatalf("malformed frame %q: err = %v, want ErrMalformedJSON", c.raw, err)
				}
			case c.rejectedNoMessage:
				rejected++
				if err == nil {
					t.Fatalf("frame %s accepted; the original rejected it", c.raw)
				}
			case c.wantErr != "":
				rejected++
				var es *ErrorShape
				if !errors.As(err, &es) {
					t.Fatalf("frame %s: err = %v, want %q", c.raw, err, c.wantErr)
				}
				if es.Code != ErrInvalidRequest || es.Message != c.wantErr {
					t.Fatalf("frame %s:\n got %s %q\nwant INVALID_REQUEST %q", c.raw, es.Code, es.Message, c.wantErr)
				}
			default:
				accepted++
				if err != nil {
					t.Fatalf("frame %s rejected (%v); the original accepted it", c.raw, err)
				}
				assertRoundTrip(t, c.raw)
			}
		})
	}
	// Guard against the fixture walk silently finding nothing.
	if accepted < 20 || rejected < 10 || malformed < 2 {
		t.Fatalf("fixture coverage too low: accepted %d, rejected %d, malformed %d", accepted, rejected, malformed)
	}
}

// assertRoundTrip decodes an accepted client frame into our types and
// re-encodes it; nothing may be lost.
func assertRoundTrip(t *testing.T, raw []byte) {
	t.Helper()
	f, err := ValidateRequestFrame(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	if f.Method == "connect" && len(f.Params) > 2 {
		p, err := ValidateConnectParams(f.Params)
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := json.Marshal(p)
		f.Params = pb
	}
	got, _ = json.Marshal(f)
	assertSameJSON(t, raw, got)
}

func assertSameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the frame:\nwant %s\n got %s", compact(want), compact(got))
	}
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	s := buf.String()
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// resultTypes maps a request method to the Go type of its result payload.
var resultTypes = map[string]any{
	"health":          &HealthSummary{},
	"status":          &StatusSummary{},
	"system-presence": &[]PresenceEntry{},
	"node.list":       &NodeListResult{},
	"system-event":    &OKResult{},
}

// eventTypes maps an event name to the Go type of its payload.
var eventTypes = map[string]any{
	EventConnectChallenge:   &ConnectChallenge{},
	EventTick:               &TickEvent{},
	EventPresence:           &PresenceEvent{},
	EventHealth:             &HealthSummary{},
	EventShutdown:           &ShutdownEvent{},
	EventDevicePairResolved: &DevicePairResolvedEvent{},
}

// TestOutboundFramesRoundTrip decodes every server frame of the captures
// into our frame and payload types and re-encodes it: every field the
// original sent must survive, with the same values. Payloads we keep raw
// (models.list, unknown methods) are compared as raw JSON.
func TestOutboundFramesRoundTrip(t *testing.T) {
	typed := 0
	for name, c := range loadCaptures(t) {
		methods := map[string]string{} // request id -> method
		for i, f := range c.Frames {
			if f.Dir == "out" && f.Data != nil {
				var r struct {
					ID     json.RawMessage `json:"id"`
					Method string          `json:"method"`
				}
				if json.Unmarshal(f.Data, &r) == nil {
					methods[string(r.ID)] = r.Method
				}
			}
			if f.Dir != "in" {
				continue
			}
			t.Run(name+"/"+itoa(i), func(t *testing.T) {
				var head struct {
					Type string `json:"type"`
				}
				if err := json.Unmarshal(f.Data, &head); err != nil {
					t.Fatal(err)
				}
				switch head.Type {
				case FrameEvent:
					var ev RawEventFrame
					if err := json.Unmarshal(f.Data, &ev); err != nil {
						t.Fatal(err)
					}
					if dst, ok := eventTypes[ev.Event]; ok {
						ev.Payload = roundTripPayload(t, ev.Payload, dst)
						typed++
					}
					out, _ := json.Marshal(ev)
					assertSameJSON(t, f.Data, out)
				case FrameRes:
					var res RawResponseFrame
					if err := json.Unmarshal(f.Data, &res); err != nil {
						t.Fatal(err)
					}
					method := methods[string(res.ID)]
					if method == "connect" && res.OK {
						res.Payload = roundTripPayload(t, res.Payload, &HelloOk{})
						typed++
					} else if dst, ok := resultTypes[method]; ok && res.OK {
						res.Payload = roundTripPayload(t, res.Payload, dst)
						typed++
					}
					out, _ := json.Marshal(res)
					assertSameJSON(t, f.Data, out)
				default:
					t.Fatalf("unexpected server frame type %q", head.Type)
				}
			})
		}
	}
	if typed < 30 {
		t.Fatalf("only %d payloads decoded into typed structs", typed)
	}
}

func roundTripPayload(t *testing.T, raw json.RawMessage, dst any) json.RawMessage {
	t.Helper()
	fresh := reflect.New(reflect.TypeOf(dst).Elem()).Interface()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a field we do not model would be lost
	if err := dec.Decode(fresh); err != nil {
		t.Fatalf("decode %T: %v\n%s", fresh, err, compact(raw))
	}
	out, err := json.Marshal(fresh)
	if err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, raw, out)
	return out
}

func TestHelloOkAdvertisesOriginalLists(t *testing.T) {
	c := loadCaptures(t)["handshake-ok"]
	for _, f := range c.Frames {
		var res RawResponseFrame
		if f.Dir != "in" || json.Unmarshal(f.Data, &res) != nil || res.ID == nil || string(res.ID) != `"pb-1"` {
			continue
		}
		var h HelloOk
		if err := json.Unmarshal(res.Payload, &h); err != nil {
			t.Fatal(err)
		}
		// Plugins (e.g. WhatsApp's web.login.*) may append methods after
		// the core list; the core list must match exactly, in order.
		core := AdvertisedMethods()
		if len(h.Features.Methods) < len(core) || !reflect.DeepEqual(h.Features.Methods[:len(core)], core) {
			t.Errorf("methods differ:\n got %v\nwant %v", core, h.Features.Methods)
		}
		if !reflect.DeepEqual(h.Features.Events, AdvertisedEvents()) {
			t.Errorf("events differ:\n got %v\nwant %v", AdvertisedEvents(), h.Features.Events)
		}
		if h.Policy != DefaultPolicy() {
			t.Errorf("policy %+v, want %+v", h.Policy, DefaultPolicy())
		}
		return
	}
	t.Fatal("hello-ok not found in the capture")
}
