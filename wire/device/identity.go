package device

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// spkiPrefix is the DER header of an Ed25519 SubjectPublicKeyInfo; the raw
// 32-byte key follows it. Node's SPKI export is exactly prefix+key.
var spkiPrefix = []byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}

// maxKeyInput bounds attacker-supplied key/signature strings before decoding.
const maxKeyInput = 4096

// Identity is a device's Ed25519 key pair and its derived id.
type Identity struct {
	deviceID  string
	public    ed25519.PublicKey
	private   ed25519.PrivateKey
	createdAt int64
}

// storedIdentity is the on-disk shape of device.json, as the Node CLI writes it.
type storedIdentity struct {
	Version       int    `json:"version"`
	DeviceID      string `json:"deviceId"`
	PublicKeyPem  string `json:"publicKeyPem"`
	PrivateKeyPem string `json:"privateKeyPem"`
	CreatedAtMs   int64  `json:"createdAtMs"`
}

// Generate creates a fresh identity from crypto/rand without touching disk.
func Generate() (*Identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate device key: %w", err)
	}
	return &Identity{deviceID: rawDeviceID(pub), public: pub, private: priv, createdAt: time.Now().UnixMilli()}, nil
}

// FromSeed builds an identity from a 32-byte Ed25519 seed; tests use it for
// known-answer vectors.
func FromSeed(seed []byte) (*Identity, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ed25519 seed must be %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &Identity{deviceID: rawDeviceID(pub), public: pub, private: priv}, nil
}

// LoadOrCreate reads the identity at path (normally <state>/identity/device.json)
// or, when the file does not exist, creates a new one there with mode 0600.
// A file that exists but cannot be used is an error naming the file: unlike
// the Node CLI we do not silently switch to a throwaway key, because that
// would make the device look new (and unpaired) on every call.
// A stored deviceId that does not match the key is repaired in place, as the
// original does.
func LoadOrCreate(path string) (*Identity, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		id, repaired, perr := parseStored(data)
		if perr != nil {
			return nil, fmt.Errorf("device identity %s: %v; move the file aside to create a new identity", path, perr)
		}
		if repaired {
			_ = id.Save(path) // best effort: the key itself is intact
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read device identity: %w", err)
	}
	id, err := Generate()
	if err != nil {
		return nil, err
	}
	if err := id.Save(path); err != nil {
		return nil, err
	}
	return id, nil
}

// parseStored decodes device.json. repaired reports that the stored deviceId
// was wrong and the file should be rewritten.
func parseStored(data []byte) (id *Identity, repaired bool, err error) {
	var st storedIdentity
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, false, fmt.Errorf("not valid JSON: %v", err)
	}
	if st.Version != 1 {
		return nil, false, fmt.Errorf("unsupported version %d (want 1)", st.Version)
	}
	pub, err := ParsePublicKey(st.PublicKeyPem)
	if err != nil {
		return nil, false, err
	}
	priv, err := parsePrivatePEM(st.PrivateKeyPem)
	if err != nil {
		return nil, false, err
	}
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		return nil, false, errors.New("publicKeyPem does not match privateKeyPem")
	}
	id = &Identity{deviceID: rawDeviceID(pub), public: pub, private: priv, createdAt: st.CreatedAtMs}
	return id, id.deviceID != st.DeviceID, nil
}

func parsePrivatePEM(s string) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("privateKeyPem is not a PEM PRIVATE KEY")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("privateKeyPem: %v", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("privateKeyPem is not an Ed25519 key")
	}
	return priv, nil
}

// Save writes the identity to path in the Node CLI's format (2-space
// indented JSON, trailing newline), atomically and with mode 0600; the
// directory is created 0700.
func (id *Identity) Save(path string) error {
	st := storedIdentity{
		Version:       1,
		DeviceID:      id.deviceID,
		PublicKeyPem:  id.PublicKeyPEM(),
		PrivateKeyPem: id.PrivateKeyPEM(),
		CreatedAtMs:   id.createdAt,
	}
	if st.CreatedAtMs == 0 {
		st.CreatedAtMs = time.Now().UnixMilli()
	}
	return writeJSONFile(path, st)
}

// DeviceID is the lowercase hex sha256 of the raw public key.
func (id *Identity) DeviceID() string { return id.deviceID }

// CreatedAtMs is when the identity was first created (0 for FromSeed).
func (id *Identity) CreatedAtMs() int64 { return id.createdAt }

// PublicKey returns the raw 32-byte public key.
func (id *Identity) PublicKey() ed25519.PublicKey { return id.public }

// PublicKeyBase64URL is the raw key as base64url without padding: the form
// sent in connect params device.publicKey.
func (id *Identity) PublicKeyBase64URL() string {
	return base64.RawURLEncoding.EncodeToString(id.public)
}

// PublicKeyPEM is the SPKI PEM exactly as Node's crypto exports it.
func (id *Identity) PublicKeyPEM() string {
	der := append(append([]byte{}, spkiPrefix...), id.public...)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// PrivateKeyPEM is the PKCS#8 PEM exactly as Node's crypto exports it.
func (id *Identity) PrivateKeyPEM() string {
	der, err := x509.MarshalPKCS8PrivateKey(id.private)
	if err != nil { // cannot happen for a valid ed25519 key
		panic("device: marshal pkcs8: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// Sign signs the UTF-8 payload and returns the signature as base64url
// without padding.
func (id *Identity) Sign(payload string) string {
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(id.private, []byte(payload)))
}

func rawDeviceID(pub []byte) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:])
}

// decodeBase64Loose decodes base64url or standard base64, padded or not, as
// Node's Buffer.from(s, "base64") does after the url-alphabet rewrite.
func decodeBase64Loose(s string) ([]byte, error) {
	if len(s) > maxKeyInput {
		return nil, errors.New("input too long")
	}
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	return base64.RawStdEncoding.DecodeString(s)
}

// ParsePublicKey accepts a raw Ed25519 key in base64url/base64 or an SPKI
// PEM (recognised, like the original, by the string "BEGIN").
func ParsePublicKey(publicKey string) (ed25519.PublicKey, error) {
	if strings.Contains(publicKey, "BEGIN") {
		block, _ := pem.Decode([]byte(publicKey))
		if block == nil || block.Type != "PUBLIC KEY" {
			return nil, errors.New("public key PEM is not a PUBLIC KEY block")
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key PEM: %v", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("public key PEM is not an Ed25519 key")
		}
		return pub, nil
	}
	raw, err := decodeBase64Loose(publicKey)
	if err != nil {
		return nil, fmt.Errorf("public key is not base64url: %v", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key must be %d bytes, got %d", ed25519.PublicKeySize, len(raw))
	}
	return ed25519.PublicKey(raw), nil
}

// NormalizePublicKey returns the canonical base64url (no padding) form of a
// raw or PEM public key, the form the pairing store keeps.
func NormalizePublicKey(publicKey string) (string, error) {
	pub, err := ParsePublicKey(publicKey)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(pub), nil
}

// DeviceIDFromPublicKey is the hex sha256 of the raw 32-byte key given as
// base64url or PEM; the server compares it with device.id.
func DeviceIDFromPublicKey(publicKey string) (string, error) {
	pub, err := ParsePublicKey(publicKey)
	if err != nil {
		return "", err
	}
	return rawDeviceID(pub), nil
}
