package devices

import (
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/device"
)

// maxSignatureSkew is how far device.signedAt may be from now (doc/protocol.md §1.5).
const maxSignatureSkew = 10 * time.Minute

// VerifyIdentity runs the six device checks of doc/protocol.md §1.5 in order on a
// connect's device block and returns the failure message ("" when the
// device is valid). nonce is the connection's challenge nonce; a local
// client may omit it.
func VerifyIdentity(p *wire.ConnectParams, role, nonce string, local bool, now time.Time) string {
	d := p.Device
	derived, err := device.DeviceIDFromPublicKey(d.PublicKey)
	if err != nil || derived != d.ID { // exact, like the original's !==
		return "device identity mismatch"
	}
	if skew := now.Sub(time.UnixMilli(d.SignedAt)); skew > maxSignatureSkew || skew < -maxSignatureSkew {
		return "device signature expired"
	}
	signed := strings.TrimSpace(d.Nonce) // the original trims it before comparing and signing
	if !local && signed == "" {
		return "device nonce required"
	}
	if signed != "" && signed != nonce {
		return "device nonce mismatch"
	}
	token := ""
	if p.Auth != nil {
		token = p.Auth.Token
	}
	payload := device.BuildPayload(device.PayloadFields{
		DeviceID: d.ID, ClientID: p.Client.ID, ClientMode: p.Client.Mode, Role: role,
		Scopes: p.Scopes, SignedAtMs: d.SignedAt, Token: token, Nonce: signed,
	})
	if err := device.Verify(d.PublicKey, payload, d.Signature); err != nil {
		return "device signature invalid"
	}
	if _, err := device.NormalizePublicKey(d.PublicKey); err != nil {
		return "device public key invalid"
	}
	return ""
}
