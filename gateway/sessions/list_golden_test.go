package sessions

import (
	"bytes"
	goflag "flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

var update = goflag.Bool("update", false, "rewrite testdata/list_golden.txt from the current sessions.list")

// listGoldenCalls are the sessions.list params the golden file pins, over
// testdata/list_store.json: every row field, derived fields (kind,
// channel, displayName, totalTokens, the deliveryContext fallback), HTML
// and line-separator characters the encoder escapes, legacy and bare keys,
// and every filter.
var listGoldenCalls = []string{
	`{}`,
	`{"includeGlobal":true,"includeUnknown":true}`,
	`{"includeDerivedTitles":true,"includeLastMessage":true,"includeGlobal":true,"includeUnknown":true}`,
	`{"includeDerivedTitles":true,"limit":2}`,
	`{"search":"ALICE"}`,
	`{"search":"bb7de001"}`,
	`{"label":"carol"}`,
	`{"spawnedBy":"agent:main:main"}`,
	`{"agentId":"MAIN","limit":3}`,
	`{"activeMinutes":1}`,
}

// TestListGolden pins the bytes sessions.list puts on the wire: the file
// was written by the reflection encoder (json.Marshal of wire's row
// structs) before the hand-ordered one replaced it, so a pass proves the
// two encode every case here identically.
func TestListGolden(t *testing.T) {
	f := newFixture(t)
	store, err := os.ReadFile(filepath.Join("testdata", "list_store.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "sessions.json"), store, 0o600); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, p := range listGoldenCalls {
		b, e := f.call(t, "sessions.list", p)
		if e != nil {
			t.Fatalf("sessions.list %s: %s", p, e.Message)
		}
		got.WriteString(p + "\n" + string(b) + "\n")
	}
	golden := filepath.Join("testdata", "list_golden.txt")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		gl, wl := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gl), len(wl)) {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
	}
}

// TestListRowCacheFollowsWrites: a cached row is rebuilt when its entry is
// rewritten (here or by another process) and dropped when it is deleted,
// and the cache never holds more rows than the store has sessions.
func TestListRowCacheFollowsWrites(t *testing.T) {
	f := newFixture(t)
	label := func() any {
		for _, r := range f.ok(t, "sessions.list", `{}`)["sessions"].([]any) {
			if r := r.(map[string]any); r["key"] == "agent:main:main" {
				return r["label"]
			}
		}
		return "missing"
	}
	if l := label(); l != nil {
		t.Fatalf("label = %v", l)
	}
	f.store.Update("main", func(e *sessionstore.Entry) error { e.Label = "first"; return nil })
	if l := label(); l != "first" {
		t.Errorf("after Update: label = %v", l)
	}
	// Another process rewrites the file: the store reloads, every entry is new.
	b, _ := os.ReadFile(filepath.Join(f.dir, "sessions.json"))
	b = bytes.Replace(b, []byte(`"label": "first"`), []byte(`"label": "second"`), 1)
	os.WriteFile(filepath.Join(f.dir, "sessions.json"), b, 0o600)
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(f.dir, "sessions.json"), future, future)
	if l := label(); l != "second" {
		t.Errorf("after an outside write: label = %v", l)
	}
	f.store.Delete("main")
	if l := label(); l != "missing" {
		t.Errorf("after Delete: label = %v", l)
	}
	if n := len(f.handlers.cache.rows); n != 0 {
		t.Errorf("cache holds %d rows after the only session was deleted", n)
	}
	for i := range 40 {
		f.store.Update(fmt.Sprintf("s%d", i), func(e *sessionstore.Entry) error { e.Label = fmt.Sprint(i); return nil })
		f.ok(t, "sessions.list", fmt.Sprintf(`{"label":"%d"}`, i))
		f.store.Update(fmt.Sprintf("s%d", i), func(e *sessionstore.Entry) error { e.Label = fmt.Sprint(i); e.UpdatedAt++; return nil })
	}
	if n := len(f.handlers.cache.rows); n > 40 {
		t.Errorf("filtered listings grew the cache to %d rows over 40 sessions", n)
	}
}

// TestListConcurrentWithWrites runs listings (filtered and not) beside
// store writes, for the race detector: the row cache is shared.
func TestListConcurrentWithWrites(t *testing.T) {
	f := newFixture(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			f.store.Update(fmt.Sprintf("c%d", i%5), func(e *sessionstore.Entry) error { e.Label = fmt.Sprint("l", i); return nil })
		}
	}()
	errs := make(chan error, 4)
	for _, p := range []string{`{}`, `{"label":"l3"}`, `{"search":"c"}`, `{"includeGlobal":true}`} {
		go func() {
			for range 20 {
				if _, e := f.call(t, "sessions.list", p); e != nil {
					errs <- fmt.Errorf("%s: %s", p, e.Message)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	<-done
	if n := len(f.ok(t, "sessions.list", `{}`)["sessions"].([]any)); n != 6 {
		t.Errorf("%d sessions after the writes, want main and c0..c4", n)
	}
}

// TestListKeyTwiceKeepsLater: a bare key and its canonical form in one
// store are one session, the later entry, on every listing (the cache
// must not let the first one win on a second call).
func TestListKeyTwiceKeepsLater(t *testing.T) {
	f := newFixture(t)
	os.WriteFile(filepath.Join(f.dir, "sessions.json"), []byte(`{"dupe": {"sessionId": "a", "updatedAt": 5, "label": "first"},
		"agent:main:dupe": {"sessionId": "b", "updatedAt": 4, "label": "second"}}`), 0o600)
	for i := range 3 {
		rows := f.ok(t, "sessions.list", `{}`)["sessions"].([]any)
		if len(rows) != 1 || rows[0].(map[string]any)["label"] != "second" {
			t.Fatalf("listing %d: %v", i, rows)
		}
	}
}
