// Package device is the Ed25519 device identity of the Clawdbot protocol
// (doc/protocol.md §1.5): the key pair a client keeps in <state>/identity/device.json,
// the v1/v2 connect payload it signs, the server-side verification of that
// signature, and the per-role device tokens a client stores in
// <state>/identity/device-auth.json after a successful connect.
//
// Everything here is byte-compatible with the original Node CLI: the same
// file shapes (PEM SPKI/PKCS8 exactly as Node's crypto exports them), the same
// device id (hex sha256 of the raw 32-byte key) and the same payload strings,
// so a Go client and the Node gateway (or the reverse) interoperate and can
// share a state directory.
package device
