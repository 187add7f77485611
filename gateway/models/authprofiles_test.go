package models

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// twoKeys is an auth-profiles.json as the original's `models auth` writes
// it, with two api-key profiles of provider "fake" and one of another.
const twoKeys = `{
  "version": 1,
  "profiles": {
    "fake:first": {"type": "api_key", "provider": "fake", "key": "sk-first"},
    "other:default": {"type": "api_key", "provider": "other", "key": "sk-other"},
    "fake:second": {"type": "api_key", "provider": "fake", "key": "sk-second"}
  }
}
`

// rotationFixture is a resolver whose provider "fake" (no key of its own
// in the config) is an OpenAI fake answering by the key it is called with.
func rotationFixture(t *testing.T, auth string, byKey map[string]llmtest.Response, now func() time.Time) (*Resolver, *llmtest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	path := AuthProfilesPath(dir, "main")
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(auth), 0o600); err != nil {
		t.Fatal(err)
	}
	up := llmtest.NewOpenAI(t, llmtest.Script{Func: func(r llmtest.Request) llmtest.Response {
		if resp, ok := byKey[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; ok {
			return resp
		}
		return llmtest.Response{Status: 401, ErrorMessage: "unknown key"}
	}})
	pc := fakeProvider(up.URL, APIOpenAICompletions, "m")
	pc.APIKey = ""
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{"fake": pc}}, Agents: primary("fake/m")}
	r := New(Options{Config: func() profiles.Config { return cfg }, StateDir: dir, Retry: fastRetry, Now: now,
		Getenv: func(string) string { return "" }})
	return r, up, path
}

type savedAuth struct {
	Version    int                                   `json:"version"`
	Profiles   map[string]map[string]any             `json:"profiles"`
	LastGood   map[string]string                     `json:"lastGood"`
	UsageStats map[string]map[string]json.RawMessage `json:"usageStats"`
}

func readSaved(t *testing.T, path string) savedAuth {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s savedAuth
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("auth-profiles.json mode %v", st.Mode().Perm())
	}
	return s
}

func num(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("not a number: %s", raw)
	}
	return n
}

// TestAuthProfileRotation: the first key is rate limited, the second
// answers; the first's cooldown and the second's success are in the
// file as the original records them, and the next turn starts with the
// second (the first still cooling down).
func TestAuthProfileRotation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   llmtest.Response
		reason string
	}{
		{"429", llmtest.Response{Status: 429, ErrorMessage: "rate limited"}, "rate_limit"},
		{"401", llmtest.Response{Status: 401, ErrorMessage: "invalid api key"}, "auth"},
		{"402", llmtest.Response{Status: 402, ErrorMessage: "insufficient credits"}, "billing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.UnixMilli(1796168744510)
			r, up, path := rotationFixture(t, twoKeys, map[string]llmtest.Response{"sk-first": tc.fail, "sk-second": {Text: []string{"ok"}}},
				func() time.Time { return now })
			sel, err := r.Resolve("main", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, text, err := collect(t, sel, history); err != nil || text != "ok" {
				t.Fatalf("turn: %q %v", text, err)
			}
			reqs := up.Requests()
			if len(reqs) != 2 || reqs[0].Header.Get("Authorization") != "Bearer sk-first" || reqs[1].Header.Get("Authorization") != "Bearer sk-second" {
				t.Fatalf("upstream saw %d requests", len(reqs))
			}
			s := readSaved(t, path)
			if len(s.Profiles) != 3 || s.Version != 1 || s.LastGood["fake"] != "fake:second" {
				t.Errorf("saved file %+v", s)
			}
			first, second := s.UsageStats["fake:first"], s.UsageStats["fake:second"]
			var counts map[string]int
			json.Unmarshal(first["failureCounts"], &counts)
			if num(t, first["errorCount"]) != 1 || num(t, first["lastFailureAt"]) != now.UnixMilli() || len(counts) != 1 || counts[tc.reason] != 1 {
				t.Errorf("first profile stats %s", mustJSON(first))
			}
			until := "cooldownUntil"
			want := now.Add(time.Minute).UnixMilli()
			if tc.reason == "billing" {
				until, want = "disabledUntil", now.Add(5*time.Hour).UnixMilli()
			}
			if num(t, first[until]) != want {
				t.Errorf("first profile %s = %s, want %d", until, first[until], want)
			}
			if num(t, second["lastUsed"]) != now.UnixMilli() || num(t, second["errorCount"]) != 0 {
				t.Errorf("second profile stats %s", mustJSON(second))
			}

			// The next turn, 30 s later: the first key is still cooling down.
			now = now.Add(30 * time.Second)
			sel, _ = r.Resolve("main", "")
			if _, text, err := collect(t, sel, history); err != nil || text != "ok" || up.Count() != 3 ||
				up.Requests()[2].Header.Get("Authorization") != "Bearer sk-second" {
				t.Errorf("second turn: %q %v after %d requests", text, err, up.Count())
			}
			if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
				t.Errorf("lock left behind: %v", err)
			}
		})
	}
}

