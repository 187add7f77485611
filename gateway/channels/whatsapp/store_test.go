package whatsapp

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types/events"
)

// TestStoreLifecycle opens whatsmeow's SQL store for real on SQLite
// (modernc.org/sqlite): create, reopen unlinked, pair, reopen linked,
// delete; the directory is 0700 and the database files 0600.
func TestStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "credentials", "whatsapp", "default")
	if StoreExists(dir) {
		t.Fatal("store exists before creation")
	}
	st, err := OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := st.Device(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dev.ID != nil {
		t.Fatal("a new store has a paired device")
	}
	pair(t, dev, "15550001111")
	var mode string
	if err := st.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := st.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	var busy int
	if err := st.db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != int(storeBusyTimeout.Milliseconds()) {
		t.Fatalf("busy_timeout = %d, %v", busy, err)
	}
	if runtime.GOOS != "windows" {
		checkMode(t, dir, 0o700)
		for _, f := range []string{StoreFile, StoreFile + "-wal", StoreFile + "-shm"} {
			checkMode(t, filepath.Join(dir, f), 0o600)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = OpenStore(ctx, dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	self, err := st.Self(ctx)
	if err != nil || self.User != "15550001111" {
		t.Fatalf("reopened self = %v, %v", self, err)
	}
	if age, ok := AuthAge(dir, time.Now().Add(time.Minute)); !ok || age < 30*time.Second {
		t.Fatalf("auth age = %v, %v", age, ok)
	}
	if err := st.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("store dir after delete: %v", err)
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s mode %o, want %o", filepath.Base(path), got, want)
	}
}

// TestAccountLinkedFromStore: an account reads "linked" and self from the
// store, and a never-linked account creates no store at all.
func TestAccountLinkedFromStore(t *testing.T) {
	ctx := context.Background()
	state := t.TempDir()
	set, err := ParseSettings("default", state, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAccount(set, Options{NewClient: newFakes(nil).factory})
	if err != nil {
		t.Fatal(err)
	}
	if a.Linked() {
		t.Fatal("linked without a store")
	}
	if _, err := os.Stat(set.Dir); !os.IsNotExist(err) {
		t.Fatalf("an unlinked account created %s", set.Dir)
	}
	st, err := OpenStore(ctx, set.Dir)
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := st.Device(ctx)
	pair(t, dev, "15550002222")
	st.Close()
	fs := newFakes(func(f *fakeClient) {
		f.onConnect = func(f *fakeClient, _ int) { f.emit(&events.Connected{}) }
	})
	a, err = NewAccount(set, Options{NewClient: fs.factory})
	if err != nil {
		t.Fatal(err)
	}
	e164, jid := a.Self()
	if !a.Linked() || e164 != "+15550002222" || jid != "15550002222@s.whatsapp.net" {
		t.Fatalf("linked=%v self=%q %q", a.Linked(), e164, jid)
	}
	f := a.StatusFields()
	if f["linked"] != true || f["authAgeMs"] == nil {
		t.Fatalf("status fields %v", f)
	}
	cleared, err := a.Logout(ctx)
	if err != nil || !cleared {
		t.Fatalf("logout = %v, %v", cleared, err)
	}
	if _, err := os.Stat(set.Dir); !os.IsNotExist(err) {
		t.Fatalf("logout left %s", set.Dir)
	}
	if c := fs.next(t); !c.loggedOut {
		t.Fatal("logout did not tell WhatsApp (client.Logout)")
	}
	if a.Linked() {
		t.Fatal("linked after logout")
	}
	cleared, err = a.Logout(ctx)
	if err != nil || cleared {
		t.Fatalf("second logout = %v, %v; want false, nil", cleared, err)
	}
}
