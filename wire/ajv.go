package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reproduces the original's validator: AJV 8 with allErrors and
// strict:false, its errors formatted by formatValidationErrors. The walker
// both decides validity (a value is valid exactly when it finds no error)
// and words the errors: the same text, the same order, the same
// de-duplication (for instance "at /client/id: must be equal to constant;
// at /client/id: must match a schema in anyOf").
//
// Semantics follow AJV on the value JSON.parse yields, not JSON Schema on
// the literal text:
//   - numbers are IEEE doubles: 1.0000000000000001 is the integer 1, 1e400
//     is Infinity, which with strict:false (no strictNumbers) is a number
//     and an integer, above every maximum;
//   - string lengths count code points (AJV's ucs2length: a surrogate pair
//     once, a lone surrogate once; encoding/json turns a lone surrogate
//     escape into one U+FFFD, so the count is the same);
//   - object keys enumerate in JavaScript's order (ordered.go);
//   - const and enum compare as fast-deep-equal does (numbers by ===).
//
// The tests hold it to santhosh-tekuri/jsonschema (a second, independent
// implementation, fuzzed on every embedded schema) and to verdicts and
// messages recorded from the real AJV (testdata/ajv).

// snode is a compiled view of the subset of JSON Schema our generator emits.
type snode struct {
	boolean   *bool // true/false schema
	types     []string
	hasConst  bool
	constVal  any
	enum      []any
	anyOf     []*snode
	required  []string
	propNames []string
	props     map[string]*snode
	addlFalse bool
	addl      *snode
	patterns  []patternNode
	items     *snode
	minLength *int
	maxLength *int
	minimum   *float64
	maximum   *float64
	minItems  *int
	maxItems  *int
	pattern   *regexp.Regexp
	patternS  string
}

type patternNode struct {
	re   *regexp.Regexp
	node *snode
}

// annotationKeywords carry no validation (AJV and santhosh-tekuri ignore
// them for the verdict), so the compiler may skip them.
var annotationKeywords = map[string]bool{"$schema": true, "$id": true, "$comment": true, "title": true, "description": true}

// compileNode compiles one schema. Every keyword is either implemented
// below or a pure annotation: anything else is an error naming the keyword
// and where it is, because a keyword the walker skipped would make its
// messages (and its verdict) silently differ from the original's.
func compileNode(v any) (*snode, error) { return compileAt(v, "") }

