package device

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RFC 8032 §7.1 TEST 1 and TEST 2.
var rfc8032 = []struct {
	seed, pub, msg, sig string
}{
	{
		seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		pub:  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		msg:  "",
		sig:  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	},
	{
		seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		pub:  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		msg:  "72",
		sig:  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
	},
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRFC8032Vectors(t *testing.T) {
	for i, v := range rfc8032 {
		id, err := FromSeed(mustHex(t, v.seed))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(id.PublicKey()); got != v.pub {
			t.Errorf("vector %d: public key %s, want %s", i, got, v.pub)
		}
		msg := string(mustHex(t, v.msg))
		wantSig := base64.RawURLEncoding.EncodeToString(mustHex(t, v.sig))
		if got := id.Sign(msg); got != wantSig {
			t.Errorf("vector %d: signature %s, want %s", i, got, wantSig)
		}
		if err := Verify(id.PublicKeyBase64URL(), msg, wantSig); err != nil {
			t.Errorf("vector %d: verify: %v", i, err)
		}
		// Standard base64 (padded) signatures and PEM keys are accepted too.
		std := base64.StdEncoding.EncodeToString(mustHex(t, v.sig))
		if err := Verify(id.PublicKeyPEM(), msg, std); err != nil {
			t.Errorf("vector %d: verify PEM/std: %v", i, err)
		}
	}
}

// The PEM strings Node's crypto exports for RFC 8032 TEST 1 (computed
// independently: base64 of the fixed DER prefix + key bytes).
func TestNodePEMFormat(t *testing.T) {
	id, err := FromSeed(mustHex(t, rfc8032[0].seed))
	if err != nil {
		t.Fatal(err)
	}
	wantPub := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n"
	wantPriv := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n"
	if got := id.PublicKeyPEM(); got != wantPub {
		t.Errorf("public PEM:\n%q\nwant\n%q", got, wantPub)
	}
	if got := id.PrivateKeyPEM(); got != wantPriv {
		t.Errorf("private PEM:\n%q\nwant\n%q", got, wantPriv)
	}
	if got, want := id.DeviceID(), "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"; got != want {
		t.Errorf("device id %s, want %s", got, want)
	}
	if got, want := id.PublicKeyBase64URL(), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"; got != want {
		t.Errorf("base64url key %s, want %s", got, want)
	}
}

