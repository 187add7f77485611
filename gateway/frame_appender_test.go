package gateway

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/clawdbot/clawdbot/wire"
)

// appended is a payload that encodes itself (as sessions.list's does).
type appended struct {
	json string
	err  error
}

func (a appended) AppendJSON(dst []byte) ([]byte, error) { return append(dst, a.json...), a.err }
func (a appended) MarshalJSON() ([]byte, error)          { return []byte(a.json), a.err }

// TestEncodeResponseAppender: a self-encoding payload gives the frame
// json.Marshal gives; one that fails gives the usual encode error frame.
func TestEncodeResponseAppender(t *testing.T) {
	for _, id := range []string{`"r1"`, `7`, ``} {
		p := appended{json: `{"a":"\u003c","b":[1,2]}`}
		got := encodeResponse(json.RawMessage(id), p, nil)
		if id == "" {
			id = `"invalid"`
		}
		want, _ := json.Marshal(resFrame{Type: wire.FrameRes, ID: json.RawMessage(id), OK: true, Payload: p})
		if string(got) != string(want) {
			t.Errorf("id %s: %s, want %s", id, got, want)
		}
	}
	got := encodeResponse(json.RawMessage(`"r2"`), appended{err: errors.New("boom")}, nil)
	var f struct {
		OK    bool
		Error wire.ErrorShape
	}
	if json.Unmarshal(got, &f) != nil || f.OK || f.Error.Code != wire.ErrUnavailable {
		t.Errorf("failing appender: %s", got)
	}
}
