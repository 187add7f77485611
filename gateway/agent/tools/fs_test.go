package tools

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// newTestRegistry is a registry on a fresh workspace with doc as its
// config.
func newTestRegistry(t testing.TB, doc map[string]any) (*Registry, string) {
	t.Helper()
	ws := t.TempDir()
	r := New(Options{Workspace: ws, Config: func() map[string]any { return doc }})
	return r, ws
}

func call(t testing.TB, r *Registry, name string, args any) agent.ToolResult {
	t.Helper()
	var raw json.RawMessage
	switch a := args.(type) {
	case string:
		raw = json.RawMessage(a)
	default:
		raw, _ = json.Marshal(a)
	}
	res, err := r.Call(context.Background(), agent.Session{Key: "agent:main:main", AgentID: "main"},
		llm.Content{Type: llm.ContentToolCall, ID: "c1", Name: name, Arguments: raw})
	if err != nil {
		t.Fatalf("%s: Call returned an error (must be a result): %v", name, err)
	}
	return res
}

func text(r agent.ToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

func TestWorkspaceEscapesRefused(t *testing.T) {
	r, ws := newTestRegistry(t, nil)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	os.WriteFile(secret, []byte("top secret"), 0o600)
	if err := os.Symlink("/etc", filepath.Join(ws, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ws, "out")); err != nil {
		t.Fatal(err)
	}
	os.Symlink("../"+filepath.Base(outside), filepath.Join(ws, "rel"))
	cases := []struct {
		tool string
		args map[string]any
	}{
		{"read", map[string]any{"path": "../" + filepath.Base(outside) + "/secret.txt"}},
		{"read", map[string]any{"path": secret}},
		{"read", map[string]any{"path": "/etc/passwd"}},
		{"read", map[string]any{"path": "etc/passwd"}},
		{"read", map[string]any{"path": "out/secret.txt"}},
		{"read", map[string]any{"file_path": "a/../../x"}},
		{"write", map[string]any{"path": "../evil.txt", "content": "x"}},
		{"write", map[string]any{"path": "out/evil.txt", "content": "x"}},
		{"write", map[string]any{"path": "etc/evil.txt", "content": "x"}},
		{"write", map[string]any{"path": filepath.Join(outside, "evil.txt"), "content": "x"}},
		{"edit", map[string]any{"path": "out/secret.txt", "oldText": "top", "newText": "no"}},
		{"edit", map[string]any{"path": secret, "oldText": "top", "newText": "no"}},
		{"ls", map[string]any{"path": ".."}},
		{"ls", map[string]any{"path": "etc"}},
		{"find", map[string]any{"pattern": "*", "path": "out"}},
		{"grep", map[string]any{"pattern": "secret", "path": "/etc"}},
		{"grep", map[string]any{"pattern": "top", "path": "out"}},
		{"apply_patch", map[string]any{"input": "*** Begin Patch\n*** Add File: ../evil.txt\n+x\n*** End Patch"}},
		{"apply_patch", map[string]any{"input": "*** Begin Patch\n*** Add File: out/evil.txt\n+x\n*** End Patch"}},
		{"apply_patch", map[string]any{"input": "*** Begin Patch\n*** Delete File: " + secret + "\n*** End Patch"}},
	}
	r.o.Config = func() map[string]any {
		return map[string]any{"tools": map[string]any{"exec": map[string]any{"applyPatch": map[string]any{"enabled": true}}}}
	}
	for _, c := range cases {
		res := call(t, r, c.tool, c.args)
		if !res.IsError {
			t.Errorf("%s %v: not refused: %s", c.tool, c.args, text(res))
			continue
		}
		if !strings.Contains(text(res), "escapes") {
			t.Errorf("%s %v: want an escape error, got %q", c.tool, c.args, text(res))
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "top secret" {
		t.Errorf("secret changed: %q", b)
	}
	for _, p := range []string{filepath.Join(outside, "evil.txt"), filepath.Join(filepath.Dir(ws), "evil.txt")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
	// Inside the workspace, absolute paths and in-root symlinks work.
	os.WriteFile(filepath.Join(ws, "in.txt"), []byte("hello\n"), 0o644)
	os.Symlink("in.txt", filepath.Join(ws, "link.txt"))
	for _, p := range []string{filepath.Join(ws, "in.txt"), "link.txt", "./sub/../in.txt"} {
		if res := call(t, r, "read", map[string]any{"path": p}); res.IsError || text(res) != "hello\n" {
			t.Errorf("read %s: %v %q", p, res.IsError, text(res))
		}
	}
}

func TestReadHugeFileBounded(t *testing.T) {
	r, ws := newTestRegistry(t, nil)
	f, _ := os.Create(filepath.Join(ws, "huge.txt"))
	line := strings.Repeat("x", 99) + "\n"
	buf := strings.Repeat(line, 10000) // 1 MB
	for range 18 {                     // 18 MB, past the scan bound
		f.WriteString(buf)
	}
	f.Close()
	res := call(t, r, "read", map[string]any{"path": "huge.txt"})
	if res.IsError {
		t.Fatal(text(res))
	}
	out := text(res)
	if len(out) > maxBytes+500 {
		t.Errorf("read returned %d bytes; the cap is %d", len(out), maxBytes)
	}
	if !strings.Contains(out, "[Showing lines 1-") || !strings.Contains(out, "more than") || !strings.Contains(out, "Use offset=") {
		t.Errorf("no truncation notice: %q", out[len(out)-200:])
	}
	// One line longer than the cap.
	os.WriteFile(filepath.Join(ws, "long.txt"), []byte(strings.Repeat("y", 60*1024)), 0o644)
	if out := text(call(t, r, "read", map[string]any{"path": "long.txt"})); !strings.HasPrefix(out, "[Line 1 is 60.0KB, exceeds 50.0KB limit.") {
		t.Errorf("long line: %q", out)
	}
	// write refuses huge content.
	big := strings.Repeat("z", MaxWriteBytes+1)
	if res := call(t, r, "write", map[string]any{"path": "big.txt", "content": big}); !res.IsError || !strings.Contains(text(res), "limit") {
		t.Errorf("huge write not refused: %q", text(res))
	}
	if _, err := os.Stat(filepath.Join(ws, "big.txt")); err == nil {
		t.Error("huge write left a file")
	}
}

func TestReadOffsetLimitBinary(t *testing.T) {
	r, ws := newTestRegistry(t, nil)
	os.WriteFile(filepath.Join(ws, "f.txt"), []byte("a\nb\nc\nd\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "bin"), []byte{0x7f, 'E', 'L', 'F', 0, 0, 1, 2}, 0o644)
	os.WriteFile(filepath.Join(ws, "p.png"), append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...), 0o644)
	cases := []struct {
		args    map[string]any
		want    string
		isError bool
	}{
		{map[string]any{"path": "f.txt", "offset": 2, "limit": 2}, "b\nc\n\n[2 more lines in file. Use offset=4 to continue]", false},
		{map[string]any{"path": "f.txt", "offset": "3"}, "c\nd\n", false},
		{map[string]any{"path": "f.txt", "offset": 9}, "Offset 9 is beyond end of file (5 lines total)", true},
		{map[string]any{"path": "bin"}, "read: bin is a binary file (8B); only text files and images can be read", true},
		{map[string]any{"path": "nope.txt"}, "nope.txt: no such file or directory", true},
		{map[string]any{}, "Missing required parameter: path (path or file_path)", true},
	}
	for _, c := range cases {
		res := call(t, r, "read", c.args)
		if res.IsError != c.isError || text(res) != c.want {
			t.Errorf("read %v: got %v %q, want %v %q", c.args, res.IsError, text(res), c.isError, c.want)
		}
	}
	res := call(t, r, "read", map[string]any{"path": "p.png"})
	if res.IsError || len(res.Content) != 2 || res.Content[1].Type != llm.ContentImage || res.Content[1].MimeType != "image/png" {
		t.Errorf("png: %+v", res)
	}
}

func TestEditSemantics(t *testing.T) {
	r, ws := newTestRegistry(t, nil)
	p := filepath.Join(ws, "e.txt")
	cases := []struct {
		name, before, old, new, after, err string
	}{
		{"exact", "one\ntwo\nthree\n", "two", "2", "one\n2\nthree\n", ""},
		{"crlf kept", "a\r\nb\r\n", "a\nb", "x\ny", "x\r\ny\r\n", ""},
		{"bom kept", "\uFEFFhello", "hello", "bye", "\uFEFFbye", ""},
		{"fuzzy quotes", "say “hi”\n", `say "hi"`, "ok", "ok\n", ""},
		{"not found", "abc", "zzz", "y", "", "Could not find the exact text in e.txt. The old text must match exactly including all whitespace and newlines."},
		{"not unique", "x x x", "x", "y", "", "Found 3 occurrences of the text in e.txt. The text must be unique. Please provide more context to make it unique."},
		{"identical", "abc", "b", "b", "", "No changes made to e.txt. The replacement produced identical content. This might indicate an issue with special characters or the text not existing as expected."},
	}
	for _, c := range cases {
		os.WriteFile(p, []byte(c.before), 0o640)
		res := call(t, r, "edit", map[string]any{"path": "e.txt", "oldText": c.old, "newText": c.new})
		got, _ := os.ReadFile(p)
		if c.err != "" {
			if !res.IsError || text(res) != c.err {
				t.Errorf("%s: got %q, want error %q", c.name, text(res), c.err)
			}
			if string(got) != c.before {
				t.Errorf("%s: file changed on error: %q", c.name, got)
			}
			continue
		}
		if res.IsError || text(res) != "Successfully replaced text in e.txt." || string(got) != c.after {
			t.Errorf("%s: %v %q, file %q, want %q", c.name, res.IsError, text(res), got, c.after)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v not kept", c.name, fi.Mode())
		}
	}
	if res := call(t, r, "edit", map[string]any{"file_path": "missing.txt", "old_string": "a", "new_string": "b"}); text(res) != "File not found: missing.txt" {
		t.Errorf("missing: %q", text(res))
	}
}

func TestWriteLsFindGrep(t *testing.T) {
	r, ws := newTestRegistry(t, nil)
	if res := call(t, r, "write", map[string]any{"path": "src/a.go", "content": "package a\n// TODO here\n"}); text(res) != "Successfully wrote 23 bytes to src/a.go" {
		t.Fatalf("write: %q", text(res))
	}
	call(t, r, "write", map[string]any{"path": "src/b.txt", "content": "todo later\n"})
	call(t, r, "write", map[string]any{"path": ".git/x", "content": "TODO git\n"})
	entries, _ := os.ReadDir(filepath.Join(ws, "src"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
	cases := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"ls", map[string]any{}, ".git/\nsrc/"},
		{"ls", map[string]any{"path": "src", "limit": 1}, "a.go\n\n[1 entries limit reached. Use limit=2 for more]"},
		{"find", map[string]any{"pattern": "*.go"}, "src/a.go"},
		{"find", map[string]any{"pattern": "src/**/*.{go,txt}"}, "src/a.go\nsrc/b.txt"},
		{"find", map[string]any{"pattern": "*.rs"}, "No files found matching pattern"},
		{"grep", map[string]any{"pattern": "TODO"}, "src/a.go:2: // TODO here"},
		{"grep", map[string]any{"pattern": "todo", "ignoreCase": true, "glob": "*.txt"}, "src/b.txt:1: todo later"},
		{"grep", map[string]any{"pattern": "here", "context": 1, "path": "src/a.go"}, "a.go-1- package a\na.go:2: // TODO here\na.go-3- "},
		{"grep", map[string]any{"pattern": "(", "literal": true}, "No matches found"},
	}
	for _, c := range cases {
		if got := text(call(t, r, c.tool, c.args)); got != c.want {
			t.Errorf("%s %v:\n got %q\nwant %q", c.tool, c.args, got, c.want)
		}
	}
}

func TestApplyPatch(t *testing.T) {
	doc := map[string]any{"tools": map[string]any{"exec": map[string]any{"applyPatch": map[string]any{"enabled": true}}}}
	r, ws := newTestRegistry(t, doc)
	os.WriteFile(filepath.Join(ws, "u.txt"), []byte("alpha\nbeta\ngamma\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "d.txt"), []byte("bye\n"), 0o644)
	patch := "*** Begin Patch\n*** Add File: new/n.txt\n+hi\n+there\n*** Update File: u.txt\n*** Move to: moved.txt\n@@ alpha\n-beta\n+BETA\n*** Delete File: d.txt\n*** End Patch\n"
	res := call(t, r, "apply_patch", map[string]any{"input": patch})
	want := "Success. Updated the following files:\nA new/n.txt\nM moved.txt\nD d.txt"
	if res.IsError || text(res) != want {
		t.Fatalf("got %v %q", res.IsError, text(res))
	}
	check := map[string]string{"new/n.txt": "hi\nthere\n", "moved.txt": "alpha\nBETA\ngamma\n"}
	for p, w := range check {
		if b, _ := os.ReadFile(filepath.Join(ws, p)); string(b) != w {
			t.Errorf("%s: %q", p, b)
		}
	}
	for _, p := range []string{"u.txt", "d.txt"} {
		if _, err := os.Stat(filepath.Join(ws, p)); err == nil {
			t.Errorf("%s still exists", p)
		}
	}
	errs := []struct{ patch, want string }{
		{"hello", "The first line of the patch must be '*** Begin Patch'"},
		{"*** Begin Patch\n*** Add File: x\n+1", "The last line of the patch must be '*** End Patch'"},
		{"*** Begin Patch\n*** Frob File: x\n*** End Patch", "Invalid patch hunk at line 2: '*** Frob File: x' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'"},
		{"*** Begin Patch\n*** Update File: moved.txt\n@@\n-nothere\n+x\n*** End Patch", "Failed to find expected lines in moved.txt:\nnothere"},
		{"*** Begin Patch\n*** End Patch", "No files were modified."},
	}
	for _, e := range errs {
		if res := call(t, r, "apply_patch", map[string]any{"input": e.patch}); !res.IsError || text(res) != e.want {
			t.Errorf("%q: got %q, want %q", e.patch, text(res), e.want)
		}
	}
	// A failing later hunk changes nothing.
	bad := "*** Begin Patch\n*** Add File: partial.txt\n+x\n*** Update File: nope.txt\n@@\n-a\n+b\n*** End Patch"
	if res := call(t, r, "apply_patch", map[string]any{"input": bad}); !res.IsError {
		t.Fatal("bad patch applied")
	}
	if _, err := os.Stat(filepath.Join(ws, "partial.txt")); err == nil {
		t.Error("a failing patch left partial.txt")
	}
}