func compileAt(v any, at string) (*snode, error) {
	switch s := v.(type) {
	case bool:
		return &snode{boolean: &s}, nil
	case *object:
		n := &snode{}
		for _, k := range s.keys {
			val := s.vals[k]
			where := at + "/" + escapePointer(k)
			bad := func(want string) error {
				return fmt.Errorf("schema keyword %q at %s: want %s, got %s", k, at0(at), want, ajvType(val))
			}
			var err error
			switch k {
			case "type":
				switch t := val.(type) {
				case string:
					n.types = []string{t}
				case []any:
					for _, x := range t {
						str, ok := x.(string)
						if !ok {
							return nil, bad("a type name or an array of them")
						}
						n.types = append(n.types, str)
					}
				default:
					return nil, bad("a type name or an array of them")
				}
				for _, t := range n.types {
					if !slices.Contains(schemaTypes, t) {
						return nil, fmt.Errorf("schema keyword \"type\" at %s: unknown type %q", at0(at), t)
					}
				}
			case "const":
				n.hasConst, n.constVal = true, val
			case "enum":
				arr, ok := val.([]any)
				if !ok {
					return nil, bad("an array")
				}
				n.enum = arr
			case "anyOf":
				arr, ok := val.([]any)
				if !ok || len(arr) == 0 {
					return nil, bad("a non-empty array")
				}
				for i, sub := range arr {
					c, err := compileAt(sub, where+"/"+strconv.Itoa(i))
					if err != nil {
						return nil, err
					}
					n.anyOf = append(n.anyOf, c)
				}
			case "required":
				arr, ok := val.([]any)
				if !ok {
					return nil, bad("an array of property names")
				}
				for _, x := range arr {
					str, ok := x.(string)
					if !ok {
						return nil, bad("an array of property names")
					}
					n.required = append(n.required, str)
				}
			case "properties":
				po, ok := val.(*object)
				if !ok {
					return nil, bad("an object")
				}
				n.props = map[string]*snode{}
				for _, pk := range po.keys {
					c, err := compileAt(po.vals[pk], where+"/"+escapePointer(pk))
					if err != nil {
						return nil, err
					}
					n.propNames = append(n.propNames, pk)
					n.props[pk] = c
				}
			case "additionalProperties":
				switch a := val.(type) {
				case bool:
					n.addlFalse = !a
				case *object:
					n.addl, err = compileAt(a, where)
				default:
					return nil, bad("a boolean or a schema")
				}
			case "patternProperties":
				po, ok := val.(*object)
				if !ok {
					return nil, bad("an object")
				}
				for _, pk := range po.keys {
					re, err := ecmaToGo(pk)
					if err != nil {
						return nil, err
					}
					c, err := compileAt(po.vals[pk], where+"/"+escapePointer(pk))
					if err != nil {
						return nil, err
					}
					n.patterns = append(n.patterns, patternNode{re, c})
				}
			case "items":
				n.items, err = compileAt(val, where)
			case "minLength", "maxLength", "minItems", "maxItems":
				i := asInt(val)
				if i == nil || *i < 0 {
					return nil, bad("a non-negative integer")
				}
				switch k {
				case "minLength":
					n.minLength = i
				case "maxLength":
					n.maxLength = i
				case "minItems":
					n.minItems = i
				case "maxItems":
					n.maxItems = i
				}
			case "minimum", "maximum":
				r, ok := asFloat(val)
				if !ok {
					return nil, bad("a number")
				}
				if k == "minimum" {
					n.minimum = r
				} else {
					n.maximum = r
				}
			case "pattern":
				str, ok := val.(string)
				if !ok {
					return nil, bad("a regular expression string")
				}
				n.patternS = str
				n.pattern, err = ecmaToGo(str)
			default:
				if !annotationKeywords[k] {
					return nil, fmt.Errorf("schema keyword %q at %s is not implemented by the AJV message compiler (wire/ajv.go): implement it there or stop generating it", k, at0(at))
				}
			}
			if err != nil {
				return nil, err
			}
		}
		return n, nil
	}
	return nil, fmt.Errorf("schema at %s: want an object or a boolean, got %s", at0(at), ajvType(v))
}

// schemaTypes are the type names of JSON Schema.
var schemaTypes = []string{"null", "boolean", "object", "array", "number", "integer", "string"}

// at0 names a schema location: its JSON pointer, "/" for the root.
func at0(at string) string {
	if at == "" {
		return "/"
	}
	return at
}

func asInt(v any) *int {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(n.String())
	if err != nil {
		return nil
	}
	return &i
}

// asFloat is a JSON number as JSON.parse reads it: the nearest double,
// ±Inf beyond the double range.
func asFloat(v any) (*float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	f := jsNumber(n)
	return &f, true
}

// jsNumber converts a JSON number literal the way JSON.parse does.
// strconv.ParseFloat rounds to nearest like ECMAScript's StringToNumber and
// returns ±Inf (with ErrRange, ignored here) where JavaScript yields
// ±Infinity; a decoded literal is always syntactically valid.
func jsNumber(n json.Number) float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// jsString renders a number as JavaScript's Number.prototype.toString does
// (ECMA-262 Number::toString), which AJV uses in "must be <= 5000": the
// shortest round-trip digits, plain notation for exponents in [-6, 21),
// else d.ddde±n.
func jsString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	case f == 0:
		return "0" // also -0
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// 'e' with -1 precision gives the shortest digits: d.ddddde±XX.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // f = 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	es := "+"
	if n-1 < 0 {
		es = "-"
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	return sign + m + "e" + es + strconv.Itoa(abs(n-1))
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// ajvType is AJV's data type name of a decoded value.
func ajvType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *object:
		return "object"
	}
	return "unknown"
}

