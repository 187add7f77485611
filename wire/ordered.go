package wire

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"slices"
)

// object is a decoded JSON object that remembers its key order. AJV reports
// unexpected properties in the order a JavaScript object enumerates its
// keys, and schema properties in declaration order; plain maps lose both.
// keys is in JavaScript's order (see jsKeyOrder).
type object struct {
	keys []string
	vals map[string]any
}

// del removes key k, keeping the order of the others (JavaScript's delete).
func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	o.keys = slices.DeleteFunc(o.keys, func(x string) bool { return x == k })
}

// set assigns key k: an existing key keeps its place, a new one is ordered
// as JavaScript would order it.
func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
		jsKeyOrder(o.keys)
	}
	o.vals[k] = v
}

// MarshalJSON encodes the object with its keys in order, so a normalised
// value re-encodes the way the original would serialise it.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsKeyOrder sorts keys the way JavaScript enumerates an object's own
// properties (ECMA-262 OrdinaryOwnPropertyKeys): array indices (canonical
// decimal integers below 2^32-1) first in ascending numeric order, then
// the other keys in insertion order. JSON.parse builds the original's
// params this way, so AJV reports {"b":1,"0":2} as '0' before 'b'.
func jsKeyOrder(keys []string) {
	hasIndex := false
	for _, k := range keys {
		if _, ok := arrayIndex(k); ok {
			hasIndex = true
			break
		}
	}
	if !hasIndex {
		return
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		ia, aok := arrayIndex(a)
		ib, bok := arrayIndex(b)
		switch {
		case aok && bok:
			return cmp.Compare(ia, ib)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
}

// arrayIndex reports whether k is a JavaScript array index: the canonical
// decimal form (no sign, no leading zero) of an integer in [0, 2^32-2].
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n < 1<<32-1
}

// syntaxError is the reason raw is not one JSON value, worded as
// encoding/json words it (the text after "malformed JSON: "). It runs only
// on the rejection path.
func syntaxError(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return errors.New("invalid character after top-level value")
}

// decodeOrdered decodes one JSON value: objects become *object, numbers
// json.Number, the rest as encoding/json does.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.vals[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.vals[k] = v // last duplicate wins, as in JSON.parse
			}
			jsKeyOrder(o.keys)
			_, err := dec.Token()
			return o, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, errors.New("unexpected delimiter")
	default:
		return t, nil
	}
}
