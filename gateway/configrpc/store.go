// Package configrpc answers config.get, config.set, config.apply and
// config.patch (doc/protocol.md §3.5): read the profile's clawdbot.json, guard writes
// with the base hash, validate, write atomically, and for apply/patch
// leave a restart sentinel and ask the lifecycle for a restart.
package configrpc

import (
	"os"
	"strings"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Store is one config file and the lock that serialises writes to it, so
// two concurrent set/patch calls cannot both pass the base-hash check
// against the same file. One Store per gateway process: it outlives
// runtime swaps, so calls on the old and the new runtime share the lock.
type Store struct {
	path string
	mu   sync.Mutex

	schemaOnce sync.Once
	schemaAt   string // config.schema's generatedAt
}

// NewStore returns the store of the config file at path.
func NewStore(path string) *Store { return &Store{path: path} }

// Path is the config file.
func (s *Store) Path() string { return s.path }

func (s *Store) load() (*profiles.Snapshot, *wire.ErrorShape) {
	snap, err := profiles.Load(s.path)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return snap, nil
}

// checkBaseHash is the base-hash guard of doc/protocol.md §3.5.
func checkBaseHash(snap *profiles.Snapshot, base string) *wire.ErrorShape {
	if !snap.Exists {
		return nil
	}
	if snap.Hash == "" {
		return rpc.Invalid("config base hash unavailable; re-run config.get and retry")
	}
	if base == "" {
		return rpc.Invalid("config base hash required; re-run config.get and retry")
	}
	if base != snap.Hash {
		return rpc.Invalid("config changed since last load; re-run config.get and retry")
	}
	return nil
}

// validateAndSave parses raw as a config, refuses it with its issues, else
// writes it atomically.
func (s *Store) validateAndSave(raw []byte) (*profiles.Snapshot, *wire.ErrorShape) {
	next := profiles.ParseConfig(s.path, raw, os.Getenv)
	if !next.Valid {
		e := rpc.Invalid("invalid config")
		if len(next.Issues) == 1 && next.Issues[0].Path == "" {
			e.Message = next.Issues[0].Message // a parse error: the parser's message
		}
		e.Details = map[string]any{"issues": nonNil(next.Issues)}
		return nil, e
	}
	if err := profiles.Save(s.path, raw); err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return next, nil
}

// writeLocked is the write path shared by config.set, config.apply and
// config.patch (doc/protocol.md §3.5): load the file, check the base hash, take raw as
// the new file (set, apply) or merge it into the current one (patch), then
// validate and save it. The caller holds s.mu, so apply/patch keep their
// restart sentinel in step with the file they wrote.
func (s *Store) writeLocked(baseHash, raw string, patch bool) (*profiles.Snapshot, *wire.ErrorShape) {
	snap, e := s.load()
	if e != nil {
		return nil, e
	}
	if e := checkBaseHash(snap, baseHash); e != nil {
		return nil, e
	}
	next := []byte(raw)
	if patch {
		if next, e = mergeIntoFile(snap, raw); e != nil {
			return nil, e
		}
	}
	return s.validateAndSave(next)
}

// mergeIntoFile applies raw, a JSON merge patch, to the current (valid)
// config file: config.patch's new file. The patch is spliced into the
// file's text (profiles.PatchText), so the user's JSON5 (comments, key
// order, quoting, trailing commas, ${ENV} references) survives everywhere
// the patch does not change it; the original re-serialises the resolved
// config instead, which inlines secrets and drops comments.
func mergeIntoFile(snap *profiles.Snapshot, raw string) ([]byte, *wire.ErrorShape) {
	if !strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return nil, rpc.Invalid("config.patch raw must be an object")
	}
	if !snap.Valid {
		return nil, rpc.Invalid("invalid config; fix before patching")
	}
	base := snap.Raw
	if !snap.Exists {
		base = []byte("{}")
	}
	merged, err := profiles.PatchText(base, []byte(raw))
	if err != nil {
		return nil, rpc.Invalid(err.Error())
	}
	return merged, nil
}

// nonNil keeps an empty issue list a JSON [] in error details.
func nonNil(is []profiles.Issue) []profiles.Issue {
	if is == nil {
		return []profiles.Issue{}
	}
	return is
}

// Patch merges patch (a JSON merge patch) into the config file under the
// write lock, without a base hash: for a server-side flow (the onboarding
// wizard) that read and changes the file itself. The result is validated
// like config.patch's and saved with a .bak.
func (s *Store) Patch(patch []byte) *wire.ErrorShape {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, e := s.load()
	if e != nil {
		return e
	}
	next, e := mergeIntoFile(snap, string(patch))
	if e != nil {
		return e
	}
	_, e = s.validateAndSave(next)
	return e
}
