package channels

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// The pairing store (doc/messaging.md §5): unknown DM senders get a code
// the owner approves with `clawdbot pairing approve`. The files and the
// lock are the original's, so its CLI works on ours and ours on its:
//
//	<stateDir>/credentials/<channel>-pairing.json   {"version":1,"requests":[…]}
//	<stateDir>/credentials/<channel>-allowFrom.json {"version":1,"allowFrom":[…]}
//
// Every change takes <file>.lock, a directory (proper-lockfile's protocol:
// mkdir is the lock, its mtime is refreshed while held and a lock older
// than 30 s is stale), reads, and writes through a temp file and rename,
// mode 0600.

// Pairing limits, as the original's.
const (
	PairingCodeLength   = 8
	PairingCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	PairingPendingTTL   = time.Hour
	PairingPendingMax   = 3
	// PairingApprovedMessage is what the approved sender is told.
	PairingApprovedMessage = "✅ Clawdbot access approved. Send a message to start chatting."
)

// lockStale is when a .lock directory left by a dead process is taken
// over; lockRetries bound the wait for a live one (about 10 s in all).
const (
	lockStale   = 30 * time.Second
	lockRetries = 40
	lockRetry   = 250 * time.Millisecond
)

// PairingRequest is one pending request as the file stores it.
type PairingRequest struct {
	ID         string            `json:"id"`
	Code       string            `json:"code"`
	CreatedAt  string            `json:"createdAt"`
	LastSeenAt string            `json:"lastSeenAt,omitempty"`
	Meta       map[string]string `json:"meta,omitempty"`
}

// pairingFile and allowFile are the two files, fields in the original's
// order.
type pairingFile struct {
	Version  int              `json:"version"`
	Requests []PairingRequest `json:"requests"`
}

type allowFile struct {
	Version   int      `json:"version"`
	AllowFrom []string `json:"allowFrom"`
}

// PairingStore reads and writes the pairing files of one state dir.
type PairingStore struct {
	dir string
	now func() time.Time
	// normalize canonicalises an allowFrom entry per channel ("" = drop).
	normalize func(channel, entry string) string
}

// NewPairingStore is the store under credentialsDir (normally
// <stateDir>/credentials, or CLAWDBOT_OAUTH_DIR). normalize may be nil
// (entries are trimmed).
func NewPairingStore(credentialsDir string, now func() time.Time, normalize func(channel, entry string) string) *PairingStore {
	if now == nil {
		now = time.Now
	}
	return &PairingStore{dir: credentialsDir, now: now, normalize: normalize}
}

// CredentialsDir is where the pairing files of stateDir live: getenv's
// CLAWDBOT_OAUTH_DIR when set, else <stateDir>/credentials.
func CredentialsDir(stateDir string, getenv func(string) string) string {
	if getenv != nil {
		if d := strings.TrimSpace(getenv("CLAWDBOT_OAUTH_DIR")); d != "" {
			return d
		}
	}
	return filepath.Join(stateDir, "credentials")
}

