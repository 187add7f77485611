package whatsapp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

func TestLoaded(t *testing.T) {
	linked := t.TempDir()
	dir := filepath.Join(linked, "credentials", "whatsapp", "work")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, StoreFile), []byte("SQLite format 3\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyStore := t.TempDir()
	if err := os.MkdirAll(filepath.Join(emptyStore, "credentials", "whatsapp", "default"), 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, root, state string
		want              bool
	}{
		{"fresh gateway", `{}`, t.TempDir(), false},
		{"section", `{"channels":{"whatsapp":{"dmPolicy":"pairing"}}}`, "", true},
		{"empty section", `{"channels":{"whatsapp":{}}}`, "", false},
		{"store of an earlier login", `{}`, linked, true},
		{"account dir without a store", `{}`, emptyStore, false},
		{"entry enables", `{"plugins":{"entries":{"whatsapp":{"enabled":true}}}}`, "", true},
		{"entry disables", `{"plugins":{"entries":{"whatsapp":{"enabled":false}}},"channels":{"whatsapp":{"dmPolicy":"open"}}}`, linked, false},
		{"plugins off", `{"plugins":{"enabled":false},"channels":{"whatsapp":{"dmPolicy":"open"}}}`, linked, false},
		{"denied", `{"plugins":{"deny":["whatsapp"]}}`, linked, false},
		{"not allowed", `{"plugins":{"allow":["telegram"]}}`, linked, false},
	}
	for _, c := range cases {
		if got := New().Loaded(channels.LoadContext{Root: []byte(c.root), StateDir: c.state}); got != c.want {
			t.Errorf("%s: Loaded = %v, want %v", c.name, got, c.want)
		}
	}
}
