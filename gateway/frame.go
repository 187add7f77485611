package gateway

import (
	"encoding/json"
	"errors"

	"github.com/clawdbot/clawdbot/wire"
)

// inFrame is a decoded inbound frame. id keeps the raw JSON so a numeric id
// is echoed back as a number (the original does).
type inFrame struct {
	id     json.RawMessage
	method string
	params json.RawMessage
	err    *wire.ErrorShape // validation failure ("invalid request frame: …")
}

// decodeFrame parses and validates one inbound request frame against the
// RequestFrame schema (wire.ValidateRequestFrame: AJV-identical messages).
// malformed is true when data is not JSON at all.
func decodeFrame(data []byte) (f inFrame, malformed bool) {
	rf, err := wire.ValidateRequestFrame(data)
	if err != nil {
		if errors.Is(err, wire.ErrMalformedJSON) {
			return f, true
		}
		f.id = wire.FrameErrorID(data)
		var es *wire.ErrorShape
		if !errors.As(err, &es) {
			es = invalid("invalid request frame: " + err.Error())
		}
		f.err = es
		return f, false
	}
	f.id, _ = json.Marshal(rf.ID)
	f.method = rf.Method
	f.params = rf.Params
	return f, false
}
