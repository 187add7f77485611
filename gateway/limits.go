package gateway

import (
	"strconv"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Size limits on connect params. The original's schema has none (its
// strings are minLength:1 only), so one 512 KiB frame could put a 400 KB
// displayName into presence, and from there into every later hello-ok and
// presence event. Every field the gateway keeps beyond the handshake
// (presence, the node registry, the pairing store) is bounded here.
//
// An over-long field is rejected, not cut: a connect fails with
// INVALID_REQUEST "invalid connect params: at /client/displayName: must
// NOT have more than 256 bytes" and close 1008, which is what the
// original's AJV validation does for a schema maxLength (the message
// shape is AJV's, counting bytes because bytes are what is bounded). A cut
// would instead merge distinct instance ids into one presence key and
// hide the problem from the client. Shared secrets (auth.token/password)
// are compared and dropped, so only the frame limit bounds them.
const (
	// maxConnectFieldBytes bounds client.displayName, version, platform,
	// deviceFamily, modelIdentifier, instanceId, locale, device.id,
	// device.signature and device.nonce, and each scope, cap, command and
	// permission name. Real values are under 100 bytes.
	maxConnectFieldBytes = 256
	// maxConnectPublicKeyBytes bounds device.publicKey (a PEM SPKI key is
	// about 113 bytes; base64url raw keys are 43).
	maxConnectPublicKeyBytes = 1024
	// maxConnectUserAgentBytes bounds userAgent (browsers send ~150).
	maxConnectUserAgentBytes = 1024
	// maxConnectPathEnvBytes bounds a node's pathEnv (its PATH).
	maxConnectPathEnvBytes = 8192
	// Counts: the server knows 5 scopes; node hosts send a few dozen
	// commands and a handful of caps and permissions.
	maxConnectScopes      = 32
	maxConnectCaps        = 64
	maxConnectCommands    = 512
	maxConnectPermissions = 256
)

// connectLimitError checks p against the connect limits and returns the
// first violation as INVALID_REQUEST naming the field and the limit, or
// nil. It runs on every connect, so it is straight-line code without
// allocations on the passing path.
func connectLimitError(p *wire.ConnectParams) *wire.ErrorShape {
	cl := &p.Client
	for _, f := range [...]struct {
		path  string
		v     string
		limit int
	}{
		{"/client/displayName", cl.DisplayName, maxConnectFieldBytes},
		{"/client/version", cl.Version, maxConnectFieldBytes},
		{"/client/platform", cl.Platform, maxConnectFieldBytes},
		{"/client/deviceFamily", cl.DeviceFamily, maxConnectFieldBytes},
		{"/client/modelIdentifier", cl.ModelIdentifier, maxConnectFieldBytes},
		{"/client/instanceId", cl.InstanceID, maxConnectFieldBytes},
		{"/pathEnv", p.PathEnv, maxConnectPathEnvBytes},
		{"/locale", p.Locale, maxConnectFieldBytes},
		{"/userAgent", p.UserAgent, maxConnectUserAgentBytes},
	} {
		if len(f.v) > f.limit {
			return tooLong(f.path, f.limit)
		}
	}
	if d := p.Device; d != nil {
		switch {
		case len(d.ID) > maxConnectFieldBytes:
			return tooLong("/device/id", maxConnectFieldBytes)
		case len(d.PublicKey) > maxConnectPublicKeyBytes:
			return tooLong("/device/publicKey", maxConnectPublicKeyBytes)
		case len(d.Signature) > maxConnectFieldBytes:
			return tooLong("/device/signature", maxConnectFieldBytes)
		case len(d.Nonce) > maxConnectFieldBytes:
			return tooLong("/device/nonce", maxConnectFieldBytes)
		}
	}
	if e := listLimitError("/scopes", p.Scopes, maxConnectScopes); e != nil {
		return e
	}
	if e := listLimitError("/caps", p.Caps, maxConnectCaps); e != nil {
		return e
	}
	if e := listLimitError("/commands", p.Commands, maxConnectCommands); e != nil {
		return e
	}
	if len(p.Permissions) > maxConnectPermissions {
		return rpc.Invalid("invalid connect params: at /permissions: must NOT have more than " + strconv.Itoa(maxConnectPermissions) + " properties")
	}
	for k := range p.Permissions {
		if len(k) > maxConnectFieldBytes {
			return rpc.Invalid("invalid connect params: at /permissions: property name must NOT have more than " + strconv.Itoa(maxConnectFieldBytes) + " bytes")
		}
	}
	return nil
}

// listLimitError bounds a string list's length and each item's size.
func listLimitError(path string, vs []string, limit int) *wire.ErrorShape {
	if len(vs) > limit {
		return rpc.Invalid("invalid connect params: at " + path + ": must NOT have more than " + strconv.Itoa(limit) + " items")
	}
	for i, v := range vs {
		if len(v) > maxConnectFieldBytes {
			return tooLong(path+"/"+strconv.Itoa(i), maxConnectFieldBytes)
		}
	}
	return nil
}

func tooLong(path string, limit int) *wire.ErrorShape {
	return rpc.Invalid("invalid connect params: at " + path + ": must NOT have more than " + strconv.Itoa(limit) + " bytes")
}
