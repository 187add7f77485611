package sessionstore

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/ours from our writer")

// oursEntries are the sessions of testdata/ours/sessions.json, the store
// the original's `clawdbot sessions --json` was run against
// (testdata/original/cli-sessions-json-of-ours.json).
func oursEntries() ([]string, map[string]*Entry) {
	main := Entry{SessionID: "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3", UpdatedAt: 1796168744510, SystemSent: Bool(true), AbortedLastRun: Bool(false),
		ChatType: "direct", ModelProvider: "fake", Model: "fake-model", ContextTokens: Int(128000),
		InputTokens: Int(11), OutputTokens: Int(6), TotalTokens: Int(11), ThinkingLevel: "low", Label: "work <main>"}
	group := Entry{SessionID: "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b", UpdatedAt: 1796168000000, ChatType: "group", VerboseLevel: "on",
		GroupActivation: "mention", AbortedLastRun: Bool(true)}
	bare := Entry{SessionID: "9f8e7d6c-5b4a-4321-8fed-cba987654321"}
	return []string{"agent:main:main", "agent:main:telegram:group:-100123", "agent:main:hook:abc"},
		map[string]*Entry{"agent:main:main": &main, "agent:main:telegram:group:-100123": &group, "agent:main:hook:abc": &bare}
}

func TestOursFixtureIsOurWriterOutput(t *testing.T) {
	keys, entries := oursEntries()
	got, err := encodeStore(keys, entries)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "ours", "sessions.json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("our writer's output changed; rerun with -update and re-capture the original's reading of it:\n%s", got)
	}
}
