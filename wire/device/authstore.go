package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// AuthEntry is one stored device token, issued by the gateway in
// hello-ok.auth for a (device, role) pair.
type AuthEntry struct {
	Token       string   `json:"token"`
	Role        string   `json:"role"`
	Scopes      []string `json:"scopes"`
	UpdatedAtMs int64    `json:"updatedAtMs"`
}

// authFile is the shape of <state>/identity/device-auth.json as the Node
// CLI writes it: tokens keyed by role, bound to one device id.
type authFile struct {
	Version  int                  `json:"version"`
	DeviceID string               `json:"deviceId"`
	Tokens   map[string]AuthEntry `json:"tokens"`
}

// AuthStore reads and writes the client-side device token file. Methods are
// safe for concurrent use within one process; every write is atomic.
type AuthStore struct {
	path string
	mu   sync.Mutex
}

// NewAuthStore returns a store for path (normally <state>/identity/device-auth.json).
func NewAuthStore(path string) *AuthStore { return &AuthStore{path: path} }

// Path is the file the store reads and writes.
func (s *AuthStore) Path() string { return s.path }

func (s *AuthStore) read() (*authFile, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read device auth: %w", err)
	}
	var f authFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		// A corrupt token cache is not fatal: the shared token still works
		// and the next successful connect rewrites the file.
		return nil, nil
	}
	return &f, nil
}

// Load returns the stored token for deviceID and role, or nil when there is
// none (or the file belongs to another device id).
func (s *AuthStore) Load(deviceID, role string) (*AuthEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil || f == nil || f.DeviceID != deviceID {
		return nil, err
	}
	e, ok := f.Tokens[normalizeRole(role)]
	if !ok || e.Token == "" {
		return nil, nil
	}
	return &e, nil
}

// Store saves token for (deviceID, role), replacing any previous token for
// that role. Tokens of another device id in the file are discarded, as the
// original does when the identity changes.
func (s *AuthStore) Store(deviceID, role, token string, scopes []string) (AuthEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return AuthEntry{}, err
	}
	if f == nil || f.DeviceID != deviceID {
		f = &authFile{Version: 1, DeviceID: deviceID}
	}
	if f.Tokens == nil {
		f.Tokens = map[string]AuthEntry{}
	}
	e := AuthEntry{Token: token, Role: normalizeRole(role), Scopes: normalizeScopes(scopes), UpdatedAtMs: time.Now().UnixMilli()}
	f.Tokens[e.Role] = e
	return e, writeJSONFile(s.path, f)
}

// Delete removes the stored token for (deviceID, role); clients call it when
// a connect that used the stored token fails.
func (s *AuthStore) Delete(deviceID, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil || f == nil || f.DeviceID != deviceID {
		return err
	}
	r := normalizeRole(role)
	if _, ok := f.Tokens[r]; !ok {
		return nil
	}
	delete(f.Tokens, r)
	return writeJSONFile(s.path, f)
}

func normalizeRole(role string) string { return strings.TrimSpace(role) }

// normalizeScopes trims, drops empties, dedupes and sorts, so equal scope
// sets compare equal regardless of the order the gateway sent them in.
func normalizeScopes(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