// typeMatches is AJV's checkDataType without strictNumbers: "integer" is
// typeof x == "number" && !(x % 1) && !isNaN(x), so ±Infinity (a literal
// beyond the double range) is an integer, as 1.0000000000000001 is.
func typeMatches(want string, v any) bool {
	got := ajvType(v)
	if want == got {
		return true
	}
	if want == "integer" && got == "number" {
		f := jsNumber(v.(json.Number))
		return math.IsInf(f, 0) || f == math.Trunc(f)
	}
	return false
}

// hasGroupRules mirrors AJV's schemaHasRulesForType: when the schema has a
// single type whose keyword group is used, the type error is reported with
// that group (after const/enum/anyOf); otherwise it is reported first.
func (n *snode) hasGroupRules(t string) bool {
	switch t {
	case "number":
		return n.minimum != nil || n.maximum != nil
	case "string":
		return n.minLength != nil || n.maxLength != nil || n.pattern != nil
	case "array":
		return n.items != nil || n.minItems != nil || n.maxItems != nil
	case "object":
		return n.required != nil || n.props != nil || n.addlFalse || n.addl != nil || n.patterns != nil
	}
	return false // integer, boolean, null have no keyword group in AJV
}

type ajvErr struct {
	path    string
	keyword string
	msg     string
}

func (n *snode) walk(v any, path string, out *[]ajvErr) {
	if n.boolean != nil {
		if !*n.boolean {
			*out = append(*out, ajvErr{path, "false schema", "boolean schema is false"})
		}
		return
	}
	typeOK := len(n.types) == 0
	for _, t := range n.types {
		if typeMatches(t, v) {
			typeOK = true
		}
	}
	lateType := len(n.types) == 1 && n.hasGroupRules(n.types[0])
	typeMsg := "must be " + strings.Join(n.types, ",")
	if !typeOK && !lateType {
		*out = append(*out, ajvErr{path, "type", typeMsg})
	}
	// Type-independent keywords, in AJV's vocabulary order.
	if n.hasConst && !jsonEqual(v, n.constVal) {
		*out = append(*out, ajvErr{path, "const", "must be equal to constant"})
	}
	if n.enum != nil {
		found := false
		for _, e := range n.enum {
			if jsonEqual(v, e) {
				found = true
				break
			}
		}
		if !found {
			*out = append(*out, ajvErr{path, "enum", "must be equal to one of the allowed values"})
		}
	}
	if n.anyOf != nil {
		var branchErrs []ajvErr
		matched := false
		for _, b := range n.anyOf {
			var errs []ajvErr
			b.walk(v, path, &errs)
			if len(errs) == 0 {
				matched = true
				break
			}
			branchErrs = append(branchErrs, errs...)
		}
		if !matched {
			*out = append(*out, branchErrs...)
			*out = append(*out, ajvErr{path, "anyOf", "must match a schema in anyOf"})
		}
	}
	// Typed keyword groups: number, string, array, object.
	for _, group := range [...]string{"number", "string", "array", "object"} {
		if !n.hasGroupRules(group) {
			continue
		}
		if ajvType(v) != group {
			if lateType && !typeOK && n.types[0] == group {
				*out = append(*out, ajvErr{path, "type", typeMsg})
			}
			continue
		}
		switch group {
		case "number":
			// AJV's test is "data > max" on doubles; it fails on NaN
			// only, which JSON cannot express.
			f := jsNumber(v.(json.Number))
			if n.maximum != nil && f > *n.maximum {
				*out = append(*out, ajvErr{path, "maximum", "must be <= " + jsString(*n.maximum)})
			}
			if n.minimum != nil && f < *n.minimum {
				*out = append(*out, ajvErr{path, "minimum", "must be >= " + jsString(*n.minimum)})
			}
		case "string":
			// AJV counts code points (ucs2length counts surrogate pairs once).
			l := utf8.RuneCountInString(v.(string))
			if n.maxLength != nil && l > *n.maxLength {
				*out = append(*out, ajvErr{path, "maxLength", fmt.Sprintf("must NOT have more than %d characters", *n.maxLength)})
			}
			if n.minLength != nil && l < *n.minLength {
				*out = append(*out, ajvErr{path, "minLength", fmt.Sprintf("must NOT have fewer than %d characters", *n.minLength)})
			}
			if n.pattern != nil && !n.pattern.MatchString(v.(string)) {
				*out = append(*out, ajvErr{path, "pattern", "must match pattern \"" + n.patternS + "\""})
			}
		case "array":
			arr := v.([]any)
			if n.maxItems != nil && len(arr) > *n.maxItems {
				*out = append(*out, ajvErr{path, "maxItems", fmt.Sprintf("must NOT have more than %d items", *n.maxItems)})
			}
			if n.minItems != nil && len(arr) < *n.minItems {
				*out = append(*out, ajvErr{path, "minItems", fmt.Sprintf("must NOT have fewer than %d items", *n.minItems)})
			}
			if n.items != nil {
				for i, item := range arr {
					n.items.walk(item, path+"/"+strconv.Itoa(i), out)
				}
			}
		case "object":
			n.walkObject(v.(*object), path, out)
		}
	}
}

