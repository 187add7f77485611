package device

import (
	"crypto/ed25519"
	"errors"
	"strconv"
	"strings"
)

// PayloadFields are the inputs of the signed connect payload (doc/protocol.md §1.5).
type PayloadFields struct {
	DeviceID   string
	ClientID   string
	ClientMode string
	Role       string   // "" means operator, as in the original
	Scopes     []string // as sent, in the client's order
	SignedAtMs int64
	Token      string // auth.token as sent (shared or device token), "" if none
	Nonce      string // connect.challenge nonce; "" selects the v1 payload
}

// BuildPayload returns the exact string the client signs:
// v2|deviceId|clientId|mode|role|scopes,joined|signedAtMs|token|nonce, or the
// v1 form (no nonce) when Nonce is empty.
func BuildPayload(p PayloadFields) string {
	role := p.Role
	if role == "" {
		role = "operator"
	}
	version := "v1"
	if p.Nonce != "" {
		version = "v2"
	}
	parts := []string{
		version, p.DeviceID, p.ClientID, p.ClientMode, role,
		strings.Join(p.Scopes, ","), strconv.FormatInt(p.SignedAtMs, 10), p.Token,
	}
	if p.Nonce != "" {
		parts = append(parts, p.Nonce)
	}
	return strings.Join(parts, "|")
}

// ErrBadSignature is returned by Verify when the signature does not match.
var ErrBadSignature = errors.New("device signature invalid")

// Verify checks an Ed25519 signature over payload. publicKey may be raw
// base64url/base64 or an SPKI PEM; signature may be base64url or standard
// base64. A malformed key is reported as such; every other failure is
// ErrBadSignature.
func Verify(publicKey, payload, signature string) error {
	pub, err := ParsePublicKey(publicKey)
	if err != nil {
		return err
	}
	sig, err := decodeBase64Loose(signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	if !ed25519.Verify(pub, []byte(payload), sig) {
		return ErrBadSignature
	}
	return nil
}
