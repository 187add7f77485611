package gateway

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

var cliScopes = []string{"operator.admin", "operator.approvals", "operator.pairing"}

// device.pair.list carries the original's keys in its order: pending
// first, a paired device's record with remoteIp (loopback included, as in
// the capture) and its tokens summarised last, lastUsedAtMs set by a
// connect that used the device token (testdata/captures/cli-devices-list.json
// is `clawdbot devices list --json` after the CLI's first calls).
func TestDevicePairListMatchesCapture(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 21)
	c := dial(t, s)
	h := c.Connect(signedParams(id, testToken, c.Nonce, cliScopes, time.Now().UnixMilli()))
	tok := h["auth"].(map[string]any)["deviceToken"].(string)
	c2 := dial(t, s) // the CLI's next call presents the device token
	c2.Connect(signedParams(id, tok, c2.Nonce, cliScopes, time.Now().UnixMilli()))

	want, err := os.ReadFile(filepath.Join("testdata", "captures", "cli-devices-list.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := rawPayload(t, c2, "device.pair.list")
	if w, g := keyPaths(t, want), keyPaths(t, got); !slices.Equal(w, g) {
		t.Fatalf("keys differ from the capture\n got: %v\nwant: %v\n%s", g, w, got)
	}
	if !strings.Contains(string(got), `"remoteIp":"127.0.0.1"`) {
		t.Fatalf("remoteIp: %s", got)
	}
}

// A remote device's request, approved and rejected through device.pair.*:
// the results are {requestId, device} and {requestId, deviceId}, a device
// without a token has no tokens key, unknown ids are refused.
func TestDevicePairApproveRejectResults(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.IsLocal = func(r *http.Request) bool { return r.Header.Get("X-Test-Remote") == "" }
	})
	op := dial(t, s)
	op.Connect(connectParams(testToken))
	request := func(seed byte) string {
		ws, _, err := websocket.Dial(t.Context(), "ws://"+s.Addr().String(), &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-Remote": {"1"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		r := gatewaytest.Wrap(t, ws)
		r.Nonce = r.Read()["payload"].(map[string]any)["nonce"].(string)
		r.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(newIdentity(t, seed), testToken, r.Nonce, cliScopes, time.Now().UnixMilli())})
		res := r.ReadRes()
		return res["error"].(map[string]any)["details"].(map[string]any)["requestId"].(string)
	}
	req1, req2 := request(22), request(23)

	list := rawPayload(t, op, "device.pair.list")
	if k := keyPaths(t, list); !slices.Equal(k[:3], []string{".pending", ".pending[].requestId", ".pending[].deviceId"}) {
		t.Fatalf("list keys = %v", k)
	}
	res := op.Call("device.pair.approve", map[string]any{"requestId": req1})
	dev := res["payload"].(map[string]any)["device"].(map[string]any)
	if res["payload"].(map[string]any)["requestId"] != req1 || dev["deviceId"] != newIdentity(t, 22).DeviceID() ||
		dev["publicKey"] == nil || dev["approvedAtMs"] == nil {
		t.Fatalf("approve = %v", res)
	}
	if _, has := dev["tokens"]; has {
		t.Fatalf("device without a token has tokens: %v", dev)
	}
	res = op.Call("device.pair.reject", map[string]any{"requestId": req2})
	if p := res["payload"].(map[string]any); len(p) != 2 || p["requestId"] != req2 || p["deviceId"] != newIdentity(t, 23).DeviceID() {
		t.Fatalf("reject = %v", res)
	}
	for _, m := range []string{"device.pair.approve", "device.pair.reject"} {
		if _, msg := errOf(t, op.Call(m, map[string]any{"requestId": req2})); msg != "unknown requestId" {
			t.Errorf("%s unknown: %q", m, msg)
		}
	}
}

// device.token.rotate and device.token.revoke (doc/protocol.md §3.6): rotate returns
// the new token and the old one stops working; revoke refuses the token
// until a connect with the shared token issues a new one. Both are
// advertised in features.methods.
func TestDeviceTokenRotateRevoke(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 24)
	op := dial(t, s)
	h := op.Connect(signedParams(id, testToken, op.Nonce, cliScopes, time.Now().UnixMilli()))
	methods := h["features"].(map[string]any)["methods"].([]any)
	if !slices.Contains(methods, any("device.token.rotate")) || !slices.Contains(methods, any("device.token.revoke")) {
		t.Fatalf("token methods not advertised: %v", methods)
	}
	old := h["auth"].(map[string]any)["deviceToken"].(string)

	tryToken := func(tok string) (bool, string) {
		c := dial(t, s)
		c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(id, tok, c.Nonce, cliScopes, time.Now().UnixMilli())})
		res := c.ReadRes()
		if res["ok"] == true {
			return true, res["payload"].(map[string]any)["auth"].(map[string]any)["deviceToken"].(string)
		}
		_, msg := errOf(t, res)
		return false, msg
	}

	res := op.Call("device.token.rotate", map[string]any{"deviceId": id.DeviceID(), "role": "operator"})
	p := res["payload"].(map[string]any)
	if res["ok"] != true || p["deviceId"] != id.DeviceID() || p["role"] != "operator" || p["rotatedAtMs"] == nil ||
		!regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(p["token"].(string)) || p["token"] == old || len(p["scopes"].([]any)) != 3 {
		t.Fatalf("rotate = %v", res)
	}
	if ok, msg := tryToken(old); ok || !strings.HasPrefix(msg, "unauthorized: gateway token mismatch") {
		t.Fatalf("old token after rotate: %v %q", ok, msg)
	}
	if ok, got := tryToken(p["token"].(string)); !ok || got != p["token"] {
		t.Fatalf("rotated token: %v %q", ok, got)
	}

	res = op.Call("device.token.revoke", map[string]any{"deviceId": id.DeviceID(), "role": "operator"})
	if q := res["payload"].(map[string]any); res["ok"] != true || q["deviceId"] != id.DeviceID() || q["role"] != "operator" || q["revokedAtMs"] == nil || len(q) != 3 {
		t.Fatalf("revoke = %v", res)
	}
	if ok, msg := tryToken(p["token"].(string)); ok {
		t.Fatalf("revoked token accepted: %q", msg)
	}
	if ok, fresh := tryToken(testToken); !ok || fresh == p["token"] {
		t.Fatalf("shared-token connect after revoke: %v %q", ok, fresh)
	}
	for _, m := range []string{"device.token.rotate", "device.token.revoke"} {
		if _, msg := errOf(t, op.Call(m, map[string]any{"deviceId": "nope", "role": "operator"})); msg != "unknown deviceId/role" {
			t.Errorf("%s unknown: %q", m, msg)
		}
	}
	if _, msg := errOf(t, op.Call("device.token.revoke", map[string]any{"deviceId": id.DeviceID(), "role": "node"})); msg != "unknown deviceId/role" {
		t.Errorf("revoke of a role without token: %q", msg)
	}
}
