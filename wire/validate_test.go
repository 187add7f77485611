package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Messages below follow AJV's rules (allErrors; keyword order: type-
// independent keywords, then the number/string/array/object groups;
// required, then additionalProperties in data order, then properties in
// schema order) and the original's formatValidationErrors.
func TestValidateMessages(t *testing.T) {
	longLabel := strings.Repeat("é", 65)
	cases := []struct {
		name string
		fn   func() error
		want string // "" = valid
	}{
		{"connect missing client", connect(`{"minProtocol":3,"maxProtocol":3}`),
			"invalid connect params: must have required property 'client'"},
		{"connect protocol below minimum", connect(`{"minProtocol":0,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}`),
			"invalid connect params: at /minProtocol: must be >= 1"},
		{"connect protocol as string", connect(`{"minProtocol":"3","maxProtocol":3.5,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}`),
			"invalid connect params: at /minProtocol: must be integer; at /maxProtocol: must be integer"},
		{"unknown properties at two levels", connect(`{"minProtocol":3,"maxProtocol":3,"y":2,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli","x":1}}`),
			"invalid connect params: at root: unexpected property 'y'; at /client: unexpected property 'x'"},
		{"permissions value not boolean", connect(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"permissions":{"camera":"yes"}}`),
			"invalid connect params: at /permissions/camera: must be boolean"},
		{"empty cap", connect(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"caps":["",""]}`),
			"invalid connect params: at /caps/0: must NOT have fewer than 1 characters; at /caps/1: must NOT have fewer than 1 characters"},
		{"mode of wrong type", connect(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":5}}`),
			"invalid connect params: at /client/mode: must be string; at /client/mode: must be equal to constant; at /client/mode: must match a schema in anyOf"},
		{"client missing fields", connect(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli"}}`),
			"invalid connect params: at /client: must have required property 'version'; at /client: must have required property 'platform'; at /client: must have required property 'mode'"},
		{"device block incomplete", connect(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"device":{"id":"x","signedAt":-1}}`),
			"invalid connect params: at /device: must have required property 'publicKey'; at /device: must have required property 'signature'; at /device/signedAt: must be >= 0"},
		{"valid full connect", connect(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"clawdbot-macos","displayName":"Mac","version":"1","platform":"macos","mode":"ui","instanceId":"i"},"caps":[],"commands":["system.run"],"permissions":{"x":true},"pathEnv":"/bin","role":"operator","scopes":["operator.admin"],"device":{"id":"d","publicKey":"k","signature":"s","signedAt":1,"nonce":"n"},"auth":{"token":"","password":"p"},"locale":"en","userAgent":"ua"}`),
			""},
		{"wake enum and minLength", params("wake", `{"mode":"later","text":""}`),
			"invalid wake params: at /mode: must be equal to constant; at /mode: must match a schema in anyOf; at /text: must NOT have fewer than 1 characters"},
		{"logs.tail maximum", params("logs.tail", `{"limit":5001}`), "invalid logs.tail params: at /limit: must be <= 5000"},
		{"logs.tail valid", params("logs.tail", `{"cursor":0,"limit":200,"maxBytes":250000}`), ""},
		{"agent label counts characters, not bytes", params("agent", `{"message":"hi","idempotencyKey":"k","label":"`+longLabel+`"}`),
			"invalid agent params: at /label: must NOT have more than 64 characters"},
		{"agent label of 64 two-byte characters is fine", params("agent", `{"message":"hi","idempotencyKey":"k","label":"`+longLabel[2:]+`"}`), ""},
		{"node.list rejects an array", params("node.list", `[]`), "invalid node.list params: must be object"},
		{"node.list absent params count as {}", params("node.list", ``), ""},
		{"node.describe null params count as {}", params("node.describe", `null`), "invalid node.describe params: must have required property 'nodeId'"},
		{"send required in schema order", params("send", `{"message":"m"}`),
			"invalid send params: must have required property 'to'; must have required property 'idempotencyKey'"},
		{"health is not validated", params("health", `[]`), ""},
		{"unknown method is not validated here", params("no.such.method", `{"x":1}`), ""},
		{"node.invoke.result tolerates nulls", params("node.invoke.result", `{"id":"1","nodeId":"n","ok":true,"payloadJSON":null,"error":null}`), ""},
		{"node.invoke.result moves non-string payloadJSON", params("node.invoke.result", `{"id":"1","nodeId":"n","ok":true,"payloadJSON":{"a":1}}`), ""},
		{"node.invoke.result still strict", params("node.invoke.result", `{"id":"1","nodeId":"n","ok":"yes","extra":1}`),
			"invalid node.invoke.result params: at root: unexpected property 'extra'; at /ok: must be boolean"},
		{"chat.history limit bounds", params("chat.history", `{"sessionKey":"s","limit":0}`), "invalid chat.history params: at /limit: must be >= 1"},
		{"config.set raw required", params("config.set", `{"baseHash":""}`),
			"invalid config.set params: must have required property 'raw'; at /baseHash: must NOT have fewer than 1 characters"},
		{"frame with trailing garbage is malformed", frame(`{"type":"req","id":"a","method":"b"} x`), "invalid request frame: malformed JSON"},
		{"frame type of wrong type", frame(`{"type":1,"id":"a","method":"b"}`), "invalid request frame: at /type: must be string; at /type: must be equal to constant"},
		{"frame null", frame(`null`), "invalid request frame: must be object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.fn()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var es *ErrorShape
			if !errors.As(err, &es) {
				t.Fatalf("err = %v (%T), want *ErrorShape", err, err)
			}
			if es.Code != ErrInvalidRequest {
				t.Errorf("code %s", es.Code)
			}
			if strings.HasSuffix(c.want, "malformed JSON") {
				if !errors.Is(err, ErrMalformedJSON) || !strings.HasPrefix(es.Message, c.want) {
					t.Fatalf("got %q, want malformed", es.Message)
				}
				return
			}
			if es.Message != c.want {
				t.Fatalf("\n got %q\nwant %q", es.Message, c.want)
			}
		})
	}
}

