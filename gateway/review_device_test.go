package gateway

import (
	"strings"
	"testing"
	"time"
)

// device.id must equal the derived id exactly: the original compares with
// !==, so an upper-case id is a mismatch (and would otherwise pair a second
// record for the same key) (spec §1.5 check 1).
func TestDeviceIDComparedExactly(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 11)
	c := dial(t, s)
	p := signedParams(id, testToken, c.nonce, []string{"operator.admin"}, time.Now().UnixMilli())
	upper := strings.ToUpper(id.DeviceID())
	p["device"].(map[string]any)["id"] = upper
	c.send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": p})
	if _, msg := errOf(t, c.readRes()); msg != "device identity mismatch" {
		t.Fatalf("upper-case device id: %q", msg)
	}
	c.expectClose(1008, "device identity mismatch")
}

// The nonce is trimmed before it is compared and signed, like the
// original's providedNonce.
func TestDeviceNonceTrimmed(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 12)
	c := dial(t, s)
	now := time.Now().UnixMilli()
	p := signedParams(id, testToken, c.nonce, []string{"operator.admin"}, now)
	p["device"].(map[string]any)["nonce"] = " " + c.nonce + " "
	c.connect(p)

	// A blank nonce is no nonce: from loopback the v1 payload is accepted.
	c2 := dial(t, s)
	p2 := signedParams(id, testToken, "", []string{"operator.admin"}, now)
	p2["device"].(map[string]any)["nonce"] = "  "
	c2.connect(p2)
}

// A PEM SPKI public key is accepted (the Node CLI keeps its key as PEM) and
// pairs under the same device id as the raw key.
func TestDevicePEMPublicKey(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 13)
	c := dial(t, s)
	p := signedParams(id, testToken, c.nonce, []string{"operator.admin"}, time.Now().UnixMilli())
	p["device"].(map[string]any)["publicKey"] = id.PublicKeyPEM()
	h := c.connect(p)
	if a, ok := h["auth"].(map[string]any); !ok || len(a["deviceToken"].(string)) != 32 {
		t.Fatalf("hello-ok.auth = %v", h["auth"])
	}
	// The raw-key form of the same identity is the same paired device.
	c2 := dial(t, s)
	h2 := c2.connect(signedParams(id, testToken, c2.nonce, []string{"operator.admin"}, time.Now().UnixMilli()))
	if h2["auth"].(map[string]any)["deviceToken"] != h["auth"].(map[string]any)["deviceToken"] {
		t.Fatalf("PEM and raw key paired as different devices: %v vs %v", h["auth"], h2["auth"])
	}
}
