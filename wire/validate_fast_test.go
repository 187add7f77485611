package wire

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkFastConnect asserts the fast-path invariants for one input: a fast
// accept is a schema accept, and the fast decode equals json.Unmarshal.
func checkFastConnect(t *testing.T, raw []byte) (fastOK bool) {
	t.Helper()
	p, ok := fastConnectParams(raw)
	if !ok {
		return false
	}
	detail, err := check("ConnectParams", raw, nil)
	if err != nil || detail != "" {
		t.Fatalf("fast path accepted %q, schema says %q / %v", raw, detail, err)
	}
	var want ConnectParams
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("fast path accepted %q, json.Unmarshal fails: %v", raw, err)
	}
	if !reflect.DeepEqual(*p, want) {
		t.Fatalf("fast path decoded %q as\n%#v\nwant\n%#v", raw, *p, want)
	}
	return true
}

// checkFastFrame is the same for request frames (params bytes included).
func checkFastFrame(t *testing.T, raw []byte) (fastOK bool) {
	t.Helper()
	f, ok := fastRequestFrame(raw)
	if !ok {
		return false
	}
	detail, err := check("RequestFrame", raw, nil)
	if err != nil || detail != "" {
		t.Fatalf("fast path accepted %q, schema says %q / %v", raw, detail, err)
	}
	var want RequestFrame
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("fast path accepted %q, json.Unmarshal fails: %v", raw, err)
	}
	if !reflect.DeepEqual(*f, want) {
		t.Fatalf("fast path decoded %q as %#v, want %#v", raw, *f, want)
	}
	return true
}

const okClient = `"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}`

// TestFastConnectParams covers the shapes the fast path must take and the
// near misses it must leave to the schema path.
func TestFastConnectParams(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		fast bool // taken by the fast path
	}{
		{"bench connect", string(benchConnect), true},
		{"minimal", `{"minProtocol":3,"maxProtocol":3,` + okClient + `}`, true},
		{"whitespace everywhere", " {\n\t\"minProtocol\" : 3 ,\"maxProtocol\":3,\r\n" + okClient + " } ", true},
		{"every field", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"clawdbot-macos","displayName":"Mac","version":"1","platform":"macos","deviceFamily":"Mac","modelIdentifier":"Mac14,2","mode":"ui","instanceId":"i"},"caps":[],"commands":["system.run"],"permissions":{"x":true,"y":false},"pathEnv":"","role":"operator","scopes":["operator.admin","operator.read"],"device":{"id":"d","publicKey":"k","signature":"s","signedAt":0,"nonce":"n"},"auth":{"token":"","password":"p"},"locale":"en","userAgent":""}`, true},
		{"empty permissions and auth", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"permissions":{},"auth":{}}`, true},
		{"non-ASCII display name", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","displayName":"Peter’s Mac","version":"1","platform":"linux","mode":"cli"}}`, true},
		{"escaped strings", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"c\u006ci","version":"1\"2","platform":"linux","mode":"cli"},"auth":{"token":"a\\b"}}`, true},
		{"escaped key", `{"min\u0050rotocol":3,"maxProtocol":3,` + okClient + `}`, true},
		{"invalid UTF-8 is replaced", "{\"minProtocol\":3,\"maxProtocol\":3," + okClient + ",\"locale\":\"\xff\"}", true},

		{"empty", ``, false},
		{"null", `null`, false},
		{"array", `[]`, false},
		{"missing client", `{"minProtocol":3,"maxProtocol":3}`, false},
		{"protocol 0", `{"minProtocol":0,"maxProtocol":3,` + okClient + `}`, false},
		{"protocol negative", `{"minProtocol":-1,"maxProtocol":3,` + okClient + `}`, false},
		{"protocol 3.0 (schema path)", `{"minProtocol":3.0,"maxProtocol":3,` + okClient + `}`, false},
		{"protocol 3e0 (schema path)", `{"minProtocol":3e0,"maxProtocol":3,` + okClient + `}`, false},
		{"protocol huge", `{"minProtocol":99999999999999999999,"maxProtocol":3,` + okClient + `}`, false},
		{"protocol string", `{"minProtocol":"3","maxProtocol":3,` + okClient + `}`, false},
		{"duplicate key", `{"minProtocol":3,"minProtocol":3,"maxProtocol":3,` + okClient + `}`, false},
		{"key in other case", `{"MinProtocol":3,"minProtocol":3,"maxProtocol":3,` + okClient + `}`, false},
		{"unknown key", `{"minProtocol":3,"maxProtocol":3,"y":1,` + okClient + `}`, false},
		{"unknown client key", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli","x":1}}`, false},
		{"client id not allowed", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"nope","version":"1","platform":"linux","mode":"cli"}}`, false},
		{"client mode not allowed", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"x"}}`, false},
		{"client missing platform", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","mode":"cli"}}`, false},
		{"client empty version", `{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"","platform":"linux","mode":"cli"}}`, false},
		{"null caps", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"caps":null}`, false},
		{"empty cap", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"caps":[""]}`, false},
		{"null device", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"device":null}`, false},
		{"null auth", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"auth":null}`, false},
		{"null token", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"auth":{"token":null}}`, false},
		{"null locale", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"locale":null}`, false},
		{"empty role", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"role":""}`, false},
		{"permission not boolean", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"permissions":{"a":1}}`, false},
		{"duplicate permission", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"permissions":{"a":true,"a":false}}`, false},
		{"device missing signedAt", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"device":{"id":"d","publicKey":"k","signature":"s"}}`, false},
		{"device signedAt negative", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"device":{"id":"d","publicKey":"k","signature":"s","signedAt":-1}}`, false},
		{"device empty nonce", `{"minProtocol":3,"maxProtocol":3,` + okClient + `,"device":{"id":"d","publicKey":"k","signature":"s","signedAt":1,"nonce":""}}`, false},
		{"trailing garbage", `{"minProtocol":3,"maxProtocol":3,` + okClient + `} x`, false},
		{"two values", `{"minProtocol":3,"maxProtocol":3,` + okClient + `}{}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := checkFastConnect(t, []byte(c.raw)); got != c.fast {
				t.Errorf("fast path took it = %v, want %v", got, c.fast)
			}
			if _, err := ValidateConnectParams(json.RawMessage(c.raw)); c.fast && err != nil {
				t.Errorf("ValidateConnectParams: %v", err)
			}
		})
	}
}