func connect(raw string) func() error {
	return func() error { _, err := ValidateConnectParams(json.RawMessage(raw)); return err }
}
func params(method, raw string) func() error {
	return func() error { return ValidateParams(method, json.RawMessage(raw)) }
}
func frame(raw string) func() error {
	return func() error { _, err := ValidateRequestFrame([]byte(raw)); return err }
}

func TestDecodeParamsNormalises(t *testing.T) {
	var p NodeInvokeResultParams
	err := DecodeParams("node.invoke.result", json.RawMessage(`{"id":"1","nodeId":"n","ok":true,"payloadJSON":{"a":1},"error":null}`), &p)
	if err != nil {
		t.Fatal(err)
	}
	if p.PayloadJSON != nil || string(p.Payload) != `{"a":1}` || p.Error != nil {
		t.Fatalf("not normalised: %+v payload=%s", p, p.Payload)
	}
	var lt LogsTailParams
	if err := DecodeParams("logs.tail", nil, &lt); err != nil || lt.Limit != nil {
		t.Fatalf("absent params: %v %+v", err, lt)
	}
	if err := DecodeParams("logs.tail", json.RawMessage(`{"limit":-1}`), &lt); err == nil {
		t.Fatal("invalid params decoded")
	}
}

func TestFrameErrorID(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"req","id":42}`:      `42`,
		`{"type":"req","id":"a"}`:     `"a"`,
		`{"type":"req","method":"x"}`: `"invalid"`,
		`[1,2]`:                       `"invalid"`,
		`{"id":null}`:                 `"invalid"`,
	} {
		if got := string(FrameErrorID([]byte(in))); got != want {
			t.Errorf("FrameErrorID(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestAuthorize(t *testing.T) {
	cases := []struct {
		method, role string
		scopes       []string
		want         string
	}{
		{"health", RoleNode, nil, ""},
		{"health", "", nil, ""},
		{"status", RoleNode, nil, "unauthorized role: node"},
		{"node.event", RoleNode, nil, ""},
		{"skills.bins", RoleNode, nil, ""},
		{"node.invoke.result", RoleOperator, []string{ScopeAdmin}, "unauthorized role: operator"},
		{"config.get", RoleOperator, []string{ScopeAdmin}, ""},
		{"no.such.method", RoleOperator, []string{ScopeRead, ScopeWrite}, "missing scope: operator.admin"},
		{"status", RoleOperator, []string{ScopeWrite}, ""},
		{"status", "", []string{ScopeRead}, ""},
		{"status", RoleOperator, []string{ScopeApprovals}, "missing scope: operator.read"},
		{"send", RoleOperator, []string{ScopeRead}, "missing scope: operator.write"},
		{"chat.send", RoleOperator, []string{ScopeWrite}, ""},
		{"node.pair.list", RoleOperator, []string{ScopePairing}, ""},
		{"device.pair.approve", RoleOperator, []string{ScopeWrite}, "missing scope: operator.pairing"},
		{"exec.approval.request", RoleOperator, []string{ScopeApprovals}, ""},
		{"exec.approvals.get", RoleOperator, []string{ScopeApprovals}, "missing scope: operator.admin"},
		{"system-event", RoleOperator, []string{ScopeWrite}, "missing scope: operator.admin"},
		{"connect", RoleOperator, []string{ScopeRead}, "missing scope: operator.admin"},
		{"status", "admin", []string{ScopeAdmin}, "unauthorized role: admin"},
	}
	for _, c := range cases {
		err := Authorize(c.method, c.role, c.scopes)
		got := ""
		if err != nil {
			got = err.Message
			if err.Code != ErrInvalidRequest {
				t.Errorf("%s: code %s", c.method, err.Code)
			}
		}
		if got != c.want {
			t.Errorf("Authorize(%s, %q, %v) = %q, want %q", c.method, c.role, c.scopes, got, c.want)
		}
	}
}

func TestMethodScopeAndEvents(t *testing.T) {
	for m, want := range map[string]Scope{
		"health": OpenScope, "logs.tail": ReadScope, "chat.history": ReadScope, "node.invoke": WriteScope,
		"node.rename": PairingScope, "exec.approval.resolve": ApprovalsScope, "node.event": NodeScope,
		"config.patch": AdminScope, "whatever": AdminScope, "poll": AdminScope,
	} {
		if got := MethodScope(m); got != want {
			t.Errorf("MethodScope(%s) = %s, want %s", m, got, want)
		}
	}
	if _, ok := LookupMethod("chat.inject"); !ok {
		t.Error("hidden method not found")
	}
	for _, m := range AdvertisedMethods() {
		if m == "connect" || m == "poll" || m == "chat.inject" || m == "sessions.resolve" {
			t.Errorf("hidden method %s advertised", m)
		}
	}
	if !CanReceiveEvent(EventTick, RoleNode, nil) || CanReceiveEvent(EventDevicePairResolved, RoleNode, nil) ||
		!CanReceiveEvent(EventDevicePairResolved, RoleOperator, []string{ScopePairing}) ||
		CanReceiveEvent(EventExecApprovalRequested, RoleOperator, []string{ScopePairing}) ||
		!CanReceiveEvent(EventExecApprovalResolved, RoleOperator, []string{ScopeAdmin}) {
		t.Error("event filtering does not follow spec §3.1")
	}
}

var benchFrame = []byte(`{"type":"req","id":"pb-11","method":"system-event","params":{"text":"peerbench probe"}}`)
var benchConnect = []byte(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","mode":"cli","platform":"linux","version":"peerbench-1"},"auth":{"token":"peer-token-0123456789"},"caps":[],"role":"operator","scopes":["operator.admin"],"device":{"id":"7142568f1b1bdb29c76e03317c7aa8cb943f33468260b7b347f8a20e3912ce96","nonce":"ffb53134-78b9-4f87-8920-a51210250368","publicKey":"hNyxn7dlonYMh5CiuRvS0nIguzlMi_9uu0Rb_kKDdr4","signature":"OKEF6QkKOukvbIEuc9MJ3nzH5ut_-fwQyAmVZuE3ZSA2_j7bgbYtmbY5W0x039cSCYj-Phx16aQIhmhTU-HSAQ","signedAt":1795625155686}}`)

