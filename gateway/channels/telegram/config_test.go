package telegram

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveAccountToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	if err := os.WriteFile(file, []byte(" file-token \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name, section, account, env string
		wantToken, wantSource       string
		wantProblem                 bool
	}{
		{"config", `{"botToken":"cfg"}`, "default", "env", "cfg", "config", false},
		{"env fallback", `{}`, "default", "env", "env", "env", false},
		{"nothing", `{}`, "default", "", "", "none", false},
		{"tokenFile beats botToken", `{"botToken":"cfg","tokenFile":"` + file + `"}`, "default", "", "file-token", "tokenFile", false},
		{"missing tokenFile gives none", `{"botToken":"cfg","tokenFile":"` + missing + `"}`, "default", "env", "", "none", true},
		{"empty tokenFile falls through", `{"botToken":"cfg","tokenFile":"` + empty + `"}`, "default", "", "cfg", "config", false},
		{"accounts.default first", `{"botToken":"cfg","accounts":{"default":{"botToken":"acct"}}}`, "default", "", "acct", "config", false},
		{"accounts.default tokenFile", `{"botToken":"cfg","accounts":{"default":{"tokenFile":"` + file + `","botToken":"acct"}}}`, "default", "", "file-token", "tokenFile", false},
		{"named account own token", `{"botToken":"cfg","accounts":{"work":{"botToken":"w"}}}`, "work", "env", "w", "config", false},
		{"named account never inherits", `{"botToken":"cfg","accounts":{"work":{"name":"W"}}}`, "work", "env", "", "none", false},
		{"named account missing file", `{"accounts":{"work":{"tokenFile":"` + missing + `"}}}`, "work", "", "", "none", true},
		{"case-normalised account key", `{"accounts":{"Work":{"botToken":"w"}}}`, "work", "", "w", "config", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := ResolveAccount([]byte(c.section), c.account, func(k string) string {
				if k == TokenEnv {
					return c.env
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.Token != c.wantToken || a.TokenSource != c.wantSource || (a.TokenProblem != "") != c.wantProblem {
				t.Fatalf("got token %q source %q problem %q; want %q %q problem=%v", a.Token, a.TokenSource, a.TokenProblem, c.wantToken, c.wantSource, c.wantProblem)
			}
		})
	}
}

func TestResolveAccountMerge(t *testing.T) {
	a, err := ResolveAccount([]byte(`{"dmPolicy":"open","allowFrom":[123,"@bob"],"textChunkLimit":100,
		"accounts":{"work":{"botToken":"w","textChunkLimit":50,"webhookUrl":"https://x/hook"}}}`), "work", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.DMPolicy() != "open" || a.TextChunkLimit() != 50 || a.Mode() != "webhook" || len(a.Config.AllowFrom) != 2 || a.Config.AllowFrom[0] != "123" {
		t.Fatalf("merged account %+v (policy %s, limit %d, mode %s)", a.Config, a.DMPolicy(), a.TextChunkLimit(), a.Mode())
	}
	d, err := ResolveAccount([]byte(`{"enabled":false,"botToken":"x"}`), "default", nil)
	if err != nil || d.Enabled || d.APIRoot() != DefaultAPIRoot || d.TextChunkLimit() != 4000 || d.Mode() != "polling" {
		t.Fatalf("default account %+v err %v", d, err)
	}
	if _, err := ResolveAccount([]byte(`[1]`), "default", nil); err == nil {
		t.Fatal("a non-object section was accepted")
	}
}

func TestListAccountIDs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{}`, "default"},
		{`{"accounts":{"b":{},"A":{}}}`, "a,b"},
	} {
		ids, err := ListAccountIDs([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for i, id := range ids {
			if i > 0 {
				got += ","
			}
			got += id
		}
		if got != c.want {
			t.Errorf("ListAccountIDs(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in     string
		chat   string
		thread int
	}{
		{"123", "123", 0},
		{"-1001234", "-1001234", 0},
		{"telegram:123", "123", 0},
		{"tg:group:-100", "-100", 0},
		{"-100:topic:7", "-100", 7},
		{"-100:7", "-100", 7},
		{"t.me/somebot", "@somebot", 0},
		{"https://t.me/somebot", "@somebot", 0},
		{"somebot", "@somebot", 0},
		{"@abc", "@abc", 0},
	}
	for _, c := range cases {
		got, err := ParseTarget(c.in)
		if err != nil || got.ChatID != c.chat || got.ThreadID != c.thread {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %s thread %d", c.in, got, err, c.chat, c.thread)
		}
	}
	if _, err := ParseTarget("  "); err == nil {
		t.Error("an empty target was accepted")
	}
}

func TestOffsetFile(t *testing.T) {
	dir := t.TempDir()
	p := OffsetPath(dir, "my acct")
	if filepath.Base(p) != "update-offset-my_acct.json" || filepath.Base(filepath.Dir(p)) != "telegram" {
		t.Fatalf("offset path %s", p)
	}
	if _, ok := ReadOffset(p); ok {
		t.Fatal("a missing file read as an offset")
	}
	if err := WriteOffset(p, 42); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "{\n  \"version\": 1,\n  \"lastUpdateId\": 42\n}\n" {
		t.Fatalf("offset file %q is not the original's format", b)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("offset file mode %v", st.Mode())
	}
	if got, ok := ReadOffset(p); !ok || got != 42 {
		t.Fatalf("ReadOffset = %d %v", got, ok)
	}
	for _, bad := range []string{`{"version":2,"lastUpdateId":1}`, `{"version":1,"lastUpdateId":"x"}`, `nope`} {
		_ = os.WriteFile(p, []byte(bad), 0o600)
		if _, ok := ReadOffset(p); ok {
			t.Errorf("%s read as an offset", bad)
		}
	}
}