func TestFastRequestFrame(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		fast bool
	}{
		{"plain", `{"type":"req","id":"1","method":"health"}`, true},
		{"params object", `{"type":"req","id":"1","method":"m","params":{"a":[1,{"b":"}"}],"c":"\"]"}}`, true},
		{"params scalar", `{"params": 12.5e3 ,"type":"req","id":"1","method":"m"}`, true},
		{"params string", `{"type":"req","id":"1","method":"m","params":"x,}"}`, true},
		{"params null", `{"type":"req","id":"1","method":"m","params":null}`, true},
		{"params empty array", `{"type":"req","id":"1","method":"m","params":[]}`, true},
		{"escaped type", `{"type":"r\u0065q","id":"1","method":"m"}`, true},

		{"type event", `{"type":"event","id":"1","method":"m"}`, false},
		{"numeric id", `{"type":"req","id":1,"method":"m"}`, false},
		{"empty method", `{"type":"req","id":"1","method":""}`, false},
		{"missing id", `{"type":"req","method":"m"}`, false},
		{"extra key", `{"type":"req","id":"1","method":"m","x":1}`, false},
		{"duplicate type", `{"type":"req","type":"req","id":"1","method":"m"}`, false},
		{"not JSON", `{"type":"req",`, false},
		{"trailing garbage", `{"type":"req","id":"a","method":"b"} x`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := checkFastFrame(t, []byte(c.raw)); got != c.fast {
				t.Errorf("fast path took it = %v, want %v", got, c.fast)
			}
		})
	}
}

// FuzzFastPaths: on any bytes, as a frame and as connect params, the fast
// paths accept only what the schema accepts and decode exactly as
// json.Unmarshal does.
func FuzzFastPaths(f *testing.F) {
	f.Add(benchConnect)
	f.Add([]byte(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"clawdbot-macos","displayName":"Mac","version":"1","platform":"macos","deviceFamily":"Mac","modelIdentifier":"M","mode":"ui","instanceId":"i"},"caps":[],"commands":["system.run"],"permissions":{"x":true},"pathEnv":"/bin","role":"operator","scopes":["operator.admin"],"device":{"id":"d","publicKey":"k","signature":"s","signedAt":1,"nonce":"n"},"auth":{"token":"","password":"p"},"locale":"en","userAgent":"ua"}`))
	f.Add([]byte(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"c\u006ci","version":"1","platform":"linux","mode":"cli"},"caps":null}`))
	f.Add([]byte(`{"type":"req","id":"1","method":"m","params":{"a":[1,{"b":"}"}]}}`))
	f.Add([]byte(`{"type":"req","id":"pb-11","method":"system-event","params":{"text":"peerbench probe"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkFastConnect(t, raw)
		checkFastFrame(t, raw)
	})
}

// TestFastConnectCaptures runs the captured client frames' connect params
// through the fast path: every one the schema accepts must take it.
func TestFastConnectCaptures(t *testing.T) {
	n := 0
	for _, c := range inboundCases(t) {
		var fr RequestFrame
		if json.Unmarshal(c.raw, &fr) != nil || fr.Method != "connect" {
			continue
		}
		fastOK := checkFastConnect(t, fr.Params)
		detail, err := check("ConnectParams", fr.Params, nil)
		if err == nil && detail == "" && !fastOK {
			t.Errorf("%s: schema accepts connect params the fast path misses: %s", c.name, fr.Params)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no captured connect frames")
	}
	t.Logf("%d captured connects", n)
}
