package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// keyPaths lists every object key of a JSON document as a dotted path, in
// document order (array elements as []), so two documents with the same
// keys in a different order or nesting differ.
func keyPaths(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	var out []string
	var walk func(prefix string) error
	walk = func(prefix string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				p := prefix + "." + k.(string)
				out = append(out, p)
				if err := walk(p); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if err := walk(prefix + "[]"); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	if err := walk(""); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("keyPaths: %v", err)
	}
	return out
}

// rawPayload calls method and returns the res payload's bytes as sent.
func rawPayload(t *testing.T, c *testClient, method string) []byte {
	t.Helper()
	c.Send(map[string]any{"type": "req", "id": "shape", "method": method})
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, data, err := c.WS.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var f wire.RawResponseFrame
		if json.Unmarshal(data, &f) == nil && f.Type == wire.FrameRes && string(f.ID) == `"shape"` {
			if !f.OK {
				t.Fatalf("%s failed: %s", method, data)
			}
			return f.Payload
		}
	}
}

// The results built from the wire types carry the original's keys in the
// original's order (testdata/captures are `clawdbot gateway call <method>
// --json` against the real gateway, on a state dir as fresh as the test's).
func TestResultKeysMatchCaptures(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	for _, method := range []string{"health", "status", "node.list", "system-presence"} {
		t.Run(method, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "captures", "cli-gateway-call-"+method+".json"))
			if err != nil {
				t.Fatal(err)
			}
			got := rawPayload(t, c, method)
			if w, g := keyPaths(t, want), keyPaths(t, got); !slices.Equal(w, g) {
				t.Fatalf("keys differ from the capture\n got: %v\nwant: %v", g, w)
			}
		})
	}
}

// config.apply returns the very sentinel payload it wrote to
// <state>/restart-sentinel.json (one type for both), with message null when
// there is no note (doc/protocol.md §3.5).
func TestConfigApplySentinel(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	res := c.Call("config.apply", map[string]any{"raw": `{gateway: {mode: "local"}}`, "sessionKey": "agent:main:main"})
	if res["ok"] != true {
		t.Fatalf("apply = %v", res)
	}
	sent := res["payload"].(map[string]any)["sentinel"].(map[string]any)
	path := filepath.Join(s.opts.StateDir, SentinelFile)
	if sent["path"] != path {
		t.Fatalf("sentinel.path = %v, want %s", sent["path"], path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if file["version"] != float64(1) {
		t.Fatalf("version = %v", file["version"])
	}
	fileJSON, _ := json.Marshal(file["payload"])
	resJSON, _ := json.Marshal(sent["payload"])
	if string(fileJSON) != string(resJSON) {
		t.Fatalf("file payload %s != result payload %s", fileJSON, resJSON)
	}
	if !strings.Contains(string(b), `"message": null`) || !strings.Contains(string(b), `"mode": "config.apply"`) {
		t.Fatalf("sentinel file:\n%s", b)
	}
}

// node.pair.request always reports isRepair (doc/protocol.md §3.3), false for a node
// never paired and true once it is.
func TestNodePairRequestIsRepair(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	isRepair := func() any {
		t.Helper()
		p := c.Call("node.pair.request", map[string]any{"nodeId": "n1"})["payload"].(map[string]any)
		r := p["request"].(map[string]any)
		v, ok := r["isRepair"]
		if !ok {
			t.Fatalf("request without isRepair: %v", r)
		}
		return v
	}
	if v := isRepair(); v != false {
		t.Fatalf("first request isRepair = %v", v)
	}
	pend := c.Call("node.pair.list", nil)["payload"].(map[string]any)["pending"].([]any)
	id := pend[0].(map[string]any)["requestId"]
	if res := c.Call("node.pair.approve", map[string]any{"requestId": id}); res["ok"] != true {
		t.Fatalf("approve = %v", res)
	}
	if v := isRepair(); v != true {
		t.Fatalf("repair request isRepair = %v", v)
	}
}
