package channels_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

var codeRE = regexp.MustCompile(`^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$`)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newStore(t *testing.T) (*channels.PairingStore, *clock, string) {
	dir := filepath.Join(t.TempDir(), "credentials")
	c := &clock{t: time.Date(2026, 1, 24, 10, 0, 0, 0, time.UTC)}
	strip := func(ch, e string) string {
		if ch == "telegram" {
			e = strings.TrimPrefix(strings.TrimPrefix(e, "telegram:"), "tg:")
		}
		return e
	}
	return channels.NewPairingStore(dir, c.now, strip), c, dir
}

func TestPairingUpsertRules(t *testing.T) {
	steps := []struct {
		name        string
		advance     time.Duration
		id          string
		wantCreated bool
		wantCode    string // "new", "same:<id>", ""
	}{
		{"first sender gets a code", 0, "111", true, "new"},
		{"repeat keeps its code", time.Minute, "111", false, "same:111"},
		{"second sender", 0, "222", true, "new"},
		{"third sender", 0, "333", true, "new"},
		{"fourth sender gets nothing", 0, "444", false, ""},
		{"still pending ones refresh", 0, "222", false, "same:222"},
		{"after an hour all expired: a new code", time.Hour + time.Minute, "444", true, "new"},
		{"the expired sender is new again", 0, "111", true, "new"},
	}
	s, c, _ := newStore(t)
	codes := map[string]string{}
	for _, st := range steps {
		c.add(st.advance)
		code, created, err := s.Upsert("telegram", st.id, map[string]string{"username": "u" + st.id, "name": ""})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if created != st.wantCreated {
			t.Errorf("%s: created = %v", st.name, created)
		}
		switch {
		case st.wantCode == "new":
			if !codeRE.MatchString(code) || code == codes[st.id] {
				t.Errorf("%s: code %q", st.name, code)
			}
			codes[st.id] = code
		case strings.HasPrefix(st.wantCode, "same:"):
			if code != codes[strings.TrimPrefix(st.wantCode, "same:")] {
				t.Errorf("%s: code %q, want %q", st.name, code, codes[st.id])
			}
		default:
			if code != "" {
				t.Errorf("%s: code %q, want none", st.name, code)
			}
		}
	}
}

// The files are the original's: shape, 2-space JSON, mode 0600, no temp
// files or lock left behind.
func TestPairingFileFormat(t *testing.T) {
	s, _, dir := newStore(t)
	code, _, err := s.Upsert("telegram", "111", map[string]string{"username": "alice", "name": " "})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "telegram-pairing.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "requests": [
    {
      "id": "111",
      "code": "` + code + `",
      "createdAt": "2026-01-24T10:00:00.000Z",
      "lastSeenAt": "2026-01-24T10:00:00.000Z",
      "meta": {
        "username": "alice"
      }
    }
  ]
}
`
	if string(b) != want {
		t.Errorf("pairing file:\n%s\nwant:\n%s", b, want)
	}
	if _, ok, err := s.Approve("telegram", strings.ToLower(code)); err != nil || !ok {
		t.Fatalf("approve: %v %v", ok, err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "telegram-allowFrom.json"))
	if string(b) != "{\n  \"version\": 1,\n  \"allowFrom\": [\n    \"111\"\n  ]\n}\n" {
		t.Errorf("allowFrom file: %s", b)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "telegram-pairing.json"))
	if string(b) != "{\n  \"version\": 1,\n  \"requests\": []\n}\n" {
		t.Errorf("pairing file after approve: %s", b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		info, _ := e.Info()
		if strings.Contains(e.Name(), ".tmp") || strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("left behind: %s", e.Name())
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", e.Name(), info.Mode().Perm())
		}
	}
}

// Files written by hand in the original's format (numbers in allowFrom,
// prefixes, unknown fields) are read, and approving a code the original
// issued works.
func TestPairingReadsOriginalFiles(t *testing.T) {
	s, _, dir := newStore(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"telegram-allowFrom.json": `{"version":1,"allowFrom":["tg:42", 43, "telegram:44", "*", ""]}`,
		"telegram-pairing.json": `{"version":1,"requests":[{"id":"777","code":"ABCD2345","createdAt":"2026-01-24T09:30:00.000Z",` +
			`"lastSeenAt":"2026-01-24T09:40:00.000Z","meta":{"firstName":"Bob"}},` +
			`{"id":"888","code":"ZZZZ9999","createdAt":"2026-01-24T08:00:00.000Z"}]}`,
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	allow, err := s.AllowFrom("telegram")
	if err != nil || strings.Join(allow, ",") != "42,43,44" {
		t.Errorf("allowFrom = %v, %v", allow, err)
	}
	reqs, err := s.List("telegram")
	if err != nil || len(reqs) != 1 || reqs[0].ID != "777" || reqs[0].Meta["firstName"] != "Bob" {
		t.Fatalf("list = %+v, %v (the 08:00 request is expired)", reqs, err)
	}
	if _, ok, _ := s.Approve("telegram", "ZZZZ9999"); ok {
		t.Error("approved an expired code")
	}
	if r, ok, err := s.Approve("telegram", "abcd2345"); !ok || err != nil || r.ID != "777" {
		t.Fatalf("approve = %+v %v %v", r, ok, err)
	}
	allow, _ = s.AllowFrom("telegram")
	if strings.Join(allow, ",") != "42,43,44,777" {
		t.Errorf("allowFrom after approve = %v", allow)
	}
	var doc map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "telegram-allowFrom.json"))
	if err := json.Unmarshal(b, &doc); err != nil || doc["version"] != float64(1) {
		t.Errorf("allowFrom file %s", b)
	}
}

func TestPairingLock(t *testing.T) {
	s, _, dir := newStore(t)
	if _, _, err := s.Upsert("whatsapp", "+1555", nil); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "whatsapp-pairing.json.lock")
	// A live lock (fresh mtime) held by another process makes us wait;
	// a stale one (older than 30 s) is taken over.
	if err := os.Mkdir(lock, 0o700); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.List("whatsapp"); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("List returned while locked: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stale lock not taken over")
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
}

// Concurrent upserts from many senders never exceed the cap or lose the
// file.
func TestPairingConcurrent(t *testing.T) {
	s, _, _ := newStore(t)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, _, err := s.Upsert("telegram", string(rune('a'+i)), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	reqs, err := s.List("telegram")
	if err != nil || len(reqs) != channels.PairingPendingMax {
		t.Fatalf("%d pending, %v; want %d", len(reqs), err, channels.PairingPendingMax)
	}
}

func TestPairingBadChannel(t *testing.T) {
	s, _, _ := newStore(t)
	for _, ch := range []string{"", "  ", "/"} {
		if _, _, err := s.Upsert(ch, "1", nil); err == nil {
			t.Errorf("channel %q accepted", ch)
		}
	}
	p, err := s.PairingPath("../x")
	if err != nil || strings.Contains(filepath.Base(p), "..") || filepath.Dir(p) != filepath.Dir(mustPath(t, s)) {
		t.Errorf("path %q escapes the credentials dir (%v)", p, err)
	}
}

func mustPath(t *testing.T, s *channels.PairingStore) string {
	p, err := s.PairingPath("telegram")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
