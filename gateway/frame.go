package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
)

// inFrame is a decoded inbound frame. id keeps the raw JSON so a numeric id
// is echoed back as a number (the original does).
type inFrame struct {
	id     json.RawMessage
	method string
	params json.RawMessage
	err    string // AJV-style validation details; "" when valid
}

// decodeFrame parses and validates one inbound request frame against the
// RequestFrame schema ({type:"req", id, method, params?}, no extra keys).
// malformed is true when data is not JSON at all.
func decodeFrame(data []byte) (f inFrame, malformed bool) {
	data = bytes.TrimSpace(data)
	if !json.Valid(data) {
		return f, true
	}
	if len(data) == 0 || data[0] != '{' {
		f.err = "must be object"
		return f, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		f.err = "must be object"
		return f, false
	}
	var errs []string
	for _, k := range []string{"type", "id", "method"} {
		if _, ok := m[k]; !ok {
			errs = append(errs, "must have required property '"+k+"'")
		}
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "type", "id", "method", "params":
		default:
			errs = append(errs, "at root: unexpected property '"+k+"'")
		}
	}
	if raw, ok := m["type"]; ok {
		var t string
		if json.Unmarshal(raw, &t) != nil || t != "req" {
			errs = append(errs, "at /type: must be equal to constant")
		}
	}
	if raw, ok := m["id"]; ok {
		f.id = raw
		var s string
		if json.Unmarshal(raw, &s) != nil {
			errs = append(errs, "at /id: must be string")
		} else if s == "" {
			errs = append(errs, "at /id: must NOT have fewer than 1 characters")
		}
	}
	if raw, ok := m["method"]; ok {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			errs = append(errs, "at /method: must be string")
		} else if s == "" {
			errs = append(errs, "at /method: must NOT have fewer than 1 characters")
		} else {
			f.method = s
		}
	}
	f.params = m["params"]
	f.err = strings.Join(errs, "; ")
	return f, false
}
