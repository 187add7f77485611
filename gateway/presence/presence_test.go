package presence

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clawdbot/clawdbot/wire"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(c *clock) *Store {
	return New(wire.PresenceEntry{Host: "GW-Host", Mode: "gateway", Reason: "self", Text: "Gateway: GW-Host"}, c.now)
}

func TestParseNodeText(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		text string
		want NodeText
		ok   bool
	}{
		{"Node: mac-studio (192.168.1.5) · app 2026.1.24 · last input 12s ago · mode ui · reason periodic",
			NodeText{Host: "mac-studio", IP: "192.168.1.5", Version: "2026.1.24", LastInputSeconds: f(12), Mode: "ui", Reason: "periodic"}, true},
		{"  node: lab (10.0.0.9) · APP 1.2 · Last Input 0s ago · MODE ui · REASON launch now  ",
			NodeText{Host: "lab", IP: "10.0.0.9", Version: "1.2", LastInputSeconds: f(0), Mode: "ui", Reason: "launch now"}, true},
		// Every part is required: no "last input", no ip, a host with a
		// space do not match (the original stores such a text as text only).
		{"Node: lab (10.0.0.9) · app 1.2 · mode ui · reason launch", NodeText{}, false},
		{"Node: lab · app 1.2 · last input 3s ago · mode ui · reason launch", NodeText{}, false},
		{"Node: my lab (10.0.0.9) · app 1.2 · last input 3s ago · mode ui · reason x", NodeText{}, false},
		{"peerbench probe", NodeText{}, false},
	}
	for _, tc := range cases {
		got, ok := ParseNodeText(tc.text)
		if ok != tc.ok || fmt.Sprint(got.Host, got.IP, got.Version, got.Mode, got.Reason) != fmt.Sprint(tc.want.Host, tc.want.IP, tc.want.Version, tc.want.Mode, tc.want.Reason) ||
			(got.LastInputSeconds == nil) != (tc.want.LastInputSeconds == nil) ||
			(got.LastInputSeconds != nil && *got.LastInputSeconds != *tc.want.LastInputSeconds) {
			t.Errorf("ParseNodeText(%q) = %+v %v, want %+v %v", tc.text, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSystemEventKey(t *testing.T) {
	s := newStore(&clock{t: time.Now()})
	long := ""
	for range 70 {
		long += "·"
	}
	beacon := "Node: Mac-Studio (192.168.1.5) · app 1 · last input 1s ago · mode ui · reason periodic"
	cases := []struct{ dev, inst, text, want string }{
		{" DEV-1 ", "inst", beacon, "dev-1"},
		{"", " Inst-2 ", beacon, "inst-2"},
		{"", "", beacon, "mac-studio"},
		{"", "", "Some Free Text", "Some Free Text"}, // used as-is
		{"", "", long, long[:64*len("·")]},           // 64 characters, not bytes
	}
	for _, tc := range cases {
		if got := s.SystemEventKey(tc.dev, tc.inst, tc.text); got != tc.want {
			t.Errorf("key(%q,%q,%q) = %q, want %q", tc.dev, tc.inst, tc.text, got, tc.want)
		}
	}
}

// Every stored entry has text: a disconnect that recreates an entry whose
// connect expired gets the original's default text.
func TestUpdateDefaultText(t *testing.T) {
	c := &clock{t: time.Now()}
	s := newStore(c)
	e := s.Update("k", wire.PresenceEntry{Reason: "disconnect"})
	if e.Text != "Node: unknown · mode unknown" {
		t.Fatalf("text = %q", e.Text)
	}
	e = s.Update("k2", wire.PresenceEntry{Host: "h", Mode: "ui"})
	if e.Text != "Node: h · mode ui" {
		t.Fatalf("text = %q", e.Text)
	}
	e = s.Update("k2", wire.PresenceEntry{Host: "other", Reason: "disconnect"})
	if e.Text != "Node: h · mode ui" || e.Host != "other" || e.Mode != "ui" {
		t.Fatalf("update kept = %+v", e)
	}
}

// Set (a connect) replaces the fields, unions roles and scopes and keeps
// the stored text.
func TestSetReplacesFields(t *testing.T) {
	s := newStore(&clock{t: time.Now()})
	s.Set("k", wire.PresenceEntry{Host: "h", IP: "10.0.0.2", DeviceFamily: "Mac", Mode: "ui", Roles: []string{"operator"}, Scopes: []string{"operator.read"}})
	e := s.Set("k", wire.PresenceEntry{Host: "h", Mode: "node", Roles: []string{"node"}, Scopes: []string{"operator.write"}})
	if e.IP != "" || e.DeviceFamily != "" || e.Mode != "node" {
		t.Fatalf("fields not replaced: %+v", e)
	}
	if !slices.Equal(e.Roles, []string{"operator", "node"}) || !slices.Equal(e.Scopes, []string{"operator.read", "operator.write"}) {
		t.Fatalf("roles/scopes not unioned: %+v", e)
	}
	if e.Text != "Node: h · mode ui" {
		t.Fatalf("text = %q, want the first connect's", e.Text)
	}
}

func TestListTTLCapAndSelf(t *testing.T) {
	c := &clock{t: time.Now()}
	s := newStore(c)
	for i := range MaxEntries + 5 {
		c.t = c.t.Add(time.Millisecond)
		s.Update(fmt.Sprintf("k%03d", i), wire.PresenceEntry{Host: "h"})
	}
	l := s.List()
	if len(l) != MaxEntries+1 || l[0].Reason != "self" || l[0].TS != c.t.UnixMilli() {
		t.Fatalf("len %d, first %+v", len(l), l[0])
	}
	for i := 1; i < len(l)-1; i++ {
		if l[i].TS < l[i+1].TS {
			t.Fatalf("not newest first at %d", i)
		}
	}
	if _, ok := s.Get("k000"); ok {
		t.Fatal("oldest entry kept beyond the cap")
	}
	c.t = c.t.Add(TTL + time.Second)
	l = s.List()
	if len(l) != 1 || l[0].Reason != "self" || l[0].TS != c.t.UnixMilli() {
		t.Fatalf("after TTL: %+v", l)
	}
}

// Stored fields are cut to their bounds (on a UTF-8 boundary), roles and
// scopes keep MaxListItems values, and the list drops its oldest entries
// once its field data passes MaxBytes.
func TestEntriesBounded(t *testing.T) {
	c := &clock{t: time.Now()}
	s := newStore(c)
	big := strings.Repeat("é", 300_000) // 600 KB, 2-byte runes
	many := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprintf("scope-%d-%s", i, big[:1000])
	}
	e := s.Update("k", wire.PresenceEntry{Host: big, Text: big, Version: big, Scopes: many})
	if len(e.Host) > MaxFieldBytes || len(e.Version) > MaxFieldBytes || len(e.Text) > MaxTextBytes ||
		!utf8.ValidString(e.Host) || !utf8.ValidString(e.Text) {
		t.Fatalf("fields not cut: host %d, version %d, text %d bytes", len(e.Host), len(e.Version), len(e.Text))
	}
	if len(e.Scopes) != MaxListItems || len(e.Scopes[0]) > MaxFieldBytes {
		t.Fatalf("scopes: %d items, first %d bytes", len(e.Scopes), len(e.Scopes[0]))
	}
	e = s.Set("k", wire.PresenceEntry{Host: "h", Scopes: []string{"another", "more"}})
	if len(e.Scopes) != MaxListItems {
		t.Fatalf("union grew scopes to %d", len(e.Scopes))
	}
	for i := range MaxEntries {
		c.t = c.t.Add(time.Millisecond)
		s.Update(fmt.Sprintf("n%03d", i), wire.PresenceEntry{Host: big, Text: big, Version: big, Platform: big, Scopes: many})
	}
	b, err := json.Marshal(s.List())
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxBytes+(MaxEntries+1)*400 {
		t.Fatalf("presence list is %d bytes of JSON", len(b))
	}
	if _, ok := s.Get(fmt.Sprintf("n%03d", MaxEntries-1)); !ok {
		t.Fatal("newest entry dropped")
	}
	if _, ok := s.Get("n000"); ok {
		t.Fatal("oldest entry kept past MaxBytes")
	}
}
