//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim, and they start with a capital and end with a period there

package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// schema is the subset of JSON Schema the tools' parameters use (type,
// properties, required, items, enum, minimum/maximum), checked as
// pi-ai's validateToolArguments does with AJV (allErrors, coerceTypes):
// a string "5" is accepted for a number, 5 for a string.
type schema struct {
	Type       any                `json:"type"`
	Properties map[string]*schema `json:"properties"`
	Required   []string           `json:"required"`
	Items      *schema            `json:"items"`
	Enum       []any              `json:"enum"`
	Minimum    *float64           `json:"minimum"`
	Maximum    *float64           `json:"maximum"`
	AnyOf      []*schema          `json:"anyOf"`
}

func compileSchema(raw json.RawMessage) (*schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return &schema{Type: "object"}, nil
	}
	var s schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// validate parses args (a JSON object; empty is {}), coerces scalar types
// as AJV's coerceTypes does, and returns the canonical JSON or the
// original's error text.
func (s *schema) validate(tool string, args json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage("{}")
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(args))
	d.UseNumber()
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, fmt.Errorf("Validation failed for tool %q:\n  - root: arguments are not valid JSON (%v)\n\nReceived arguments:\n%s", tool, errText(err), clip(string(args), 2000))
	}
	var errs []string
	v = s.check(v, "", &errs)
	if len(errs) > 0 {
		pretty, _ := json.MarshalIndent(v, "", "  ")
		return nil, fmt.Errorf("Validation failed for tool %q:\n%s\n\nReceived arguments:\n%s", tool, strings.Join(errs, "\n"), clip(string(pretty), 2000))
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func errText(err error) string {
	if err == nil {
		return "trailing data"
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (s *schema) types() []string {
	switch t := s.Type.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// check validates v at path, appending "  - path: message" lines, and
// returns v with coercions applied.
func (s *schema) check(v any, path string, errs *[]string) any {
	fail := func(msg string) {
		p := path
		if p == "" {
			p = "root"
		}
		*errs = append(*errs, "  - "+p+": "+msg)
	}
	if len(s.AnyOf) > 0 {
		for _, alt := range s.AnyOf {
			var e []string
			if out := alt.check(v, path, &e); len(e) == 0 {
				return out
			}
		}
		fail("must match a schema in anyOf")
		return v
	}
	if ts := s.types(); len(ts) > 0 {
		ok := false
		for _, t := range ts {
			if c, good := coerce(v, t); good {
				v, ok = c, true
				break
			}
		}
		if !ok {
			fail("must be " + strings.Join(ts, ","))
			return v
		}
	}
	if len(s.Enum) > 0 {
		found := false
		for _, e := range s.Enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			fail("must be equal to one of the allowed values")
		}
	}
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		if s.Minimum != nil && f < *s.Minimum {
			fail(fmt.Sprintf("must be >= %v", *s.Minimum))
		}
		if s.Maximum != nil && f > *s.Maximum {
			fail(fmt.Sprintf("must be <= %v", *s.Maximum))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := x[r]; !ok {
				// AJV reports a missing property at the parent with
				// params.missingProperty, which pi-ai prints as the path.
				p := r
				if path != "" {
					p = path
				}
				*errs = append(*errs, "  - "+p+": must have required property '"+r+"'")
			}
		}
		for _, k := range sortedKeys(s.Properties) {
			if pv, ok := x[k]; ok {
				x[k] = s.Properties[k].check(pv, joinPath(path, k), errs)
			}
		}
	case []any:
		if s.Items != nil {
			for i := range x {
				x[i] = s.Items.check(x[i], joinPath(path, strconv.Itoa(i)), errs)
			}
		}
	}
	return v
}

func joinPath(p, k string) string {
	if p == "" {
		return k
	}
	return p + "/" + k
}

// coerce returns v as JSON type t, converting scalars as AJV's
// coerceTypes does.
func coerce(v any, t string) (any, bool) {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return v, ok
	case "array":
		if _, ok := v.([]any); ok {
			return v, true
		}
		if v == nil {
			return v, false
		}
		if _, ok := v.(map[string]any); ok {
			return v, false
		}
		// AJV coerces a scalar to a one-element array.
		if c, ok := coerceScalar(v); ok {
			return []any{c}, true
		}
		return v, false
	case "null":
		return v, v == nil
	}
	switch x := v.(type) {
	case string:
		switch t {
		case "string":
			return x, true
		case "number", "integer":
			if x == "" {
				return v, false
			}
			f, err := strconv.ParseFloat(x, 64)
			if err != nil || (t == "integer" && f != float64(int64(f))) {
				return v, false
			}
			return json.Number(x), true
		case "boolean":
			switch x {
			case "true":
				return true, true
			case "false":
				return false, true
			}
		}
	case json.Number:
		switch t {
		case "number":
			return x, true
		case "integer":
			f, err := x.Float64()
			return x, err == nil && f == float64(int64(f))
		case "string":
			return x.String(), true
		case "boolean":
			switch x.String() {
			case "1":
				return true, true
			case "0":
				return false, true
			}
		}
	case bool:
		switch t {
		case "boolean":
			return x, true
		case "string":
			return strconv.FormatBool(x), true
		case "number", "integer":
			if x {
				return json.Number("1"), true
			}
			return json.Number("0"), true
		}
	case nil:
		switch t {
		case "string":
			return "", true
		case "number", "integer":
			return json.Number("0"), true
		case "boolean":
			return false, true
		}
	}
	return v, false
}

func coerceScalar(v any) (any, bool) {
	switch v.(type) {
	case string, json.Number, bool:
		return v, true
	}
	return nil, false
}

var _ = sort.Strings
