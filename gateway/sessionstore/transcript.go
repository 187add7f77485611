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
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// Transcripts are <sessionId>.jsonl files in the pi-coding-agent v3 line
// format (doc/messaging.md §3.4): a header line
//
//	{"type":"session","version":3,"id":"<sessionId>","timestamp":"…","cwd":"…"}
//
// then one entry per line, each with an 8-hex id and the previous entry's
// id as parentId. Appends are O(1): the file is opened O_APPEND and one
// line written; the previous entry's id is remembered per file (or read
// from the file's tail once, when another process wrote last).

// Transcript entry types this package writes or reads.
const (
	TypeSession     = "session"
	TypeMessage     = "message"
	TypeModelChange = "model_change"
	TypeThinking    = "thinking_level_change"
	TypeCustom      = "custom"
	TypeCompaction  = "compaction"
)

// TranscriptVersion is the pi session format version we write.
const TranscriptVersion = 3

// Bounds of every transcript read: a longer line is skipped (the
// original's messages with inline images stay well below), and no read
// scans more than maxScanBytes from the end of a file.
const (
	MaxLineBytes  = 16 << 20
	maxScanBytes  = 256 << 20
	scanChunk     = 64 << 10
	maxHeadsCache = 4096
)

// Record is one transcript entry to append.
type Record struct {
	// Type is the entry type (TypeMessage when Message is set and Type
	// is empty).
	Type string
	// Message is the message of a message entry.
	Message *llm.Message
	// Fields are the entry's other fields, written in order after type,
	// id, parentId and timestamp (e.g. provider/modelId of model_change).
	Fields []Field
	// NoParent omits parentId, as the original's gateway does for the
	// entries it writes itself (chat.inject, replies without a run).
	NoParent bool
	// Time is the entry's timestamp (now when zero).
	Time time.Time
}

type head struct {
	lastID string
	size   int64
}

// transcripts remembers the chain head of the files this process appends
// to; mu also serialises appends (each one is a single short write).
type transcripts struct {
	mu    sync.Mutex
	heads map[string]head
}

// ISOTime is the transcript timestamp form: UTC, milliseconds, "Z".
func ISOTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// NewEntryID is a random 8-hex entry id.
func NewEntryID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AppendTranscript appends r to the transcript at path, creating it (and
// its directory) with the header for sessionID and cwd when it does not
// exist. It returns the new entry's id.
func (s *Store) AppendTranscript(path, sessionID, cwd string, r Record) (string, error) {
	return s.tx.append(path, sessionID, cwd, r, s.o.Now())
}

// Append appends r to the transcript of session sessionID of key (the
// file the entry names, else <store dir>/<sessionId>.jsonl), creating it
// with its header (cwd: the agent's workspace). It returns the entry id.
func (s *Store) Append(key, sessionID string, r Record) (string, error) {
	t := s.Target(key)
	path := filepath.Join(filepath.Dir(t.StorePath), sessionID+".jsonl")
	if e, ok := s.Get(key); ok && e.SessionID == sessionID && e.SessionFile != "" {
		path = e.SessionFile
	}
	cwd := s.o.StateDir
	if s.o.Workspace != nil {
		cwd = s.o.Workspace(t.AgentID)
	}
	return s.AppendTranscript(path, sessionID, cwd, r)
}

func (tx *transcripts) append(path, sessionID, cwd string, r Record, now time.Time) (string, error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.heads == nil || len(tx.heads) > maxHeadsCache {
		tx.heads = map[string]head{}
	}
	if r.Time.IsZero() {
		r.Time = now
	}
	var out []byte
	var parent string
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", fmt.Errorf("create transcript: %w", err)
		}
		hdr, _ := marshalNoEscape(struct {
			Type      string `json:"type"`
			Version   int    `json:"version"`
			ID        string `json:"id"`
			Timestamp string `json:"timestamp"`
			Cwd       string `json:"cwd"`
		}{TypeSession, TranscriptVersion, sessionID, ISOTime(r.Time), cwd})
		out = append(hdr, '\n')
		st = nil
	case err != nil:
		return "", fmt.Errorf("transcript: %w", err)
	default:
		if h, ok := tx.heads[path]; ok && h.size == st.Size() {
			parent = h.lastID
		} else {
			parent = lastEntryID(path)
		}
	}
	id := NewEntryID()
	for id == parent {
		id = NewEntryID()
	}
	line, err := encodeRecord(r, id, parent)
	if err != nil {
		return "", err
	}
	out = append(out, line...)
	out = append(out, '\n')
	flags := os.O_WRONLY | os.O_APPEND
	if st == nil {
		flags |= os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) { // another writer created it just now
		out = out[bytes.IndexByte(out, '\n')+1:]
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	}
	if err != nil {
		return "", fmt.Errorf("open transcript: %w", err)
	}
	_, werr := f.Write(out)
	st2, serr := f.Stat()
	cerr := f.Close()
	if werr != nil || cerr != nil {
		delete(tx.heads, path)
		return "", fmt.Errorf("write transcript: %w", errors.Join(werr, cerr))
	}
	if serr == nil {
		tx.heads[path] = head{lastID: id, size: st2.Size()}
	}
	return id, nil
}

