package wire

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID is a random UUID v4, the shape of every generated id on the wire
// (connection, request, run and idempotency ids), as the original's
// crypto.randomUUID gives. The one UUID helper: the gateway (gateway/rpc)
// and the Go client both use it.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