// safeChannel is channel as a file name part (the original's
// safeChannelKey): lowercased, path characters replaced.
func safeChannel(channel string) (string, error) {
	raw := strings.ToLower(strings.TrimSpace(channel))
	safe := strings.NewReplacer(`\`, "_", "/", "_", ":", "_", "*", "_", "?", "_", `"`, "_", "<", "_", ">", "_", "|", "_").Replace(raw)
	safe = strings.ReplaceAll(safe, "..", "_")
	if safe == "" || safe == "_" {
		return "", fmt.Errorf("invalid pairing channel %q", channel)
	}
	return safe, nil
}

// PairingPath and AllowFromPath are the store's two files for channel.
func (s *PairingStore) PairingPath(channel string) (string, error) {
	c, err := safeChannel(channel)
	return filepath.Join(s.dir, c+"-pairing.json"), err
}

// AllowFromPath is the approved senders' file of channel.
func (s *PairingStore) AllowFromPath(channel string) (string, error) {
	c, err := safeChannel(channel)
	return filepath.Join(s.dir, c+"-allowFrom.json"), err
}

func (s *PairingStore) norm(channel, entry string) string {
	e := strings.TrimSpace(entry)
	if e == "" || e == "*" {
		return ""
	}
	if s.normalize != nil {
		e = strings.TrimSpace(s.normalize(channel, e))
	}
	return e
}

// AllowFrom is the channel's approved senders (normalised; a missing or
// broken file is empty).
func (s *PairingStore) AllowFrom(channel string) ([]string, error) {
	p, err := s.AllowFromPath(channel)
	if err != nil {
		return nil, err
	}
	return s.readAllow(channel, p), nil
}

func (s *PairingStore) readAllow(channel, path string) []string {
	var doc struct {
		AllowFrom []json.RawMessage `json:"allowFrom"`
	}
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []string
	for _, v := range EntryStrings(doc.AllowFrom) {
		if n := s.norm(channel, v); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// AddAllowFrom appends entry to the channel's allowFrom file (no-op when
// present); changed reports a write.
func (s *PairingStore) AddAllowFrom(channel, entry string) (changed bool, err error) {
	p, err := s.AllowFromPath(channel)
	if err != nil {
		return false, err
	}
	err = s.withLock(p, "{\n  \"version\": 1,\n  \"allowFrom\": []\n}", func() error {
		cur := s.readAllow(channel, p)
		n := s.norm(channel, entry)
		if n == "" || slices.Contains(cur, n) {
			return nil
		}
		changed = true
		return writeJSON0600(p, allowFile{Version: 1, AllowFrom: append(cur, n)})
	})
	return changed, err
}

// readRequests reads the pending requests of path (a broken file is
// empty, as the original treats it).
func readRequests(path string) []PairingRequest {
	var doc struct {
		Requests []json.RawMessage `json:"requests"`
	}
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []PairingRequest
	for _, raw := range doc.Requests {
		var r PairingRequest
		if json.Unmarshal(raw, &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

func parseISO(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// pruneExpired drops requests older than the TTL (or without a
// createdAt); removed reports any.
func (s *PairingStore) pruneExpired(reqs []PairingRequest) (kept []PairingRequest, removed bool) {
	now := s.now()
	for _, r := range reqs {
		c, ok := parseISO(r.CreatedAt)
		if !ok || now.Sub(c) > PairingPendingTTL {
			removed = true
			continue
		}
		kept = append(kept, r)
	}
	return kept, removed
}

func lastSeen(r PairingRequest) time.Time {
	if t, ok := parseISO(r.LastSeenAt); ok {
		return t
	}
	t, _ := parseISO(r.CreatedAt)
	return t
}

// pruneExcess keeps the PairingPendingMax most recently seen requests.
func pruneExcess(reqs []PairingRequest) ([]PairingRequest, bool) {
	if len(reqs) <= PairingPendingMax {
		return reqs, false
	}
	sorted := slices.Clone(reqs)
	sort.SliceStable(sorted, func(i, j int) bool { return lastSeen(sorted[i]).Before(lastSeen(sorted[j])) })
	return sorted[len(sorted)-PairingPendingMax:], true
}

func writeRequests(path string, reqs []PairingRequest) error {
	if reqs == nil {
		reqs = []PairingRequest{}
	}
	return writeJSON0600(path, pairingFile{Version: 1, Requests: reqs})
}

// List is the channel's pending requests, oldest first, pruning expired
// and excess ones from the file as the original does.
func (s *PairingStore) List(channel string) ([]PairingRequest, error) {
	p, err := s.PairingPath(channel)
	if err != nil {
		return nil, err
	}
	var out []PairingRequest
	err = s.withLock(p, pairingEmpty, func() error {
		reqs, expired := s.pruneExpired(readRequests(p))
		reqs, capped := pruneExcess(reqs)
		if expired || capped {
			if err := writeRequests(p, reqs); err != nil {
				return err
			}
		}
		for _, r := range reqs {
			if r.ID != "" && r.Code != "" && r.CreatedAt != "" {
				out = append(out, r)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt < out[j].CreatedAt })
		return nil
	})
	return out, err
}

// Upsert records a request from id: a pending sender keeps its code and
// has lastSeenAt refreshed (created false); a new one gets a fresh code
// (created true), unless PairingPendingMax are pending (code "").
func (s *PairingStore) Upsert(channel, id string, meta map[string]string) (code string, created bool, err error) {
	p, err := s.PairingPath(channel)
	if err != nil {
		return "", false, err
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return "", false, errors.New("pairing: empty sender id")
	}
	clean := map[string]string{}
	for k, v := range meta {
		if v = strings.TrimSpace(v); v != "" {
			clean[k] = v
		}
	}
	if len(clean) == 0 {
		clean = nil
	}
	err = s.withLock(p, pairingEmpty, func() error {
		now := isoNow(s.now())
		reqs, expired := s.pruneExpired(readRequests(p))
		codes := map[string]bool{}
		for _, r := range reqs {
			codes[strings.ToUpper(strings.TrimSpace(r.Code))] = true
		}
		for i, r := range reqs {
			if r.ID != id {
				continue
			}
			code = strings.TrimSpace(r.Code)
			if code == "" {
				if code, err = uniqueCode(codes); err != nil {
					return err
				}
			}
			n := PairingRequest{ID: id, Code: code, CreatedAt: r.CreatedAt, LastSeenAt: now, Meta: clean}
			if n.CreatedAt == "" {
				n.CreatedAt = now
			}
			if n.Meta == nil {
				n.Meta = r.Meta
			}
			reqs[i] = n
			reqs, _ = pruneExcess(reqs)
			return writeRequests(p, reqs)
		}
		reqs, capped := pruneExcess(reqs)
		if len(reqs) >= PairingPendingMax {
			if expired || capped {
				return writeRequests(p, reqs)
			}
			return nil
		}
		if code, err = uniqueCode(codes); err != nil {
			return err
		}
		created = true
		return writeRequests(p, append(reqs, PairingRequest{ID: id, Code: code, CreatedAt: now, LastSeenAt: now, Meta: clean}))
	})
	return code, created, err
}

// Approve removes the pending request with code (case-insensitive) and
// adds its sender to the allowFrom file; ok false when no pending request
// has that code.
func (s *PairingStore) Approve(channel, code string) (req PairingRequest, ok bool, err error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return req, false, nil
	}
	p, err := s.PairingPath(channel)
	if err != nil {
		return req, false, err
	}
	err = s.withLock(p, pairingEmpty, func() error {
		reqs, expired := s.pruneExpired(readRequests(p))
		idx := slices.IndexFunc(reqs, func(r PairingRequest) bool { return strings.ToUpper(r.Code) == code })
		if idx < 0 {
			if expired {
				return writeRequests(p, reqs)
			}
			return nil
		}
		req, ok = reqs[idx], true
		if err := writeRequests(p, slices.Delete(reqs, idx, idx+1)); err != nil {
			return err
		}
		_, err := s.AddAllowFrom(channel, req.ID)
		return err
	})
	return req, ok, err
}

func isoNow(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// uniqueCode is a random code not in taken.
func uniqueCode(taken map[string]bool) (string, error) {
	max := big.NewInt(int64(len(PairingCodeAlphabet)))
	for range 500 {
		var b strings.Builder
		for range PairingCodeLength {
			n, err := rand.Int(rand.Reader, max)
			if err != nil {
				return "", err
			}
			b.WriteByte(PairingCodeAlphabet[n.Int64()])
		}
		if c := b.String(); !taken[c] {
			return c, nil
		}
	}
	return "", errors.New("failed to generate unique pairing code")
}

// writeJSON0600 writes v as the original does (2-space indent, trailing
// newline) through a temp file and rename, mode 0600, dir 0700.
func writeJSON0600(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(buf.Bytes())
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, 0o600)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// pairingEmpty is a new pairing file, as the original creates it.
const pairingEmpty = "{\n  \"version\": 1,\n  \"requests\": []\n}"

// withLock runs fn holding path's proper-lockfile lock, creating path
// with fallback first (the original locks an existing file).
func (s *PairingStore) withLock(path, fallback string, fn func() error) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := writeJSON0600(path, json.RawMessage(fallback)); err != nil {
			return err
		}
	}
	release, err := lockDir(path + ".lock")
	if err != nil {
		return err
	}
	defer release()
	return fn()
}

// lockDir takes a proper-lockfile lock: mkdir lockPath; an existing one
// older than lockStale is removed and retried. While held, its mtime is
// refreshed every lockStale/2 so other processes see it alive.
func lockDir(lockPath string) (func(), error) {
	for attempt := 0; ; attempt++ {
		err := os.Mkdir(lockPath, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("pairing store lock %s: %w", lockPath, err)
		}
		if st, serr := os.Stat(lockPath); serr == nil && time.Since(st.ModTime()) > lockStale {
			_ = os.Remove(lockPath)
			continue
		}
		if attempt >= lockRetries {
			return nil, fmt.Errorf("pairing store is locked (%s); retry, or remove the directory if no clawdbot is running", lockPath)
		}
		time.Sleep(lockRetry)
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(lockStale / 2)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				_ = os.Chtimes(lockPath, now, now)
			}
		}
	}()
	return func() {
		close(done)
		_ = os.Remove(lockPath)
	}, nil
}