// TestAuthProfileAllCooling: with every profile of the provider in
// cooldown the candidate is unusable (the original's "No available auth
// profile"), so the turn fails over instead of calling the upstream.
func TestAuthProfileAllCooling(t *testing.T) {
	now := time.UnixMilli(1796168744510)
	until := now.Add(time.Minute).UnixMilli()
	auth := strings.Replace(twoKeys, `"profiles"`, `"usageStats": {"fake:first": {"cooldownUntil": `+itoa(until)+`}, "fake:second": {"disabledUntil": `+itoa(until)+`, "disabledReason": "billing"}},
  "profiles"`, 1)
	r, up, _ := rotationFixture(t, auth, map[string]llmtest.Response{"sk-first": {Text: []string{"no"}}}, func() time.Time { return now })
	_, err := r.Resolve("main", "")
	if e := llm.AsError(err); err == nil || e.Kind != llm.KindRateLimit || !strings.Contains(e.Message, "No available auth profile for fake") {
		t.Errorf("resolve = %v", err)
	}
	if up.Count() != 0 {
		t.Errorf("%d upstream calls", up.Count())
	}
	// Once the cooldown is over, the profile used least recently comes first.
	now = now.Add(2 * time.Minute)
	if k, src := r.key(r.o.Config(), "main", "fake", ""); k != "sk-first" || src != SourceAuthProfile {
		t.Errorf("key after cooldown: %q %s", k, src)
	}
}

// TestAuthOrder is resolveAuthProfileOrder: by type (oauth, token,
// api_key), then least recently used; profiles in cooldown last, soonest
// usable first; an explicit order kept as written; unusable credentials
// (empty key, expired token) skipped.
func TestAuthOrder(t *testing.T) {
	now := time.UnixMilli(2_000_000_000_000)
	f := authFile{Profiles: json.RawMessage(`{
		"p:a": {"type": "api_key", "provider": "p", "key": "ka"},
		"p:b": {"type": "api_key", "provider": "p", "key": "kb"},
		"p:tok": {"type": "token", "provider": "p", "token": "kt"},
		"p:expired": {"type": "token", "provider": "p", "token": "kx", "expires": 1},
		"p:empty": {"type": "api_key", "provider": "p", "key": " "},
		"p:oauth": {"type": "oauth", "provider": "P", "access": "ko"},
		"p:cool1": {"type": "api_key", "provider": "p", "key": "kc1"},
		"p:cool2": {"type": "api_key", "provider": "p", "key": "kc2"},
		"q:x": {"type": "api_key", "provider": "q", "key": "kq"}}`),
		UsageStats: map[string]authStats{
			"p:a":     {"lastUsed": json.RawMessage(`1900000000000`)},
			"p:cool1": {"cooldownUntil": json.RawMessage(`2000000900000`)},
			"p:cool2": {"cooldownUntil": json.RawMessage(`2000000100000`)},
		}}
	ids := func(ps []authProfile) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.id)
		}
		return strings.Join(out, ",")
	}
	if got := ids(authOrder(f, "p", now)); got != "p:oauth,p:tok,p:b,p:a,p:cool2,p:cool1" {
		t.Errorf("order %s", got)
	}
	f.Order = json.RawMessage(`{"P": ["p:cool1", "p:a", "p:nosuch", "q:x", "p:b", "p:a"]}`)
	if got := ids(authOrder(f, "p", now)); got != "p:a,p:b,p:cool1" {
		t.Errorf("explicit order %s", got)
	}
}

func TestCooldownFor(t *testing.T) {
	for n, want := range map[int64]time.Duration{0: time.Minute, 1: time.Minute, 2: 5 * time.Minute, 3: 25 * time.Minute, 4: time.Hour, 9: time.Hour} {
		if got := CooldownFor(n); got != want {
			t.Errorf("CooldownFor(%d) = %v, want %v", n, got, want)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
