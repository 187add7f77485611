package device

import (
	"errors"
	"strings"
	"testing"
)

// The gateway parses device.publicKey and device.signature from every
// connect of an unauthenticated client; these targets hold the parsers to
// "no panic, and a consistent answer".

// FuzzParsePublicKey: what parses normalises to a canonical base64url key
// that parses to the same key again, with the same device id.
func FuzzParsePublicKey(f *testing.F) {
	id, err := FromSeed(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{id.PublicKeyBase64URL(), id.PublicKeyPEM(), "", "=", "AAAA", "-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n",
		strings.Repeat("A", 43) + "=", " " + id.PublicKeyBase64URL() + " ", strings.Replace(id.PublicKeyPEM(), "PUBLIC", "PRIVATE", 2)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParsePublicKey(s)
		if err != nil {
			if _, nerr := NormalizePublicKey(s); nerr == nil {
				t.Fatalf("%q: ParsePublicKey fails (%v) but NormalizePublicKey succeeds", s, err)
			}
			return
		}
		norm, err := NormalizePublicKey(s)
		if err != nil {
			t.Fatalf("%q: parses but does not normalise: %v", s, err)
		}
		again, err := ParsePublicKey(norm)
		if err != nil || !again.Equal(pub) {
			t.Fatalf("%q: canonical form %q does not round-trip (%v)", s, norm, err)
		}
		if n2, _ := NormalizePublicKey(norm); n2 != norm {
			t.Fatalf("%q: normalising is not idempotent: %q then %q", s, norm, n2)
		}
		d1, err1 := DeviceIDFromPublicKey(s)
		d2, err2 := DeviceIDFromPublicKey(norm)
		if err1 != nil || err2 != nil || d1 != d2 {
			t.Fatalf("%q: device ids %q/%v vs %q/%v", s, d1, err1, d2, err2)
		}
	})
}

// FuzzVerify: Verify never panics, reports a bad key or ErrBadSignature,
// and accepts only the signature of the payload under the key.
func FuzzVerify(f *testing.F) {
	id, err := FromSeed(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	payload := BuildPayload(PayloadFields{DeviceID: id.DeviceID(), ClientID: "cli", ClientMode: "cli", Role: "operator",
		Scopes: []string{"operator.admin"}, SignedAtMs: 1, Token: "t", Nonce: "n"})
	f.Add(id.PublicKeyBase64URL(), payload, id.Sign(payload))
	f.Add(id.PublicKeyPEM(), payload, id.Sign(payload))
	f.Add(id.PublicKeyBase64URL(), payload+"x", id.Sign(payload))
	f.Add("", "", "")
	f.Add(id.PublicKeyBase64URL(), payload, "====")
	f.Fuzz(func(t *testing.T, pub, payload, sig string) {
		err := Verify(pub, payload, sig)
		_, keyErr := ParsePublicKey(pub)
		switch {
		case keyErr != nil:
			if err == nil || errors.Is(err, ErrBadSignature) {
				t.Fatalf("bad key %q: Verify says %v, want the key error", pub, err)
			}
		case err != nil && !errors.Is(err, ErrBadSignature):
			t.Fatalf("good key %q: Verify says %v, want nil or ErrBadSignature", pub, err)
		}
		// Our own key: only our own signature of this payload passes.
		if err == nil && pub == id.PublicKeyBase64URL() {
			want := id.Sign(payload)
			if b, e := decodeBase64Loose(sig); e != nil || b == nil || string(b) != string(mustDecode(t, want)) {
				t.Fatalf("accepted signature %q of %q, want %q", sig, payload, want)
			}
		}
	})
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decodeBase64Loose(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseStored: a device.json of any content loads or fails with an
// error, never a panic; what loads signs verifiably.
func FuzzParseStored(f *testing.F) {
	id, err := FromSeed(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	good := `{"version":1,"deviceId":"` + id.DeviceID() + `","publicKeyPem":` + jsonString(id.PublicKeyPEM()) +
		`,"privateKeyPem":` + jsonString(id.PrivateKeyPEM()) + `,"createdAtMs":1}`
	f.Add([]byte(good))
	f.Add([]byte(strings.Replace(good, `"version":1`, `"version":2`, 1)))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := parseStored(data)
		if err != nil {
			return
		}
		if err := Verify(got.PublicKeyBase64URL(), "p", got.Sign("p")); err != nil {
			t.Fatalf("loaded identity cannot sign: %v", err)
		}
	})
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
