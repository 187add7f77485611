package sessionstore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
)

// Options configure a Store.
type Options struct {
	// StateDir is the profile's state directory; Home the user's home (for
	// "~" in session.store and the legacy transcript directory).
	StateDir string
	Home     string
	// Config returns the current session config (read on every call, so a
	// config reload applies); nil means the defaults.
	Config func() Config
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Workspace is the cwd written into a new transcript's header (the
	// agent's workspace); nil writes the state dir.
	Workspace func(agentID string) string
}

// Store is the session store of every agent of a profile: each agent's
// sessions.json (or the one session.store file) indexed in memory, loaded
// on first use and reloaded only when the file changes on disk (another
// process wrote it), plus the transcripts beside it. It is safe for
// concurrent use; writes of one file are serialised in-process by a mutex
// and across processes by the original's lock file.
type Store struct {
	o Options

	mu    sync.Mutex
	files map[string]*storeFile

	tx transcripts
}

// storeFile is one sessions.json and its in-memory index.
type storeFile struct {
	path string

	mu      sync.Mutex
	loaded  bool
	info    fs.FileInfo // as of the last load or write; nil when absent
	bad     error       // the file exists but does not parse
	keys    []string    // file order
	entries map[string]*Entry
}

// New returns a store; nothing is read until first use.
func New(o Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{o: o, files: map[string]*storeFile{}}
}

// Config is the current session config.
func (s *Store) Config() Config {
	if s.o.Config == nil {
		c := ParseConfig(nil)
		return c
	}
	return s.o.Config()
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.o.Now() }

// StatePath is the sessions.json that holds agentID's sessions.
func (s *Store) StatePath(agentID string) string {
	c := s.Config()
	return c.StorePathFor(s.o.StateDir, s.o.Home, agentID)
}

func (s *Store) file(path string) *storeFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[path]
	if f == nil {
		f = &storeFile{path: path}
		s.files[path] = f
	}
	return f
}

// Target is where a session key lives: its canonical key, its agent, its
// store file and the keys an entry may be stored under (the canonical key
// first, then the key as given, which the original may have written).
type Target struct {
	Key       string
	AgentID   string
	StorePath string
	StoreKeys []string
}

// Target resolves key (an alias such as "main" is fine).
func (s *Store) Target(key string) Target {
	c := s.Config()
	raw := strings.TrimSpace(key)
	canon := c.CanonicalKey(raw)
	agent := c.AgentOf(canon)
	t := Target{Key: canon, AgentID: agent, StorePath: c.StorePathFor(s.o.StateDir, s.o.Home, agent), StoreKeys: []string{canon}}
	if raw != "" && raw != canon {
		t.StoreKeys = append(t.StoreKeys, raw)
	}
	return t
}

// Get returns the entry of key (a copy) and whether it exists.
func (s *Store) Get(key string) (Entry, bool) {
	t := s.Target(key)
	f := s.file(t.StorePath)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh()
	for _, k := range t.StoreKeys {
		if e := f.entries[k]; e != nil {
			return e.Clone(), true
		}
	}
	return Entry{}, false
}

// Keyed is one session of a listing.
type Keyed struct {
	// Key is the canonical key (agent:<agentId>:<key> for a bare key found
	// in an agent's store).
	Key     string
	AgentID string
	Entry   Entry
}

