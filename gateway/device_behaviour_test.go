package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/wire/device"
)

// device.id must equal the derived id exactly: the original compares with
// !==, so an upper-case id is a mismatch (and would otherwise pair a second
// record for the same key) (doc/protocol.md §1.5 check 1).
func TestDeviceIDComparedExactly(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 11)
	c := dial(t, s)
	p := signedParams(id, testToken, c.Nonce, []string{"operator.admin"}, time.Now().UnixMilli())
	upper := strings.ToUpper(id.DeviceID())
	p["device"].(map[string]any)["id"] = upper
	c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": p})
	if _, msg := errOf(t, c.ReadRes()); msg != "device identity mismatch" {
		t.Fatalf("upper-case device id: %q", msg)
	}
	c.ExpectClose(1008, "device identity mismatch")
}

// The nonce is trimmed before it is compared and signed, like the
// original's providedNonce.
func TestDeviceNonceTrimmed(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 12)
	c := dial(t, s)
	now := time.Now().UnixMilli()
	p := signedParams(id, testToken, c.Nonce, []string{"operator.admin"}, now)
	p["device"].(map[string]any)["nonce"] = " " + c.Nonce + " "
	c.Connect(p)

	// A blank nonce is no nonce: from loopback the v1 payload is accepted.
	c2 := dial(t, s)
	p2 := signedParams(id, testToken, "", []string{"operator.admin"}, now)
	p2["device"].(map[string]any)["nonce"] = "  "
	c2.Connect(p2)
}

// A PEM SPKI public key is accepted (the Node CLI keeps its key as PEM) and
// pairs under the same device id as the raw key.
func TestDevicePEMPublicKey(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 13)
	c := dial(t, s)
	p := signedParams(id, testToken, c.Nonce, []string{"operator.admin"}, time.Now().UnixMilli())
	p["device"].(map[string]any)["publicKey"] = id.PublicKeyPEM()
	h := c.Connect(p)
	if a, ok := h["auth"].(map[string]any); !ok || len(a["deviceToken"].(string)) != 32 {
		t.Fatalf("hello-ok.auth = %v", h["auth"])
	}
	// The raw-key form of the same identity is the same paired device.
	c2 := dial(t, s)
	h2 := c2.Connect(signedParams(id, testToken, c2.Nonce, []string{"operator.admin"}, time.Now().UnixMilli()))
	if h2["auth"].(map[string]any)["deviceToken"] != h["auth"].(map[string]any)["deviceToken"] {
		t.Fatalf("PEM and raw key paired as different devices: %v vs %v", h["auth"], h2["auth"])
	}
}

// With gateway.controlUi.allowInsecureAuth, a Control UI that supplied the
// shared secret skips pairing even when it sends a device block (doc/protocol.md
// §1.5): it connects from a remote address without a pending request and
// gets no device token, since its device is not paired.
func TestInsecureControlUISkipsPairing(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.Runtime.AllowInsecureControlUI = true
		o.IsLocal = func(*http.Request) bool { return false }
	})
	id := newIdentity(t, 14)
	c := dial(t, s)
	p := signedParams(id, testToken, c.Nonce, []string{"operator.admin"}, time.Now().UnixMilli())
	p["client"] = map[string]any{"id": "clawdbot-control-ui", "mode": "webchat", "platform": "web", "version": "1"}
	// re-sign for the Control UI's client id and mode
	payload := device.BuildPayload(device.PayloadFields{DeviceID: id.DeviceID(), ClientID: "clawdbot-control-ui", ClientMode: "webchat",
		Role: "operator", Scopes: []string{"operator.admin"}, SignedAtMs: p["device"].(map[string]any)["signedAt"].(int64), Token: testToken, Nonce: c.Nonce})
	p["device"].(map[string]any)["signature"] = id.Sign(payload)
	h := c.Connect(p)
	if _, has := h["auth"]; has {
		t.Fatalf("unpaired insecure Control UI got a device token: %v", h["auth"])
	}
	list := rawPayload(t, c, "device.pair.list")
	if strings.Contains(string(list), id.DeviceID()) {
		t.Fatalf("pairing was not skipped: %s", list)
	}
}
