package skills_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/skills"
	"github.com/clawdbot/clawdbot/wire"
)

func writeSkill(t *testing.T, dir, name, front string) {
	t.Helper()
	d := filepath.Join(dir, name)
	os.MkdirAll(d, 0o755)
	if err := os.WriteFile(filepath.Join(d, "SKILL.md"), []byte("---\n"+front+"\n---\n# body\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }

func setup(t *testing.T, config string) (*skills.Feature, string, string) {
	t.Helper()
	state, ws := t.TempDir(), t.TempDir()
	cfg := filepath.Join(state, "clawdbot.json")
	if config != "" {
		os.WriteFile(cfg, []byte(config), 0o600)
	}
	sk := filepath.Join(ws, "skills")
	writeSkill(t, sk, "plain", "name: plain\ndescription: Always fine")
	writeSkill(t, sk, "needs-bin", "name: needs-bin\ndescription: Needs a binary\nmetadata:\n  {\"clawdbot\": {\"requires\": {\"bins\": [\"definitely-not-on-path-xyz\"]}, \"install\": [{\"id\": \"dl\", \"kind\": \"download\", \"url\": \"http://x/tool.bin\", \"bins\": [\"tool\"]}]}}")
	writeSkill(t, sk, "needs-env", `name: needs-env
description: "Needs <an> env key"
metadata: {"clawdbot": {"primaryEnv": "FOO_KEY", "requires": {"env": ["FOO_KEY"]}}}`)
	writeSkill(t, sk, "no-desc", "name: no-desc")
	writeSkill(t, filepath.Join(state, "skills"), "plain", "name: plain\ndescription: managed copy, shadowed by the workspace")
	f := skills.New(skills.Deps{ConfigPath: cfg, StateDir: state, Workspace: ws, Getenv: env{}.get})
	return f, ws, cfg
}

func call(t *testing.T, f *skills.Feature, method string, params any) (json.RawMessage, *wire.ErrorShape) {
	t.Helper()
	reg := rpc.NewRegistry()
	skills.Register(reg, f)
	b, _ := json.Marshal(params)
	res, e := reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`1`), b, &rpc.Client{}, nil))
	if e != nil {
		return nil, e
	}
	out, _ := json.Marshal(res)
	return out, nil
}

func status(t *testing.T, f *skills.Feature) map[string]wire.SkillStatus {
	raw, e := call(t, f, "skills.status", map[string]any{})
	if e != nil {
		t.Fatal(e)
	}
	var rep wire.SkillsStatusReport
	json.Unmarshal(raw, &rep)
	out := map[string]wire.SkillStatus{}
	for _, s := range rep.Skills {
		out[s.Name] = s
	}
	return out
}

func TestStatusEligibility(t *testing.T) {
	f, ws, _ := setup(t, "")
	st := status(t, f)
	if len(st) != 3 {
		t.Fatalf("skills = %+v (a skill without description must not load)", st)
	}
	if p := st["plain"]; !p.Eligible || p.Source != skills.SourceWorkspace || !strings.HasPrefix(p.FilePath, ws) {
		t.Fatalf("plain = %+v", p)
	}
	if b := st["needs-bin"]; b.Eligible || len(b.Missing.Bins) != 1 || len(b.Install) != 1 || b.Install[0].ID != "dl" {
		t.Fatalf("needs-bin = %+v", b)
	}
	if e := st["needs-env"]; e.Eligible || len(e.Missing.Env) != 1 || e.Description != "Needs <an> env key" {
		t.Fatalf("needs-env = %+v", e)
	}
	prompt := f.PromptFor("")
	if !strings.Contains(prompt, "<name>plain</name>") || strings.Contains(prompt, "needs-bin") || !strings.Contains(prompt, "<available_skills>") {
		t.Fatalf("prompt = %s", prompt)
	}
	raw, _ := call(t, f, "skills.bins", map[string]any{})
	if !strings.Contains(string(raw), `"definitely-not-on-path-xyz","tool"`) {
		t.Fatalf("bins = %s", raw)
	}
}

func TestUpdateWritesConfigAndChangesEligibility(t *testing.T) {
	f, _, cfg := setup(t, "{\n  // my comment\n  gateway: {port: 18789},\n}\n")
	key := "sk"
	raw, e := call(t, f, "skills.update", map[string]any{"skillKey": "needs-env", "apiKey": key, "env": map[string]string{"BAR": "1"}})
	if e != nil {
		t.Fatal(e)
	}
	if !strings.Contains(string(raw), `"apiKey":"sk"`) {
		t.Fatalf("result = %s", raw)
	}
	if !status(t, f)["needs-env"].Eligible {
		t.Fatal("apiKey for primaryEnv did not satisfy the env requirement")
	}
	call(t, f, "skills.update", map[string]any{"skillKey": "plain", "enabled": false})
	if p := status(t, f)["plain"]; p.Eligible || !p.Disabled {
		t.Fatalf("disabled plain = %+v", p)
	}
	text, _ := os.ReadFile(cfg)
	if !strings.Contains(string(text), "// my comment") {
		t.Fatalf("config formatting lost:\n%s", text)
	}
	st, _ := os.Stat(cfg)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", st.Mode())
	}
	call(t, f, "skills.update", map[string]any{"skillKey": "needs-env", "apiKey": ""})
	if status(t, f)["needs-env"].Eligible {
		t.Fatal("clearing apiKey kept the skill eligible")
	}
}

func TestInstallDownloadOnLoopbackAndRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("binary")) }))
	defer srv.Close()
	state, ws := t.TempDir(), t.TempDir()
	writeSkill(t, filepath.Join(ws, "skills"), "dl", `name: dl
description: d
metadata: {"clawdbot": {"install": [{"id": "a", "kind": "download", "url": "`+srv.URL+`/tool.bin"}]}}`)
	writeSkill(t, filepath.Join(ws, "skills"), "br", `name: br
description: b
metadata: {"clawdbot": {"install": [{"id": "b", "kind": "brew", "formula": "jq"}]}}`)
	f := skills.New(skills.Deps{ConfigPath: filepath.Join(state, "clawdbot.json"), StateDir: state, Workspace: ws})
	raw, e := call(t, f, "skills.install", map[string]any{"name": "dl", "installId": "a"})
	if e != nil {
		t.Fatal(e)
	}
	if b, _ := os.ReadFile(filepath.Join(state, "tools", "dl", "tool.bin")); string(b) != "binary" || !strings.Contains(string(raw), `"ok":true`) {
		t.Fatalf("download: %s / %q", raw, b)
	}
	if _, e := call(t, f, "skills.install", map[string]any{"name": "br", "installId": "b"}); e == nil || !strings.Contains(e.Message, "brew install jq") {
		t.Fatalf("brew: %+v", e)
	}
	if _, e := call(t, f, "skills.install", map[string]any{"name": "nope", "installId": "b"}); e == nil || e.Code != wire.ErrUnavailable {
		t.Fatalf("unknown skill: %+v", e)
	}
}