// List returns the sessions of the given agents' stores (all known agents
// when agentIDs is nil; see AgentIDs) in file order, keys canonicalised as
// the original's loadCombinedSessionStoreForGateway does. path is the
// store path to report: the store file when session.store is a fixed
// path, else "(multiple)".
func (s *Store) List(agentIDs []string) (rows []Keyed, path string) {
	c := s.Config()
	if c.FixedStore() {
		p := c.StorePathFor(s.o.StateDir, s.o.Home, c.defaultAgent())
		return s.listFile(p, c.defaultAgent(), nil), p
	}
	if agentIDs == nil {
		agentIDs = s.AgentIDs()
	}
	seen := map[string]int{}
	for _, a := range agentIDs {
		rows = s.listFile(c.StorePathFor(s.o.StateDir, s.o.Home, a), a, rows)
	}
	// A key in two stores (a template store shared by agents) keeps the
	// later one, as the original's merge does.
	out := rows[:0]
	for _, r := range rows {
		if i, dup := seen[r.Key]; dup {
			out[i] = r
			continue
		}
		seen[r.Key] = len(out)
		out = append(out, r)
	}
	p := "(multiple)"
	if c.StorePath != "" {
		p = c.StorePath
	}
	return out, p
}

// Range calls fn for every session List would return, without copying
// entries: e is the store's own and must only be read. The store
// replaces, never mutates, an entry on write, so e stays valid after fn
// and its pointer names this version of the entry (sessions.list caches
// its rows on it). It is List for hot paths.
func (s *Store) Range(fn func(key, agentID string, e *Entry)) (path string) {
	c := s.Config()
	agents, path := s.AgentIDs(), "(multiple)"
	if c.FixedStore() {
		agents = []string{c.defaultAgent()}
		path = c.StorePathFor(s.o.StateDir, s.o.Home, c.defaultAgent())
	} else if c.StorePath != "" {
		path = c.StorePath
	}
	seen := map[string]bool{}
	for _, a := range agents {
		p := c.StorePathFor(s.o.StateDir, s.o.Home, a)
		if seen[p] {
			continue // a shared template path is listed once
		}
		seen[p] = true
		f := s.file(p)
		f.mu.Lock()
		f.refresh()
		keys, entries := f.keys, f.entries
		f.mu.Unlock()
		for _, k := range keys {
			key := k
			if k != KeyGlobal && k != KeyUnknown && !hasAgentPrefix(k) {
				key = "agent:" + NormalizeAgentID(a) + ":" + k
			}
			fn(key, a, entries[k])
		}
	}
	return path
}

func (s *Store) listFile(path, agentID string, rows []Keyed) []Keyed {
	f := s.file(path)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh()
	rows = slices.Grow(rows, len(f.keys))
	for _, k := range f.keys {
		key := k
		if k != KeyGlobal && k != KeyUnknown && !hasAgentPrefix(k) {
			key = "agent:" + NormalizeAgentID(agentID) + ":" + k
		}
		rows = append(rows, Keyed{Key: key, AgentID: agentID, Entry: f.entries[k].Clone()})
	}
	return rows
}

func hasAgentPrefix(k string) bool { return len(k) >= 6 && k[:6] == "agent:" }

