package gateway

import (
	"os"
	"strings"
	"testing"
)

// config.set, config.apply and config.patch share one write path (doc/protocol.md
// §3.5): the same base-hash guard and validation, with patch's own checks
// on top. Every case runs against each method it applies to, from a fresh
// valid file, so a method that skipped a step would fail here.
func TestConfigWriteMethodsShareGuards(t *testing.T) {
	const valid = `{"gateway":{"mode":"local"}}`
	const hashRequired = "config base hash required; re-run config.get and retry"
	const stale = "config changed since last load; re-run config.get and retry"
	cases := []struct {
		name    string
		methods []string
		file    string // written before the call ("" keeps valid)
		raw     string
		hash    string // "current" sends the file's hash
		wantMsg string // "" means ok:true
		wantIn  string // the file afterwards contains this
	}{
		{"no base hash", []string{"config.set", "config.apply", "config.patch"}, "", `{"gateway":{"mode":"local","port":20001}}`, "", hashRequired, "local"},
		{"stale base hash", []string{"config.set", "config.apply", "config.patch"}, "", `{"gateway":{"mode":"local","port":20001}}`, "00", stale, "local"},
		{"invalid result", []string{"config.set", "config.apply", "config.patch"}, "", `{"gateway":{"port":"not a port"}}`, "current", "invalid config", "local"},
		{"written", []string{"config.set", "config.apply", "config.patch"}, "", `{"gateway":{"mode":"local","port":20001}}`, "current", "", "20001"},
		{"patch needs an object", []string{"config.patch"}, "", `[1]`, "current", "config.patch raw must be an object", "local"},
		{"patch needs a valid file", []string{"config.patch"}, `{"gateway":{"port":"bad"}}`, `{"gateway":{"port":20001}}`, "current", "invalid config; fix before patching", "bad"},
		{"set and apply replace an invalid file", []string{"config.set", "config.apply"}, `{"gateway":{"port":"bad"}}`, `{"gateway":{"mode":"local","port":20001}}`, "current", "", "20001"},
	}
	for _, tc := range cases {
		for _, method := range tc.methods {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				s := startServer(t, nil)
				file := tc.file
				if file == "" {
					file = valid
				}
				if err := os.WriteFile(s.opts.ConfigPath, []byte(file), 0o600); err != nil {
					t.Fatal(err)
				}
				c := dial(t, s)
				c.Connect(connectParams(testToken))
				params := map[string]any{"raw": tc.raw}
				switch tc.hash {
				case "current":
					params["baseHash"] = c.Call("config.get", nil)["payload"].(map[string]any)["hash"]
				case "":
				default:
					params["baseHash"] = tc.hash
				}
				res := c.Call(method, params)
				if tc.wantMsg == "" {
					if res["ok"] != true {
						t.Fatalf("%s = %v, want ok", method, res)
					}
				} else if code, msg := errOf(t, res); code != "INVALID_REQUEST" || msg != tc.wantMsg {
					t.Fatalf("%s error = %s %q, want INVALID_REQUEST %q", method, code, msg, tc.wantMsg)
				}
				b, err := os.ReadFile(s.opts.ConfigPath)
				if err != nil || !strings.Contains(string(b), tc.wantIn) {
					t.Errorf("file after %s = %s (%v), want it to contain %q", method, b, err, tc.wantIn)
				}
			})
		}
	}
}
