// Package sessionstore is the gateway's session storage, compatible both
// ways with the original's files (doc/messaging.md §3): the session store
// <state>/agents/<agentId>/sessions/sessions.json (read as JSON5, written
// under the original's lock-file protocol through a temp file and a
// rename, mode 0600), the session keys and their aliases (§3.2), the
// freshness rules that start a new session (§3.5), and the transcripts
// <sessionId>.jsonl in the pi v3 line format (§3.4).
//
// The API the rest of the gateway uses:
//
//   - Store.Resolve(key) → (entry, created): the session of a new turn.
//   - Store.Update(key, func(*Entry) error): change one entry under the lock.
//   - Store.Append(key, sessionID, Record): one transcript line, O(1).
//   - Store.SessionMessages(key, limit) / ReadMessages(path, limit): the
//     last messages of a transcript, read backwards from its end.
//   - Store.Get, Store.List, Store.Delete, Store.Target for the methods.
//
// It is a helper package: it imports the standard library, gateway/llm
// and profiles (for its JSON5 parser) only.
package sessionstore

import "context"

// RunAborter stops the turns of a session, for sessions.delete (and
// whoever else must not change a session under a running turn). The
// agent runtime implements it; the core passes it in.
type RunAborter interface {
	// AbortSession aborts the running and queued turns of the session
	// (sessionKey canonical; sessionID its current id, "" if unknown) and
	// waits until none runs or ctx ends. It reports whether the session
	// is idle.
	AbortSession(ctx context.Context, sessionKey, sessionID string) bool
}
