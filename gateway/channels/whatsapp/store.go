package whatsapp

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"

	// The pure-Go SQLite driver, registered as "sqlite": the binary stays
	// CGO-free. whatsmeow's dialect parser (go.mau.fi/util/dbutil) takes any
	// name starting with "sqlite" as SQLite, so the driver name and the
	// dialect name may differ.
	_ "modernc.org/sqlite"
)

// StoreFile is the whatsmeow SQLite database inside an account's auth
// directory (doc/messaging.md §5.3: ours cannot share Baileys' creds.json).
const StoreFile = "whatsmeow.db"

// storeBusyTimeout is how long a connection waits for the database lock
// (the login client and a status read can overlap) before SQLITE_BUSY.
const storeBusyTimeout = 10 * time.Second

// Store is one account's whatsmeow device store: an SQLite file in WAL
// mode with foreign keys on (whatsmeow's Upgrade refuses to run without
// them), 0700 directory, 0600 files.
type Store struct {
	dir       string
	db        *sql.DB
	container *sqlstore.Container

	mu     sync.Mutex
	closed bool
}

// StoreExists reports whether dir holds a whatsmeow database. It opens
// nothing, so a gateway whose WhatsApp account was never linked never
// loads SQLite.
func StoreExists(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, StoreFile))
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

// storeDSN is the modernc.org/sqlite connection string: every pooled
// connection gets the pragmas (foreign_keys is per connection in SQLite),
// and write transactions take the lock up front instead of failing with
// SQLITE_BUSY halfway through.
func storeDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", storeBusyTimeout.Milliseconds()))
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// OpenStore opens (creating when missing) the store in dir and brings its
// schema up to date.
func OpenStore(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("whatsapp store: create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("whatsapp store: %w", err)
	}
	path := filepath.Join(dir, StoreFile)
	// Create the file 0600 before SQLite does: SQLite gives the -wal and
	// -shm files the database file's mode, so all three stay private
	// whatever the process umask is.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("whatsapp store: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("whatsapp store: %w", err)
	}
	db, err := sql.Open("sqlite", storeDSN(path))
	if err != nil {
		return nil, fmt.Errorf("whatsapp store: open %s: %w", path, err)
	}
	container := sqlstore.NewWithDB(db, "sqlite3", waLog.Noop)
	if err := container.Upgrade(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("whatsapp store: upgrade %s: %w", path, err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + side); err == nil {
			_ = os.Chmod(path+side, 0o600)
		}
	}
	return &Store{dir: dir, db: db, container: container}, nil
}

// Dir is the auth directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Device is the store's device: the paired one when linked, else a fresh
// unsaved device for a QR login (whatsmeow saves it on pair success).
func (s *Store) Device(ctx context.Context) (*store.Device, error) {
	dev, err := s.container.GetFirstDevice(ctx)
	if err != nil {
		return nil, fmt.Errorf("whatsapp store: %w", err)
	}
	return dev, nil
}

// NewDevice is a fresh device for a new link.
func (s *Store) NewDevice() *store.Device { return s.container.NewDevice() }

// Self is the linked device's JID, or the zero JID when not linked.
func (s *Store) Self(ctx context.Context) (types.JID, error) {
	dev, err := s.Device(ctx)
	if err != nil || dev.ID == nil {
		return types.JID{}, err
	}
	return *dev.ID, nil
}

// Close closes the database; further calls are no-ops.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// Delete closes the store and removes its directory: logout, and a
// logged-out event from WhatsApp, leave nothing behind to reuse.
func (s *Store) Delete() error {
	cerr := s.Close()
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("whatsapp store: remove %s: %w", s.dir, err)
	}
	return cerr
}

// AuthAge is how long ago the store file was last written (the original
// reports the age of creds.json the same way), or false without a store.
func AuthAge(dir string, now time.Time) (time.Duration, bool) {
	st, err := os.Stat(filepath.Join(dir, StoreFile))
	if err != nil {
		return 0, false
	}
	mod := st.ModTime()
	if wal, err := os.Stat(filepath.Join(dir, StoreFile+"-wal")); err == nil && wal.ModTime().After(mod) {
		mod = wal.ModTime()
	}
	return now.Sub(mod), true
}
