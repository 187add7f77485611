package wire

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
)

// schemaFS holds the generated schema files (go generate ./wire).
//
//go:embed schema/*.json
var schemaFS embed.FS

// SchemaFS exposes the embedded schema files (schema/<Type>.json).
func SchemaFS() embed.FS { return schemaFS }

// ErrMalformedJSON marks a frame that is not JSON at all. Before the
// handshake the gateway closes 1000 without a response; after it the frame
// is ignored (doc/protocol.md §2.2), so callers test for it with errors.Is.
var ErrMalformedJSON = errors.New("malformed JSON")

var (
	schemasOnce sync.Once
	schemas     map[string]*snode // by type name
	schemasErr  error
)

// loadSchemas compiles every embedded schema once into the AJV walker's
// snode tree, which decides validity and words the errors (ajv.go).
func loadSchemas() (map[string]*snode, error) {
	schemasOnce.Do(func() {
		entries, err := schemaFS.ReadDir("schema")
		if err != nil {
			schemasErr = err
			return
		}
		out := make(map[string]*snode, len(entries))
		for _, e := range entries {
			name := strings.TrimSuffix(e.Name(), ".json")
			data, err := schemaFS.ReadFile(path.Join("schema", e.Name()))
			if err != nil {
				schemasErr = err
				return
			}
			doc, err := decodeOrdered(data)
			if err != nil {
				schemasErr = fmt.Errorf("schema %s: %w", e.Name(), err)
				return
			}
			node, err := compileNode(doc)
			if err != nil {
				schemasErr = fmt.Errorf("schema %s: %w", name, err)
				return
			}
			out[name] = node
		}
		schemas = out
	})
	return schemas, schemasErr
}

// check validates raw against the named schema. It returns "" when valid,
// else the AJV-style detail text. prepare, when set, normalises the decoded
// value first, as the original does before it validates.
func check(name string, raw []byte, prepare func(*object)) (string, error) {
	all, err := loadSchemas()
	if err != nil {
		return "", err
	}
	node, ok := all[name]
	if !ok {
		return "", fmt.Errorf("no schema %q; run make schema", name)
	}
	v, err := decodeOrdered(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformedJSON, syntaxError(raw))
	}
	if prepare != nil {
		if o, ok := v.(*object); ok {
			prepare(o)
		}
	}
	var errs []ajvErr
	node.walk(v, "", &errs)
	if len(errs) == 0 {
		return "", nil
	}
	return formatAJV(errs), nil
}

func invalid(prefix, detail string, cause error) *ErrorShape {
	return &ErrorShape{Code: ErrInvalidRequest, Message: prefix + detail, cause: cause}
}

// ValidateRequestFrame decodes and validates an inbound frame against the
// RequestFrame schema (type "req", non-empty id and method, no other keys).
// Errors are *ErrorShape with code INVALID_REQUEST and the original's text,
// e.g. "invalid request frame: at root: unexpected property 'extra'"; a frame
// that is not JSON also satisfies errors.Is(err, ErrMalformedJSON).
func ValidateRequestFrame(raw []byte) (*RequestFrame, error) {
	if f, ok := fastRequestFrame(raw); ok {
		return f, nil
	}
	return schemaRequestFrame(raw)
}

// schemaRequestFrame is ValidateRequestFrame without the fast path: the
// reference the fast path is held to (benchmarks, differential fuzzing) and
// the source of every rejection message.
func schemaRequestFrame(raw []byte) (*RequestFrame, error) {
	detail, err := check("RequestFrame", raw, nil)
	if err != nil {
		return nil, invalid("invalid request frame: ", err.Error(), err)
	}
	if detail != "" {
		return nil, invalid("invalid request frame: ", detail, nil)
	}
	var f RequestFrame
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, invalid("invalid request frame: ", err.Error(), err)
	}
	return &f, nil
}

// FrameErrorID is the id to answer an invalid frame with: the frame's own
// "id" value whatever its JSON type (the original echoes a numeric id as a
// number), or "invalid" when there is none.
func FrameErrorID(raw []byte) json.RawMessage {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &probe) == nil && len(probe.ID) > 0 && string(probe.ID) != "null" {
		return probe.ID
	}
	return json.RawMessage(`"invalid"`)
}

// ValidateConnectParams validates and decodes connect params; errors read
// "invalid connect params: …" exactly as the original's.
func ValidateConnectParams(raw json.RawMessage) (*ConnectParams, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	if p, ok := fastConnectParams(raw); ok {
		return p, nil
	}
	return schemaConnectParams(raw)
}

// schemaConnectParams is ValidateConnectParams (after the empty-input
// default) without the fast path; see schemaRequestFrame.
func schemaConnectParams(raw json.RawMessage) (*ConnectParams, error) {
	detail, err := check("ConnectParams", raw, nil)
	if err != nil {
		return nil, invalid("invalid connect params: ", err.Error(), err)
	}
	if detail != "" {
		return nil, invalid("invalid connect params: ", detail, nil)
	}
	var p ConnectParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, invalid("invalid connect params: ", err.Error(), err)
	}
	return &p, nil
}

// paramsPrepare normalises params the way the original does before it
// validates them. It edits the decoded object in place, keeping the key
// order the original's object would have (a deleted key drops out, an
// added one goes last).
var paramsPrepare = map[string]func(*object){
	// node.invoke.result: payloadJSON:null and error:null are stripped; a
	// non-string payloadJSON is moved into payload.
	"node.invoke.result": func(o *object) {
		if v, ok := o.vals["payloadJSON"]; ok {
			if _, isStr := v.(string); !isStr {
				o.del("payloadJSON")
				if _, has := o.vals["payload"]; !has && v != nil {
					o.set("payload", v)
				}
			}
		}
		if v, ok := o.vals["error"]; ok && v == nil {
			o.del("error")
		}
	},
}

// normalizedParams returns the params a handler should decode: "{}" when
// absent, normalised for methods that need it.
func normalizedParams(method string, params json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" {
		return json.RawMessage("{}")
	}
	return params
}

// ValidateParams validates a method's params against its schema. Methods
// the original does not validate (health, status, system-event, …) and
// unknown methods pass. Absent params count as {} (the original defaults
// them). Errors are *ErrorShape INVALID_REQUEST "invalid <method> params: …".
func ValidateParams(method string, params json.RawMessage) error {
	m, ok := methodIndex[method]
	if !ok || m.Params == nil {
		return nil
	}
	params = normalizedParams(method, params)
	detail, err := check(m.Params.Name(), params, paramsPrepare[method])
	prefix := "invalid " + method + " params: "
	if err != nil {
		return invalid(prefix, err.Error(), err)
	}
	if detail != "" {
		return invalid(prefix, detail, nil)
	}
	return nil
}

// DecodeParams validates params (ValidateParams) and decodes them, after
// the original's normalisation, into dst (a pointer to the method's params
// type).
func DecodeParams(method string, params json.RawMessage, dst any) error {
	if err := ValidateParams(method, params); err != nil {
		return err
	}
	params = normalizedParams(method, params)
	if prep := paramsPrepare[method]; prep != nil {
		if v, err := decodeOrdered(params); err == nil {
			if o, ok := v.(*object); ok {
				prep(o)
				params, _ = json.Marshal(o)
			}
		}
	}
	if err := json.Unmarshal(params, dst); err != nil {
		return invalid("invalid "+method+" params: ", err.Error(), err)
	}
	return nil
}