func (n *snode) walkObject(o *object, path string, out *[]ajvErr) {
	for _, r := range n.required {
		if _, ok := o.vals[r]; !ok {
			*out = append(*out, ajvErr{path, "required", fmt.Sprintf("must have required property '%s'", r)})
		}
	}
	if n.addlFalse || n.addl != nil {
		for _, k := range o.keys {
			if _, known := n.props[k]; known {
				continue
			}
			if n.matchesPattern(k) {
				continue
			}
			if n.addlFalse {
				*out = append(*out, ajvErr{path, "additionalProperties", k})
			} else {
				n.addl.walk(o.vals[k], path+"/"+escapePointer(k), out)
			}
		}
	}
	for _, k := range n.propNames {
		if val, ok := o.vals[k]; ok {
			n.props[k].walk(val, path+"/"+escapePointer(k), out)
		}
	}
	for _, p := range n.patterns {
		for _, k := range o.keys {
			if p.re.MatchString(k) {
				p.node.walk(o.vals[k], path+"/"+escapePointer(k), out)
			}
		}
	}
}

func (n *snode) matchesPattern(k string) bool {
	for _, p := range n.patterns {
		if p.re.MatchString(k) {
			return true
		}
	}
	return false
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// jsonEqual compares decoded JSON values as AJV's fast-deep-equal compares
// the parsed values: numbers as doubles with ===, so 1 equals 1.0 and
// 1.0000000000000001, and -0 equals 0.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		return ok && jsNumber(x) == jsNumber(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case *object:
		y, ok := b.(*object)
		if !ok || len(x.vals) != len(y.vals) {
			return false
		}
		for k, v := range x.vals {
			w, ok := y.vals[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// formatAJV renders errors exactly like the original's
// formatValidationErrors: "at <path>: <message>" (no prefix at the root),
// unexpected properties as "at <path|root>: unexpected property 'x'",
// duplicates dropped, joined with "; ".
func formatAJV(errs []ajvErr) string {
	if len(errs) == 0 {
		return "unknown validation error"
	}
	seen := make(map[string]bool, len(errs))
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		var s string
		if e.keyword == "additionalProperties" && strings.TrimFunc(e.msg, isJSSpace) != "" {
			where := "at root"
			if e.path != "" {
				where = "at " + e.path
			}
			s = where + ": unexpected property '" + e.msg + "'"
		} else if e.keyword == "additionalProperties" {
			// formatValidationErrors skips a property name that is empty
			// after String.prototype.trim and uses AJV's message instead.
			s = "must NOT have additional properties"
			if e.path != "" {
				s = "at " + e.path + ": " + s
			}
		} else if e.path != "" {
			s = "at " + e.path + ": " + e.msg
		} else {
			s = e.msg
		}
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// isJSSpace is JavaScript's WhiteSpace and LineTerminator set, what
// String.prototype.trim strips: Unicode Zs, tab, VT, FF, BOM, LF, CR,
// LS and PS.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}
