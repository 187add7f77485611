// Package wire is the Clawdbot gateway protocol (version 3) as Go types:
// req/res/event frames, the connect handshake and hello-ok, error and close
// codes, presence entries, and the params and results of every method we
// implement. The JSON Schema under wire/schema/ is generated from these types
// (go generate ./wire) and a validator built on it checks every inbound frame.
//
// Field names and shapes follow the original gateway exactly (protocol spec
// §1–§6); the real clients validate what we send and drop frames with extra
// keys, so these types must stay schema-exact.
package wire
