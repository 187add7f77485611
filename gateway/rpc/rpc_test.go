package rpc_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

type frame struct {
	id      string
	payload any
	e       *wire.ErrorShape
}

type recorder struct{ frames []frame }

func (r *recorder) Respond(id json.RawMessage, payload any, e *wire.ErrorShape) {
	r.frames = append(r.frames, frame{string(id), payload, e})
}

func TestRegistry(t *testing.T) {
	reg := rpc.NewRegistry()
	reg.Handle("a", func(*rpc.Call) (any, *wire.ErrorShape) { return 1, nil })
	reg.HandleAsync("b", func(*rpc.Call) (any, *wire.ErrorShape) { return 2, nil })
	if m := reg.Lookup("a"); m == nil || m.Async || m.Name != "a" {
		t.Fatalf("Lookup(a) = %+v", m)
	}
	if m := reg.Lookup("b"); m == nil || !m.Async {
		t.Fatalf("Lookup(b) = %+v", m)
	}
	if reg.Has("c") || reg.Lookup("c") != nil || reg.Len() != 2 {
		t.Fatal("unknown method found")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration did not panic")
		}
	}()
	reg.Handle("a", nil)
}

// A two-stage method responds early, then its return value follows with
// the same id.
func TestTwoStageRespond(t *testing.T) {
	rec := &recorder{}
	c := rpc.NewCall("agent", json.RawMessage(`7`), json.RawMessage(`{}`), &rpc.Client{ConnID: "c1"}, rec)
	h := func(c *rpc.Call) (any, *wire.ErrorShape) {
		c.Respond(map[string]string{"status": "accepted"}, nil)
		return map[string]string{"status": "ok"}, nil
	}
	payload, e := h(c)
	rec.Respond(c.ID(), payload, e)
	if len(rec.frames) != 2 || rec.frames[0].id != "7" || rec.frames[1].id != "7" {
		t.Fatalf("frames = %+v", rec.frames)
	}
	// Without a responder Respond is a no-op, not a panic.
	rpc.NewCall("x", nil, nil, nil, nil).Respond(nil, nil)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		e    *wire.ErrorShape
		code string
	}{
		{rpc.Invalid("x"), wire.ErrInvalidRequest},
		{rpc.Unavailable("x"), wire.ErrUnavailable},
		{rpc.NotPaired("x"), wire.ErrNotPaired},
		{rpc.AsError(errors.New("x")), wire.ErrInvalidRequest},
		{rpc.AsError(rpc.Unavailable("x")), wire.ErrUnavailable},
	} {
		if tc.e.Code != tc.code || tc.e.Message != "x" {
			t.Errorf("%+v, want code %s", tc.e, tc.code)
		}
	}
	if id := rpc.NewID(); len(id) != 36 || id[14] != '4' {
		t.Errorf("NewID = %q, want a UUIDv4", id)
	}
}