func TestBuildPayload(t *testing.T) {
	cases := []struct {
		name string
		in   PayloadFields
		want string
	}{
		{"v2", PayloadFields{DeviceID: "d", ClientID: "cli", ClientMode: "cli", Role: "operator",
			Scopes: []string{"operator.admin", "operator.pairing"}, SignedAtMs: 1737264000000, Token: "tok", Nonce: "n-1"},
			"v2|d|cli|cli|operator|operator.admin,operator.pairing|1737264000000|tok|n-1"},
		{"v1 without nonce", PayloadFields{DeviceID: "d", ClientID: "cli", ClientMode: "cli", Role: "node", SignedAtMs: 5},
			"v1|d|cli|cli|node||5|"},
		{"role defaults to operator", PayloadFields{DeviceID: "d", ClientID: "test", ClientMode: "test", SignedAtMs: 1, Nonce: "x"},
			"v2|d|test|test|operator||1||x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := BuildPayload(c.in); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// connectSample is the device block of a connect captured from the real CLI
// talking to the real gateway (testdata/wire/frames/device-handshake.json,
// copied from spec/samples/frames-device-handshake.json).
type connectSample struct {
	Auth struct {
		Token string `json:"token"`
	} `json:"auth"`
	Client struct {
		ID   string `json:"id"`
		Mode string `json:"mode"`
	} `json:"client"`
	Device struct {
		ID        string `json:"id"`
		Nonce     string `json:"nonce"`
		PublicKey string `json:"publicKey"`
		Signature string `json:"signature"`
		SignedAt  int64  `json:"signedAt"`
	} `json:"device"`
	Role   string   `json:"role"`
	Scopes []string `json:"scopes"`
}

// TestVerifyCapturedHandshake verifies the signatures of the real capture:
// the first two connects were accepted by the original gateway, the third was
// signed with the wrong key and rejected with "device signature invalid".
func TestVerifyCapturedHandshake(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wire", "frames", "device-handshake.json"))
	if err != nil {
		t.Fatal(err)
	}
	var capture struct {
		Frames []struct {
			Dir  string `json:"dir"`
			Data struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			} `json:"data"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(raw, &capture); err != nil {
		t.Fatal(err)
	}
	var results []bool
	for _, f := range capture.Frames {
		if f.Dir != "out" || f.Data.Method != "connect" {
			continue
		}
		var p connectSample
		if err := json.Unmarshal(f.Data.Params, &p); err != nil {
			t.Fatal(err)
		}
		id, err := DeviceIDFromPublicKey(p.Device.PublicKey)
		if err != nil || id != p.Device.ID {
			t.Fatalf("device id %s (%v), want %s", id, err, p.Device.ID)
		}
		payload := BuildPayload(PayloadFields{DeviceID: p.Device.ID, ClientID: p.Client.ID, ClientMode: p.Client.Mode,
			Role: p.Role, Scopes: p.Scopes, SignedAtMs: p.Device.SignedAt, Token: p.Auth.Token, Nonce: p.Device.Nonce})
		err = Verify(p.Device.PublicKey, payload, p.Device.Signature)
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		results = append(results, err == nil)
	}
	want := []bool{true, true, false}
	if len(results) != len(want) {
		t.Fatalf("found %d connects, want %d", len(results), len(want))
	}
	for i := range want {
		if results[i] != want[i] {
			t.Errorf("connect %d verified=%v, want %v", i+1, results[i], want[i])
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	id, _ := FromSeed(mustHex(t, rfc8032[0].seed))
	other, _ := FromSeed(mustHex(t, rfc8032[1].seed))
	sig := id.Sign("hello")
	cases := []struct {
		name, key, payload, sig string
		keyErr                  bool
	}{
		{"wrong payload", id.PublicKeyBase64URL(), "hellO", sig, false},
		{"wrong key", other.PublicKeyBase64URL(), "hello", sig, false},
		{"truncated signature", id.PublicKeyBase64URL(), "hello", sig[:20], false},
		{"garbage signature", id.PublicKeyBase64URL(), "hello", "!!!", false},
		{"short key", "AAAA", "hello", sig, true},
		{"bad PEM", "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n", "hello", sig, true},
		{"huge key", strings.Repeat("A", 5000), "hello", sig, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.key, c.payload, c.sig)
			if err == nil {
				t.Fatal("verified")
			}
			if c.keyErr == errors.Is(err, ErrBadSignature) {
				t.Errorf("error %v: key error expected=%v", err, c.keyErr)
			}
		})
	}
}

func TestNormalizePublicKey(t *testing.T) {
	id, _ := FromSeed(mustHex(t, rfc8032[0].seed))
	want := id.PublicKeyBase64URL()
	for _, in := range []string{want, want + "=", base64.StdEncoding.EncodeToString(id.PublicKey()), id.PublicKeyPEM()} {
		got, err := NormalizePublicKey(in)
		if err != nil || got != want {
			t.Errorf("NormalizePublicKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "identity", "device.json")
	a, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode().Perm())
		}
	}
	raw, _ := os.ReadFile(path)
	var st storedIdentity
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if st.Version != 1 || st.DeviceID != a.DeviceID() || st.CreatedAtMs == 0 ||
		!strings.HasPrefix(st.PublicKeyPem, "-----BEGIN PUBLIC KEY-----\n") ||
		!strings.HasPrefix(st.PrivateKeyPem, "-----BEGIN PRIVATE KEY-----\n") || !strings.HasSuffix(string(raw), "}\n") {
		t.Errorf("stored file not in the Node format:\n%s", raw)
	}
	b, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.DeviceID() != a.DeviceID() || b.Sign("x") != a.Sign("x") || b.CreatedAtMs() != a.CreatedAtMs() {
		t.Error("reload produced a different identity")
	}
}

// A device.json written by the Node CLI (RFC 8032 TEST 1 key) loads, and a
// wrong deviceId in it is repaired on disk, as the original does.
func TestLoadNodeFileRepairsDeviceID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.json")
	node := `{
  "version": 1,
  "deviceId": "stale",
  "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n",
  "privateKeyPem": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n",
  "createdAtMs": 1737264000000
}
`
	if err := os.WriteFile(path, []byte(node), 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
	if id.DeviceID() != want || id.CreatedAtMs() != 1737264000000 {
		t.Fatalf("id %s created %d", id.DeviceID(), id.CreatedAtMs())
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"deviceId": "`+want+`"`) {
		t.Errorf("deviceId not repaired:\n%s", raw)
	}
}

func TestLoadOrCreateRejectsBadFiles(t *testing.T) {
	a, _ := FromSeed(mustHex(t, rfc8032[0].seed))
	b, _ := FromSeed(mustHex(t, rfc8032[1].seed))
	mismatch, _ := json.Marshal(storedIdentity{Version: 1, DeviceID: a.DeviceID(), PublicKeyPem: a.PublicKeyPEM(), PrivateKeyPem: b.PrivateKeyPEM()})
	cases := map[string]string{
		"not json":     "{nope",
		"version 2":    `{"version":2}`,
		"missing keys": `{"version":1,"deviceId":"x"}`,
		"key mismatch": string(mismatch),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "device.json")
			os.WriteFile(path, []byte(content), 0o600)
			_, err := LoadOrCreate(path)
			if err == nil || !strings.Contains(err.Error(), "move the file aside") {
				t.Fatalf("err = %v", err)
			}
			after, _ := os.ReadFile(path)
			if string(after) != content {
				t.Error("a bad identity file was overwritten")
			}
		})
	}
}

func TestAuthStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity", "device-auth.json")
	s := NewAuthStore(path)
	if e, err := s.Load("dev1", "operator"); e != nil || err != nil {
		t.Fatalf("empty store: %v %v", e, err)
	}
	if _, err := s.Store("dev1", " operator ", "tok-op", []string{"operator.pairing", "operator.admin", "operator.admin", " "}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store("dev1", "node", "tok-node", nil); err != nil {
		t.Fatal(err)
	}
	e, err := s.Load("dev1", "operator")
	if err != nil || e == nil || e.Token != "tok-op" || strings.Join(e.Scopes, ",") != "operator.admin,operator.pairing" || e.UpdatedAtMs == 0 {
		t.Fatalf("load operator: %+v %v", e, err)
	}
	if e, _ := s.Load("other-device", "operator"); e != nil {
		t.Error("token returned for another device id")
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v", st.Mode().Perm())
		}
	}
	raw, _ := os.ReadFile(path)
	var f authFile
	if err := json.Unmarshal(raw, &f); err != nil || f.Version != 1 || f.DeviceID != "dev1" || len(f.Tokens) != 2 || f.Tokens["node"].Scopes == nil {
		t.Fatalf("file shape: %s (%v)", raw, err)
	}
	if err := s.Delete("dev1", "operator"); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Load("dev1", "operator"); e != nil {
		t.Error("deleted token still loads")
	}
	if e, _ := s.Load("dev1", "node"); e == nil || e.Token != "tok-node" {
		t.Error("delete removed the other role")
	}
	// A new identity replaces the file's tokens.
	if _, err := s.Store("dev2", "operator", "t2", nil); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Load("dev1", "node"); e != nil {
		t.Error("tokens of the old device survived an identity change")
	}
	// A corrupt file is treated as empty and rewritten by the next store.
	os.WriteFile(path, []byte("garbage"), 0o600)
	if e, err := s.Load("dev2", "operator"); e != nil || err != nil {
		t.Fatalf("corrupt file: %v %v", e, err)
	}
	if _, err := s.Store("dev2", "operator", "t3", nil); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Load("dev2", "operator"); e == nil || e.Token != "t3" {
		t.Error("store after corruption failed")
	}
}