// BenchmarkValidateRequestFrame compares the hand-written fast path with
// the schema path it must agree with, on a typical well-formed frame.
func BenchmarkValidateRequestFrame(b *testing.B) {
	for _, v := range []struct {
		name string
		fn   func([]byte) (*RequestFrame, error)
	}{{"fast", ValidateRequestFrame}, {"schema", schemaRequestFrame}} {
		b.Run(v.name, func(b *testing.B) {
			if _, ok := fastRequestFrame(benchFrame); !ok {
				b.Fatal("the fast path does not take the bench frame")
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.fn(benchFrame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidateFrameAndParams(b *testing.B) {
	raw := []byte(`{"type":"req","id":"7","method":"logs.tail","params":{"cursor":12694,"limit":200,"maxBytes":250000}}`)
	b.ReportAllocs()
	for b.Loop() {
		f, err := ValidateRequestFrame(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := ValidateParams(f.Method, f.Params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateConnect compares the fast path with the schema path on
// the connect params a real CLI sends (device block, token, scopes): the
// gateway validates one per connection.
func BenchmarkValidateConnect(b *testing.B) {
	for _, v := range []struct {
		name string
		fn   func(json.RawMessage) (*ConnectParams, error)
	}{{"fast", ValidateConnectParams}, {"schema", schemaConnectParams}} {
		b.Run(v.name, func(b *testing.B) {
			if _, ok := fastConnectParams(benchConnect); !ok {
				b.Fatal("the fast path does not take the bench connect")
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.fn(benchConnect); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidateInvalidFrame(b *testing.B) {
	raw := []byte(`{"type":"event","event":"tick","payload":{}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ValidateRequestFrame(raw); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkValidateParams measures ValidateParams alone on typical params
// of two methods the gateway validates on every call: node.invoke (nested
// free-form params) and config.set (a config file as one string), plus one
// rejection (which builds the AJV-style message).
func BenchmarkValidateParams(b *testing.B) {
	for _, c := range []struct {
		name, method, params string
		valid                bool
	}{
		{"node.invoke", "node.invoke", `{"nodeId":"mac-studio","command":"canvas.snapshot","params":{"format":"png","maxWidth":1024,"quality":0.9,"tags":["a","b"]},"timeoutMs":30000,"idempotencyKey":"0f3c2a5e-3c1d-4a59-9a55-9d1f1d2c7b11"}`, true},
		{"config.set", "config.set", `{"raw":"{\n  \"gateway\": {\"port\": 18789, \"auth\": {\"token\": \"t\"}},\n  \"agents\": {\"defaults\": {\"model\": \"anthropic/claude-sonnet-4\"}}\n}\n","baseHash":"5d41402abc4b2a76b9719d911017c592"}`, true},
		{"invalid", "node.invoke", `{"nodeId":"","command":"x","timeoutMs":-1,"extra":true}`, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			raw := json.RawMessage(c.params)
			if err := ValidateParams(c.method, raw); (err == nil) != c.valid {
				b.Fatalf("ValidateParams = %v, want valid=%v", err, c.valid)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = ValidateParams(c.method, raw)
			}
		})
	}
}
