package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Inbound frame checks beyond the schema: text frames must be UTF-8, and
// a frame nested deeper than the JSON decoders go gets an answer instead
// of being mistaken for malformed JSON.

// closeInvalidPayload is RFC 6455's 1007: a text frame that is not UTF-8.
// The original's ws library closes with it (and no reason) for any text
// message that fails its UTF-8 check.
const closeInvalidPayload = websocket.StatusInvalidFramePayloadData

// maxFrameDepth is how deep a frame's JSON may nest: the limit of
// encoding/json's scanner (which the validators and json.Valid use), past
// which they fail as if the frame were not JSON. The original's JSON.parse
// has no such limit; a frame past it is answered INVALID_REQUEST
// "… nested deeper than 10000 levels" rather than ignored.
const maxFrameDepth = 10000

// read reads the next message. A text message that is not valid UTF-8
// closes the connection with 1007 and reads as an error; a binary one is
// passed on as is (the Swift apps send JSON in binary frames, which the
// original decodes leniently, as encoding/json does: invalid bytes in a
// string become U+FFFD).
func (c *conn) read(ctx context.Context) ([]byte, error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ == websocket.MessageText && !utf8.Valid(data) {
		c.s.wsLog.Debug("closing: text frame is not UTF-8", "conn", c.who.ConnID)
		c.closeWith(closeInvalidPayload, "")
		return nil, errInvalidUTF8
	}
	return data, nil
}

type frameError string

func (e frameError) Error() string { return string(e) }

const errInvalidUTF8 = frameError("text frame is not valid UTF-8")

// tooDeep reports whether data nests arrays/objects deeper than
// maxFrameDepth. It runs only for a frame the decoders refused, so the
// cost stays off the hot path.
func tooDeep(data []byte) bool {
	depth := 0
	inStr := false
	for i := 0; i < len(data); i++ {
		ch := data[i]
		if inStr {
			switch ch {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch ch {
		case '"':
			inStr = true
		case '[', '{':
			depth++
			if depth > maxFrameDepth {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}

// tooDeepError is the response to a frame past maxFrameDepth.
func tooDeepError() *wire.ErrorShape {
	return rpc.Invalid("invalid request frame: JSON nested deeper than " + strconv.Itoa(maxFrameDepth) + " levels")
}

// topLevelID is the "id" member of the top-level object in data, found by
// a flat scan that does not descend into values (so it works on a frame
// too deep to decode); "invalid" when there is none or it is not a string
// or number.
func topLevelID(data []byte) json.RawMessage {
	invalid := json.RawMessage(`"invalid"`)
	depth := 0
	// keyStart..keyEnd is the last string seen at depth 1; a ':' right
	// after it makes it a key.
	keyStart, keyEnd := -1, -1
	for i := 0; i < len(data); i++ {
		ch := data[i]
		switch ch {
		case '"':
			start := i
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if depth == 1 {
				keyStart, keyEnd = start, i+1
			}
		case ':':
			if depth != 1 || keyStart < 0 || keyEnd > len(data) {
				continue
			}
			var key string
			if json.Unmarshal(data[keyStart:keyEnd], &key) != nil || key != "id" {
				keyStart = -1
				continue
			}
			j := i + 1
			for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
				j++
			}
			end := j
			if end < len(data) && data[end] == '"' {
				for end++; end < len(data) && data[end] != '"'; end++ {
					if data[end] == '\\' {
						end++
					}
				}
				end++
			} else {
				for end < len(data) && (data[end] == '-' || data[end] == '+' || data[end] == '.' || data[end] == 'e' || data[end] == 'E' || (data[end] >= '0' && data[end] <= '9')) {
					end++
				}
			}
			if end > len(data) || end == j {
				return invalid
			}
			id := data[j:end]
			var v any
			if json.Unmarshal(id, &v) != nil {
				return invalid
			}
			switch v.(type) {
			case string, float64:
				return json.RawMessage(id)
			}
			return invalid
		case '[', '{':
			depth++
			keyStart = -1
		case ']', '}':
			depth--
			keyStart = -1
		case ',':
			keyStart = -1
		}
	}
	return invalid
}
