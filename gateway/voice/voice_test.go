package voice

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

type sent struct {
	event string
	body  string
	drop  bool
}

// recorder is the broadcaster: it keeps what the handler sent.
type recorder struct{ got []sent }

func (r *recorder) Broadcast(event string, payload any, d rpc.Delivery) {
	b, _ := json.Marshal(payload)
	r.got = append(r.got, sent{event, string(b), d.DropIfSlow})
}

var fixed = time.UnixMilli(1700000000123)

func setup(t *testing.T, mobile bool) (*rpc.Registry, *recorder, string) {
	t.Helper()
	dir := t.TempDir()
	rec := &recorder{}
	reg := rpc.NewRegistry()
	Register(reg, Deps{Store: NewStore(dir, func() time.Time { return fixed }), Broadcast: rec,
		MobileNodeConnected: func() bool { return mobile }, Now: func() time.Time { return fixed }})
	return reg, rec, dir
}

func do(reg *rpc.Registry, method, params string, client *rpc.Client) (string, *wire.ErrorShape) {
	if client == nil {
		client = &rpc.Client{Role: wire.RoleOperator, Info: wire.ClientInfo{ID: "cli", Mode: "cli"}}
	}
	res, e := reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), json.RawMessage(params), client, nil))
	b, _ := json.Marshal(res)
	return string(b), e
}

// talk.mode answers and broadcasts {enabled, phase (null when absent), ts}
// (dropped for slow clients); a webchat client without a mobile node is
// refused with the original's UNAVAILABLE message.
func TestTalkMode(t *testing.T) {
	reg, rec, _ := setup(t, false)
	for _, tc := range []struct{ params, want string }{
		{`{"enabled":true}`, `{"enabled":true,"phase":null,"ts":1700000000123}`},
		{`{"enabled":false,"phase":"listening"}`, `{"enabled":false,"phase":"listening","ts":1700000000123}`},
	} {
		got, e := do(reg, "talk.mode", tc.params, nil)
		if e != nil || got != tc.want {
			t.Fatalf("talk.mode %s = %s, %v; want %s", tc.params, got, e, tc.want)
		}
		last := rec.got[len(rec.got)-1]
		if last.event != "talk.mode" || last.body != tc.want || !last.drop {
			t.Fatalf("event = %+v", last)
		}
	}
	webchat := &rpc.Client{Role: wire.RoleOperator, Info: wire.ClientInfo{ID: "webchat-ui", Mode: "ui"}}
	n := len(rec.got)
	if _, e := do(reg, "talk.mode", `{"enabled":true}`, webchat); e == nil || e.Code != wire.ErrUnavailable || e.Message != "talk disabled: no connected iOS/Android nodes" {
		t.Fatalf("webchat without mobile node: %+v", e)
	}
	if len(rec.got) != n {
		t.Fatal("a refused talk.mode broadcast")
	}
	reg2, _, _ := setup(t, true)
	if _, e := do(reg2, "talk.mode", `{"enabled":true}`, webchat); e != nil {
		t.Fatalf("webchat with a mobile node: %v", e)
	}
}

// voicewake.get gives the defaults until set; set normalises like the
// original (trim, drop blanks, ≤32 words of ≤64 chars, none → defaults),
// writes <state>/settings/voicewake.json {triggers, updatedAtMs}, and
// broadcasts voicewake.changed.
func TestVoiceWake(t *testing.T) {
	reg, rec, dir := setup(t, false)
	if got, e := do(reg, "voicewake.get", `{}`, nil); e != nil || got != `{"triggers":["clawd","claude","computer"]}` {
		t.Fatalf("get = %s, %v", got, e)
	}
	got, e := do(reg, "voicewake.set", `{"triggers":["  hey clawd ", "", 7, "`+strings.Repeat("x", 70)+`"]}`, nil)
	want := `{"triggers":["hey clawd","` + strings.Repeat("x", 64) + `"]}`
	if e != nil || got != want {
		t.Fatalf("set = %s, %v", got, e)
	}
	if len(rec.got) != 1 || rec.got[0].event != "voicewake.changed" || rec.got[0].body != want {
		t.Fatalf("events = %+v", rec.got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "settings", "voicewake.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file Settings
	if err := json.Unmarshal(b, &file); err != nil || file.UpdatedAtMs != fixed.UnixMilli() || len(file.Triggers) != 2 {
		t.Fatalf("file = %s (%v)", b, err)
	}
	if got, _ := do(reg, "voicewake.get", `{}`, nil); got != want {
		t.Fatalf("get after set = %s", got)
	}
	many := make([]string, 40)
	for i := range many {
		many[i] = "w"
	}
	mb, _ := json.Marshal(map[string]any{"triggers": many})
	got, _ = do(reg, "voicewake.set", string(mb), nil)
	var r wire.VoiceWakeResult
	_ = json.Unmarshal([]byte(got), &r)
	if len(r.Triggers) != 32 {
		t.Fatalf("40 triggers stored as %d", len(r.Triggers))
	}
	if got, _ := do(reg, "voicewake.set", `{"triggers":[" "]}`, nil); got != `{"triggers":["clawd","claude","computer"]}` {
		t.Fatalf("blank set = %s", got)
	}
	for _, bad := range []string{`{}`, `{"triggers":"clawd"}`, `{"triggers":null}`} {
		if _, e := do(reg, "voicewake.set", bad, nil); e == nil || e.Code != wire.ErrInvalidRequest || e.Message != "voicewake.set requires triggers: string[]" {
			t.Errorf("%s: %+v", bad, e)
		}
	}
	// A broken file reads as the defaults, as the original.
	if err := os.WriteFile(filepath.Join(dir, "settings", "voicewake.json"), []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, e := do(reg, "voicewake.get", `{}`, nil); e != nil || got != `{"triggers":["clawd","claude","computer"]}` {
		t.Fatalf("broken file get = %s, %v", got, e)
	}
}