// AgentIDs are the agents whose stores are listed, as the original's
// listConfiguredAgentIds: the default agent first, then agents.list (or,
// without one, the directories under <state>/agents), sorted.
func (s *Store) AgentIDs() []string {
	c := s.Config()
	def := c.defaultAgent()
	ids := map[string]bool{def: true}
	if len(c.Agents) > 0 {
		for _, a := range c.Agents {
			ids[a] = true
		}
	} else if des, err := os.ReadDir(filepath.Join(s.o.StateDir, "agents")); err == nil {
		for _, d := range des {
			if d.IsDir() {
				ids[NormalizeAgentID(d.Name())] = true
			}
		}
	}
	out := []string{def}
	rest := make([]string, 0, len(ids))
	for id := range ids {
		if id != def {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Resolve returns the session of key for a new turn, creating it when it
// does not exist and giving it a new sessionId (and so a new transcript)
// when it is stale by the reset policy (doc/protocol.md §3.5); created reports
// either. A rotated session keeps its settings (levels, model, label,
// delivery) and loses its token counts and flags, as sessions.reset does.
// A fresh session is returned unchanged: the caller touches updatedAt
// (Update) when its turn starts.
func (s *Store) Resolve(key string) (e Entry, created bool, err error) {
	t := s.Target(key)
	c := s.Config()
	now := s.o.Now()
	// The common case, a fresh session under its canonical key, needs no
	// write: answer it from the index without taking the lock file (whose
	// create and remove cost about a millisecond on ext4, on every turn).
	f := s.file(t.StorePath)
	f.mu.Lock()
	f.refresh()
	cur := f.entries[t.StoreKeys[0]]
	fresh := f.bad == nil && cur != nil && cur.SessionID != "" &&
		c.PolicyFor(ResetType(t.Key, cur.ChatType == "group" || cur.ChatType == "channel", false), sessionChannel(cur)).Fresh(cur.UpdatedAt, now)
	if fresh {
		e = cur.Clone()
	}
	f.mu.Unlock()
	if fresh {
		return e, false, nil
	}
	err = s.mutate(t, func(cur *Entry) (*Entry, error) {
		switch {
		case cur == nil || cur.SessionID == "":
			n := Entry{SessionID: NewSessionID(), UpdatedAt: now.UnixMilli()}
			if cur != nil {
				n = cur.Clone()
				n.SessionID, n.UpdatedAt = NewSessionID(), now.UnixMilli()
			}
			e, created = n, true
			return &n, nil
		case !c.PolicyFor(ResetType(t.Key, cur.ChatType == "group" || cur.ChatType == "channel", false), sessionChannel(cur)).Fresh(cur.UpdatedAt, now):
			n := Rotated(*cur, now)
			e, created = n, true
			return &n, nil
		}
		e = cur.Clone()
		return nil, nil // unchanged: no write
	})
	return e, created, err
}

// Rotated is cur with a new sessionId, as a reset leaves it: flags false,
// tokens 0, the transcript file and per-run fields dropped, settings kept.
func Rotated(cur Entry, now time.Time) Entry {
	n := cur.Clone()
	n.SessionID, n.UpdatedAt, n.SessionFile = NewSessionID(), now.UnixMilli(), ""
	n.SystemSent, n.AbortedLastRun = Bool(false), Bool(false)
	n.InputTokens, n.OutputTokens, n.TotalTokens = Int(0), Int(0), Int(0)
	n.CompactionCount = nil
	return n
}

func sessionChannel(e *Entry) string {
	if e.Channel != "" {
		return e.Channel
	}
	if e.LastChannel != "" {
		return e.LastChannel
	}
	var dc struct {
		Channel string `json:"channel"`
	}
	_ = json.Unmarshal(e.DeliveryContext, &dc)
	return dc.Channel
}

// Update applies fn to the entry of key under the store's lock and
// writes the store; a missing entry is created first with a new sessionId
// and updatedAt now. fn works on a copy: an error from it leaves the
// store untouched and is returned. The result is the entry as written.
func (s *Store) Update(key string, fn func(*Entry) error) (Entry, error) {
	t := s.Target(key)
	now := s.o.Now()
	var out Entry
	err := s.mutate(t, func(cur *Entry) (*Entry, error) {
		n := Entry{SessionID: NewSessionID(), UpdatedAt: now.UnixMilli()}
		if cur != nil {
			n = cur.Clone()
		}
		if err := fn(&n); err != nil {
			return nil, err
		}
		out = n.Clone()
		return &n, nil
	})
	return out, err
}

// UpdateAll applies fn to the whole store file of agentID (key → entry;
// fn may add, change and delete entries) under the lock, for checks that
// span sessions (a unique label). Entries handed to fn are copies.
func (s *Store) UpdateAll(key string, fn func(t Target, entries map[string]*Entry) error) error {
	t := s.Target(key)
	f := s.file(t.StorePath)
	f.mu.Lock()
	defer f.mu.Unlock()
	release, err := acquireLock(f.path)
	if err != nil {
		return err
	}
	defer release()
	f.refresh() // under the lock: any other writer changed the file identity (rename)
	if f.bad != nil {
		return f.bad
	}
	m := make(map[string]*Entry, len(f.entries))
	for k, e := range f.entries {
		c := e.Clone()
		m[k] = &c
	}
	if err := fn(t, m); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for _, k := range f.keys {
		if m[k] != nil {
			keys = append(keys, k)
		}
	}
	var added []string
	for k := range m {
		if f.entries[k] == nil {
			added = append(added, k)
		}
	}
	slices.Sort(added)
	return f.write(append(keys, added...), m)
}

// Delete removes the entry of key; it returns the removed entry and
// whether there was one.
func (s *Store) Delete(key string) (Entry, bool, error) {
	t := s.Target(key)
	var old Entry
	var existed bool
	err := s.mutate(t, func(cur *Entry) (*Entry, error) {
		if cur == nil {
			return nil, nil
		}
		old, existed = cur.Clone(), true
		return nil, errDelete
	})
	return old, existed, err
}

var errDelete = errors.New("delete")

// mutate runs fn on the entry of t under the lock. fn returns the new
// entry (nil: leave the store unchanged) or errDelete to remove it. An
// entry stored under an alias key is moved to the canonical key, as the
// original's handlers do.
func (s *Store) mutate(t Target, fn func(cur *Entry) (*Entry, error)) error {
	f := s.file(t.StorePath)
	f.mu.Lock()
	defer f.mu.Unlock()
	release, err := acquireLock(f.path)
	if err != nil {
		return err
	}
	defer release()
	f.refresh() // under the lock: any other writer changed the file identity (rename)
	if f.bad != nil {
		return f.bad
	}
	primary := t.StoreKeys[0]
	var cur *Entry
	from := ""
	for _, k := range t.StoreKeys {
		if e := f.entries[k]; e != nil {
			cur, from = e, k
			break
		}
	}
	var arg *Entry
	if cur != nil {
		c := cur.Clone()
		arg = &c
	}
	next, ferr := fn(arg)
	if ferr != nil && ferr != errDelete {
		return ferr
	}
	if ferr == nil && next == nil && (from == "" || from == primary) {
		return nil
	}
	entries := maps(f.entries)
	keys := slices.Clone(f.keys)
	if from != "" && from != primary {
		delete(entries, from)
		if i := slices.Index(keys, from); i >= 0 {
			if entries[primary] == nil {
				keys[i] = primary
			} else {
				keys = slices.Delete(keys, i, i+1)
			}
		}
		if next == nil && ferr == nil {
			next = cur
		}
	}
	if ferr == errDelete {
		delete(entries, primary)
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == primary })
	} else {
		if !slices.Contains(keys, primary) {
			keys = append(keys, primary)
		}
		n := next.Clone()
		entries[primary] = &n
	}
	return f.write(keys, entries)
}

func maps(m map[string]*Entry) map[string]*Entry {
	out := make(map[string]*Entry, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// refresh (f.mu held) loads the file when it was never loaded or has
// changed on disk since (size, mtime or identity), so reads stay cheap (one
// stat) while writes of other processes become visible.
func (f *storeFile) refresh() {
	st, err := os.Stat(f.path)
	if f.loaded {
		switch {
		case err != nil && f.info == nil:
			return
		case err == nil && f.info != nil && os.SameFile(st, f.info) && st.Size() == f.info.Size() && st.ModTime().Equal(f.info.ModTime()):
			return
		}
	}
	f.load()
}

// maxStoreBytes bounds what is read of a sessions.json: far above any real
// store (a thousand sessions are a few hundred KiB).
const maxStoreBytes = 256 << 20

func (f *storeFile) load() {
	f.loaded, f.bad, f.info = true, nil, nil
	f.keys, f.entries = nil, map[string]*Entry{}
	fh, err := os.Open(f.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.bad = fmt.Errorf("read session store %s: %w", f.path, err)
		}
		return
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		f.bad = fmt.Errorf("read session store %s: %w", f.path, err)
		return
	}
	if st.Size() > maxStoreBytes {
		f.bad = fmt.Errorf("session store %s is larger than %d MiB; move it aside", f.path, maxStoreBytes>>20)
		return
	}
	raw := make([]byte, st.Size())
	if _, err := io.ReadFull(fh, raw); err != nil {
		f.bad = fmt.Errorf("read session store %s: %w", f.path, err)
		return
	}
	f.info = st
	keys, entries, err := parseStore(raw)
	if err != nil {
		f.bad = fmt.Errorf("session store %s is not valid JSON5 (%v); fix or move it aside, it is left untouched", f.path, err)
		return
	}
	f.keys, f.entries = keys, entries
}

// parseStore decodes a sessions.json: JSON first (the fast path, what both
// implementations write), JSON5 when that fails (a hand-edited file).
// Keys keep their file order. A value that is not an object is dropped, as
// the original skips it.
func parseStore(raw []byte) ([]string, map[string]*Entry, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, map[string]*Entry{}, nil
	}
	keys, entries, err := parseStoreJSON(raw)
	if err == nil {
		return keys, entries, nil
	}
	js, err5 := profiles.FormatJSON(raw)
	if err5 != nil {
		return nil, nil, err5
	}
	return parseStoreJSON(js)
}

func parseStoreJSON(raw []byte) ([]string, map[string]*Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, map[string]*Entry{}, nil // not a record: the original treats it as empty
	}
	var keys []string
	entries := map[string]*Entry{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		v = bytes.TrimSpace(v)
		if len(v) == 0 || v[0] != '{' {
			continue
		}
		e := new(Entry)
		if err := json.Unmarshal(v, e); err != nil {
			return nil, nil, err
		}
		if _, dup := entries[k]; !dup {
			keys = append(keys, k)
		}
		entries[k] = e
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	return keys, entries, nil
}

// write saves keys/entries as the original does (2-space JSON, no HTML
// escaping, 0600) through <store>.<pid>.<random>.tmp and a rename, and
// makes them the in-memory index.
func (f *storeFile) write(keys []string, entries map[string]*Entry) error {
	data, err := encodeStore(keys, entries)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("write session store: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d.%s.tmp", f.path, os.Getpid(), NewSessionID())
	if err := writeSync(tmp, data); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write session store: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write session store: %w", err)
	}
	_ = os.Chmod(f.path, 0o600)
	st, err := os.Stat(f.path)
	if err != nil {
		st = nil
	}
	f.loaded, f.bad, f.info, f.keys, f.entries = true, nil, st, keys, entries
	return nil
}

func writeSync(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// encodeStore is JSON.stringify(store, null, 2) for our entries.
func encodeStore(keys []string, entries map[string]*Entry) ([]byte, error) {
	if len(keys) == 0 {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n  ")
		kb, _ := marshalNoEscape(k)
		buf.Write(kb)
		buf.WriteString(": ")
		eb, err := entries[k].MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("encode session %s: %w", k, err)
		}
		if err := json.Indent(&buf, eb, "  ", "  "); err != nil {
			return nil, fmt.Errorf("encode session %s: %w", k, err)
		}
	}
	buf.WriteString("\n}")
	return buf.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// NewSessionID is a random UUID (v4), the original's session id form.
func NewSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ReadStoreFile reads one sessions.json as it is on disk (keys not
// canonicalised, file order), for tools that show the file itself (the
// `clawdbot sessions` command). A missing file is an empty store.
func ReadStoreFile(path string) ([]Keyed, error) {
	f := &storeFile{path: path}
	f.load()
	if f.bad != nil {
		return nil, f.bad
	}
	out := make([]Keyed, 0, len(f.keys))
	for _, k := range f.keys {
		out = append(out, Keyed{Key: k, Entry: *f.entries[k]})
	}
	return out, nil
}
