// Package approvals is the exec approval policy of the gateway and the
// protocol methods around it, as the original's infra/exec-approvals.js,
// gateway/exec-approval-manager.js and server-methods/exec-approval*.js:
//
//   - the policy file exec-approvals.json (version 1): per-agent security
//     (deny | allowlist | full), ask (off | on-miss | always), askFallback
//     and allowlist patterns, with "*" applying to every agent;
//   - the command analysis that decides whether a shell command is covered
//     by the allowlist (chains, pipelines, quoting, safe bins);
//   - the Manager of pending approval requests: ids, a timeout that counts
//     as no decision, allow-once / allow-always / deny;
//   - the methods exec.approvals.get/set, exec.approvals.node.get/set,
//     exec.approval.request/resolve and the events exec.approval.requested
//     and exec.approval.resolved (operators with operator.approvals).
//
// The agent's exec tool asks through Manager.Check and waits: no approval,
// no process.
//
// It is a feature package: it imports rpc, wire and profiles only.
package approvals

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// FileName is the policy file's name under the state dir. The original
// always uses ~/.clawdbot/exec-approvals.json; for the default profile
// that is the same file, and a named profile (or CLAWDBOT_STATE_DIR) gets
// its own, as every other state file of this gateway does.
const FileName = "exec-approvals.json"

// socketName is the default approvals socket of the macOS app, kept in the
// file as the original writes it (this gateway does not serve it).
const socketName = "exec-approvals.sock"

// DefaultAgentID is the agent a request without one belongs to.
const DefaultAgentID = "main"

// Store owns exec-approvals.json: reads are cached by size and mtime (the
// exec tool consults the policy on every call), writes are atomic 0600
// and serialised.
type Store struct {
	path   string
	sockDf string
	now    func() time.Time

	mu     sync.Mutex
	cached *snapshot
	stamp  fileStamp
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// snapshot is one read of the file.
type snapshot struct {
	exists bool
	raw    []byte
	file   wire.ExecApprovalsFile
	hash   string
}

// NewStore returns the store of the file under stateDir.
func NewStore(stateDir string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{path: filepath.Join(stateDir, FileName), sockDf: filepath.Join(stateDir, socketName), now: now}
}

// Path is the policy file's path.
func (s *Store) Path() string { return s.path }

// hashRaw is the file's hash: sha256 hex of its bytes ("" when missing),
// the baseHash exec.approvals.set wants back.
func hashRaw(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// readLocked returns the current snapshot, re-reading only when the file
// changed. A file that does not parse, or is not version 1, reads as an
// empty policy (the original's behaviour: the defaults then apply).
func (s *Store) readLocked() (*snapshot, error) {
	st, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		s.cached = nil
		return &snapshot{file: normalize(wire.ExecApprovalsFile{Version: 1}), hash: hashRaw(nil)}, nil
	}
	if err != nil {
		return nil, err
	}
	stamp := fileStamp{st.Size(), st.ModTime()}
	if s.cached != nil && stamp == s.stamp {
		return s.cached, nil
	}
	raw, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{exists: true, raw: raw, hash: hashRaw(raw)}
	var f wire.ExecApprovalsFile
	if json.Unmarshal(raw, &f) == nil && f.Version == 1 {
		snap.file = normalize(f)
	} else {
		snap.file = normalize(wire.ExecApprovalsFile{Version: 1})
	}
	s.cached, s.stamp = snap, stamp
	return snap, nil
}

// ensureLocked makes sure the file exists with a socket path and token, as
// the original's ensureExecApprovals does before every read through the
// methods; it writes only when something was missing.
func (s *Store) ensureLocked() (*snapshot, error) {
	snap, err := s.readLocked()
	if err != nil {
		return nil, err
	}
	f := clone(snap.file)
	changed := !snap.exists
	if f.Socket.Path == "" {
		f.Socket.Path = s.sockDf
		changed = true
	}
	if f.Socket.Token == "" {
		f.Socket.Token = newToken()
		changed = true
	}
	if !changed {
		return snap, nil
	}
	if err := s.saveLocked(f); err != nil {
		return nil, err
	}
	return s.readLocked()
}

// saveLocked writes f as the original does (2-space JSON and a newline),
// atomically with mode 0600: the file holds the socket token.
func (s *Store) saveLocked(f wire.ExecApprovalsFile) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	if err := profiles.WriteFileAtomic(s.path, buf.Bytes(), 0o600); err != nil {
		return err
	}
	s.cached = nil
	return nil
}

// update applies fn to the current file and saves it; fn reports whether
// it changed anything.
func (s *Store) update(fn func(f *wire.ExecApprovalsFile) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := s.readLocked()
	if err != nil {
		return err
	}
	f := clone(snap.file)
	if !fn(&f) {
		return nil
	}
	return s.saveLocked(f)
}

// current is the policy now (a copy the caller may keep).
func (s *Store) current() (wire.ExecApprovalsFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := s.readLocked()
	if err != nil {
		return wire.ExecApprovalsFile{}, err
	}
	return snap.file, nil
}

// Get is exec.approvals.get: the file (created if missing), its hash, and
// the socket token redacted.
func (s *Store) Get() (wire.ExecApprovalsSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := s.ensureLocked()
	if err != nil {
		return wire.ExecApprovalsSnapshot{}, err
	}
	return s.result(snap), nil
}