func encodeRecord(r Record, id, parent string) ([]byte, error) {
	typ := r.Type
	if typ == "" && r.Message != nil {
		typ = TypeMessage
	}
	if typ == "" {
		return nil, errors.New("transcript record without a type")
	}
	var b bytes.Buffer
	b.WriteString(`{"type":`)
	t, _ := marshalNoEscape(typ)
	b.Write(t)
	b.WriteString(`,"id":"` + id + `"`)
	if !r.NoParent {
		if parent == "" {
			b.WriteString(`,"parentId":null`)
		} else {
			b.WriteString(`,"parentId":"` + parent + `"`)
		}
	}
	b.WriteString(`,"timestamp":"` + ISOTime(r.Time) + `"`)
	for _, f := range r.Fields {
		k, _ := marshalNoEscape(f.Name)
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		if err := json.Compact(&b, f.Value); err != nil {
			return nil, fmt.Errorf("transcript field %s: %w", f.Name, err)
		}
	}
	if r.Message != nil {
		m, err := marshalNoEscape(r.Message)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"message":`)
		b.Write(m)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// lastEntryID is the id of the last entry (not the header) of a
// transcript, "" when it has none.
func lastEntryID(path string) string {
	var id string
	_ = ScanBack(path, func(line []byte) bool {
		var e struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if json.Unmarshal(line, &e) != nil || e.ID == "" {
			return true
		}
		if e.Type != TypeSession {
			id = e.ID
		}
		return false
	})
	return id
}

// lineCap is MaxLineBytes, a variable so tests can use a small one.
var lineCap = MaxLineBytes

// ScanBack calls fn with the non-empty lines of the file at path from the
// last to the first, until fn returns false. It reads backwards in chunks,
// so the cost is what is scanned, not the file size; lines over
// MaxLineBytes are skipped (without being held in memory), and at most
// maxScanBytes are read.
func ScanBack(path string, fn func(line []byte) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pos := st.Size()
	stop := max(0, pos-maxScanBytes)
	var tail [][]byte // the line being assembled, its later parts last
	tailLen := 0
	skipping := false // inside an over-long line
	emit := func(first []byte) bool {
		if len(first)+tailLen > lineCap {
			return true
		}
		line := first
		if len(tail) > 0 {
			line = bytes.Join(append([][]byte{first}, tail...), nil)
		}
		line = bytes.TrimSpace(line)
		return len(line) == 0 || fn(line)
	}
	for pos > stop {
		n := min(int64(scanChunk), pos-stop)
		pos -= n
		data := make([]byte, n)
		if _, err := f.ReadAt(data, pos); err != nil && err != io.EOF {
			return err
		}
		for {
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 {
				break
			}
			if skipping {
				skipping = false
			} else if !emit(data[i+1:]) {
				return nil
			}
			tail, tailLen = nil, 0
			data = data[:i]
		}
		if skipping {
			continue
		}
		tail = append([][]byte{data}, tail...)
		tailLen += len(data)
		if tailLen > lineCap {
			tail, tailLen, skipping = nil, 0, true
		}
	}
	if pos == 0 && !skipping && tailLen > 0 {
		emit(nil)
	}
	return nil
}

// ReadRawMessages returns the "message" objects of the last limit entries
// of the transcript at path that have one, oldest first, raw as stored
// (chat.history sends them unchanged). Lines that are not JSON and entries
// without a message (the header, model_change, compaction, custom, …) are
// skipped. A missing file has no messages.
func ReadRawMessages(path string, limit int) ([]json.RawMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []json.RawMessage
	err := ScanBack(path, func(line []byte) bool {
		var e struct {
			Message json.RawMessage `json:"message"`
		}
		if json.Unmarshal(line, &e) != nil {
			return true
		}
		if m := bytes.TrimSpace(e.Message); len(m) > 0 && m[0] == '{' {
			out = append(out, slices.Clone(m))
		}
		return len(out) < limit
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	slices.Reverse(out)
	return out, err
}

// ReadMessages is ReadRawMessages decoded as llm.Message (what a model
// turn is built from). A message that does not decode is skipped.
func ReadMessages(path string, limit int) ([]llm.Message, error) {
	raw, err := ReadRawMessages(path, limit)
	out := make([]llm.Message, 0, len(raw))
	for _, r := range raw {
		var m llm.Message
		if json.Unmarshal(r, &m) == nil {
			out = append(out, m)
		}
	}
	return out, err
}

// TranscriptCandidates are the files that may hold session sessionID of
// a store, in the original's lookup order: the entry's sessionFile, the
// store's directory, the agent's default sessions directory, and the
// legacy ~/.clawdbot/sessions.
func (s *Store) TranscriptCandidates(t Target, e Entry) []string {
	var out []string
	if e.SessionFile != "" {
		out = append(out, e.SessionFile)
	}
	name := e.SessionID + ".jsonl"
	out = append(out, filepath.Join(filepath.Dir(t.StorePath), name))
	def := filepath.Join(s.o.StateDir, "agents", NormalizeAgentID(t.AgentID), "sessions", name)
	if !slices.Contains(out, def) {
		out = append(out, def)
	}
	if s.o.Home != "" {
		out = append(out, filepath.Join(s.o.Home, ".clawdbot", "sessions", name))
	}
	return out
}

// FindTranscript is the first existing candidate ("" when none exists).
func (s *Store) FindTranscript(t Target, e Entry) string {
	if e.SessionID == "" {
		return ""
	}
	for _, p := range s.TranscriptCandidates(t, e) {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// SessionMessages returns the last limit messages of key's current
// session (none when it has no session or no transcript yet).
func (s *Store) SessionMessages(key string, limit int) ([]llm.Message, error) {
	t := s.Target(key)
	e, ok := s.Get(key)
	if !ok {
		return nil, nil
	}
	p := s.FindTranscript(t, e)
	if p == "" {
		return nil, nil
	}
	return ReadMessages(p, limit)
}

// ForgetTranscript drops what the store remembers of path (after it was
// renamed or rewritten), so the next append re-reads its tail.
func (s *Store) ForgetTranscript(path string) {
	s.tx.mu.Lock()
	delete(s.tx.heads, path)
	s.tx.mu.Unlock()
}
