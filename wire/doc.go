// Package wire is the Clawdbot gateway protocol (version 3) as Go types:
// req/res/event frames, the connect handshake and hello-ok, error and close
// codes, presence entries, and the params and results of every method we
// implement. The JSON Schema under wire/schema/ is generated from these types
// (go generate ./wire, i.e. make schema; a test fails when the checked-in
// files are stale) and a validator built on it checks every inbound frame.
//
// Field names and shapes follow the original gateway exactly (doc/protocol.md
// §1–§6); the real clients validate what we send and drop frames with extra
// keys, so these types must stay schema-exact.
//
// # One source of truth for the gateway
//
//   - ValidateRequestFrame, ValidateConnectParams, ValidateParams and
//     DecodeParams return *ErrorShape (INVALID_REQUEST) carrying the
//     original's exact text, ready to send.
//   - Methods/LookupMethod/MethodScope/Authorize describe every method: its
//     params type, strictness and the scope class of doc/protocol.md §3.1.
//   - AdvertisedMethods/AdvertisedEvents are hello-ok's features lists;
//     CanReceiveEvent is the broadcast filter.
//
// # How validation works
//
// An AJV emulation (ajv.go) compiles the embedded schemas once and walks a
// value in AJV's keyword order: a value is valid exactly when the walk
// finds no error, and the errors found are the message the original sends,
// e.g. "invalid connect params: at /client/id: must be equal to constant;
// at /client/id: must match a schema in anyOf". It judges what JSON.parse
// would give the original (numbers as doubles, keys in JavaScript order,
// patterns with ECMAScript meaning: ecmare.go), and its compiler refuses
// any keyword it does not implement. Well-formed request frames and
// connect params skip the generic machinery through exact hand-written
// checks (validate_fast.go: fastRequestFrame, fastConnectParams); anything
// they do not take goes the schema way.
//
// Tests hold every layer to an oracle: the fast paths to the walker (same
// verdict, same message, same decode), the walker's verdict to
// santhosh-tekuri/jsonschema on every schema (fuzzed; the library is
// linked into the tests only), and its verdicts and messages to ones
// recorded from the original's AJV (testdata/ajv).
//
// # Intentional differences from the original's schemas
//
//   - Enums are emitted as TypeBox emits unions of literals (anyOf of
//     {type, const}) so messages match; map[string]bool is
//     additionalProperties:{type:boolean} where TypeBox wrote
//     patternProperties "^(.*)$" — same behaviour and messages.
//   - PresenceEntry.lastInputSeconds is a number (the original's schema
//     says integer, but clients send fractional seconds in system-event).
//   - ShutdownEvent.restartExpectedMs is required and nullable in our type:
//     the original's schema calls it optional, but its code always sends it
//     (null on stop), and clients read that.
//   - The schemas of outbound types (HelloOk, events, results) are
//     documentation and test oracles; the gateway does not validate what it
//     sends. ResponseFrame/EventFrame omit a nil payload; send NullPayload
//     for the explicit null the original uses (last-heartbeat).
//   - A frame that is not JSON gets "invalid request frame: malformed JSON:
//     …" and satisfies errors.Is(err, ErrMalformedJSON); the original never
//     sends a response for it (close 1000 before the handshake, ignored
//     after), and the gateway must do the same.
package wire