// ErrBaseHash is a refused exec.approvals.set (the original's messages).
type ErrBaseHash string

func (e ErrBaseHash) Error() string { return string(e) }

// Set is exec.approvals.set: it replaces the policy with f, keeping the
// socket path and token unless f sets them. baseHash must be the hash of
// the file as read (required once the file exists), so two editors cannot
// silently overwrite each other.
func (s *Store) Set(f wire.ExecApprovalsFile, baseHash string) (wire.ExecApprovalsSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := s.ensureLocked()
	if err != nil {
		return wire.ExecApprovalsSnapshot{}, err
	}
	if snap.exists {
		switch strings.TrimSpace(baseHash) {
		case "":
			return wire.ExecApprovalsSnapshot{}, ErrBaseHash("exec approvals base hash required; re-run exec.approvals.get and retry")
		case snap.hash:
		default:
			return wire.ExecApprovalsSnapshot{}, ErrBaseHash("exec approvals changed since last load; re-run exec.approvals.get and retry")
		}
	}
	next := normalize(f)
	if next.Socket.Path == "" {
		next.Socket.Path = snap.file.Socket.Path
	}
	if next.Socket.Path == "" {
		next.Socket.Path = s.sockDf
	}
	if next.Socket.Token == "" {
		next.Socket.Token = snap.file.Socket.Token
	}
	if err := s.saveLocked(next); err != nil {
		return wire.ExecApprovalsSnapshot{}, err
	}
	snap, err = s.readLocked()
	if err != nil {
		return wire.ExecApprovalsSnapshot{}, err
	}
	return s.result(snap), nil
}

func (s *Store) result(snap *snapshot) wire.ExecApprovalsSnapshot {
	f := clone(snap.file)
	if f.Socket.Path != "" {
		f.Socket = &wire.ExecApprovalsSocket{Path: f.Socket.Path}
	} else {
		f.Socket = nil
	}
	return wire.ExecApprovalsSnapshot{Path: s.path, Exists: snap.exists, Hash: snap.hash, File: f}
}

// normalize is the original's normalizeExecApprovals: version 1, trimmed
// socket fields, a legacy "default" agent merged into main, an id on every
// allowlist entry. Socket, Defaults and Agents are never nil afterwards,
// so the file always has the three blocks the original writes.
func normalize(f wire.ExecApprovalsFile) wire.ExecApprovalsFile {
	out := wire.ExecApprovalsFile{Version: 1, Socket: &wire.ExecApprovalsSocket{}, Defaults: &wire.ExecApprovalsDefaults{},
		Agents: map[string]wire.ExecApprovalsAgent{}}
	if f.Socket != nil {
		out.Socket.Path = strings.TrimSpace(f.Socket.Path)
		out.Socket.Token = strings.TrimSpace(f.Socket.Token)
	}
	if f.Defaults != nil {
		*out.Defaults = *f.Defaults
	}
	for k, a := range f.Agents {
		out.Agents[k] = a
	}
	if legacy, ok := out.Agents["default"]; ok {
		if main, ok := out.Agents[DefaultAgentID]; ok {
			out.Agents[DefaultAgentID] = mergeLegacy(main, legacy)
		} else {
			out.Agents[DefaultAgentID] = legacy
		}
		delete(out.Agents, "default")
	}
	for k, a := range out.Agents {
		if len(a.Allowlist) == 0 {
			continue
		}
		list := make([]wire.ExecApprovalsAllowlistEntry, len(a.Allowlist))
		copy(list, a.Allowlist)
		for i := range list {
			if list[i].ID == "" {
				list[i].ID = wire.NewID()
			}
		}
		a.Allowlist = list
		out.Agents[k] = a
	}
	return out
}

func mergeLegacy(cur, legacy wire.ExecApprovalsAgent) wire.ExecApprovalsAgent {
	seen := map[string]bool{}
	var list []wire.ExecApprovalsAllowlistEntry
	for _, e := range append(append([]wire.ExecApprovalsAllowlistEntry{}, cur.Allowlist...), legacy.Allowlist...) {
		k := strings.ToLower(strings.TrimSpace(e.Pattern))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		list = append(list, e)
	}
	out := cur
	out.Allowlist = list
	if out.Security == "" {
		out.Security = legacy.Security
	}
	if out.Ask == "" {
		out.Ask = legacy.Ask
	}
	if out.AskFallback == "" {
		out.AskFallback = legacy.AskFallback
	}
	if out.AutoAllowSkills == nil {
		out.AutoAllowSkills = legacy.AutoAllowSkills
	}
	return out
}

// clone deep-copies a normalized file so callers can edit it.
func clone(f wire.ExecApprovalsFile) wire.ExecApprovalsFile {
	out := normalize(wire.ExecApprovalsFile{})
	if f.Socket != nil {
		*out.Socket = *f.Socket
	}
	if f.Defaults != nil {
		*out.Defaults = *f.Defaults
	}
	for k, a := range f.Agents {
		a.Allowlist = append([]wire.ExecApprovalsAllowlistEntry(nil), a.Allowlist...)
		out.Agents[k] = a
	}
	return out
}

// newToken is the socket token: 24 random bytes, base64url, as the original.
func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
