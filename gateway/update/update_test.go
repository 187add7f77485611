package update

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

func TestDetect(t *testing.T) {
	env := map[string]string{"GOPATH": "/home/u/go", "GOBIN": ""}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct{ exe, kind string }{
		{"/opt/homebrew/bin/clawdbot", "homebrew"},
		{"/usr/local/Cellar/clawdbot/1.0/bin/clawdbot", "homebrew"},
		{"/home/u/go/bin/clawdbot", "go-install"},
		{"/usr/bin/clawdbot", "system-package"},
		{"/home/u/src/clawdbot/bin/clawdbot", "release"},
	} {
		if got := Detect(tc.exe, getenv); got.Kind != tc.kind || got.Command == "" {
			t.Errorf("Detect(%s) = %+v, want %s", tc.exe, got, tc.kind)
		}
	}
}

// update.run is a real UNAVAILABLE error naming the update command and the
// restart, with both in details; bad params are refused first.
func TestRun(t *testing.T) {
	reg := rpc.NewRegistry()
	Register(reg, Deps{Executable: func() (string, error) { return "/home/u/go/bin/clawdbot", nil },
		Getenv: func(k string) string { return map[string]string{"GOPATH": "/home/u/go"}[k] }})
	call := func(params string) *wire.ErrorShape {
		res, e := reg.Lookup("update.run").Handler(rpc.NewCall("update.run", json.RawMessage(`"1"`), json.RawMessage(params), &rpc.Client{}, nil))
		if res != nil {
			t.Fatalf("update.run answered %v", res)
		}
		return e
	}
	e := call(`{"note":"x"}`)
	if e == nil || e.Code != wire.ErrUnavailable || !strings.Contains(e.Message, "go install github.com/clawdbot/clawdbot/cmd/clawdbot@latest") ||
		!strings.Contains(e.Message, "clawdbot gateway restart") {
		t.Fatalf("error = %+v", e)
	}
	d, _ := json.Marshal(e.Details)
	if !strings.Contains(string(d), `"reason":"self-update-unsupported"`) || !strings.Contains(string(d), `"kind":"go-install"`) {
		t.Fatalf("details = %s", d)
	}
	if e := call(`{"restartDelayMs":-1}`); e == nil || e.Code != wire.ErrInvalidRequest {
		t.Fatalf("bad params: %+v", e)
	}
}
