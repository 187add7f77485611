package wire

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reproduces the error messages of the original's validator (AJV
// with allErrors, formatted by its formatValidationErrors): the same
// wording, the same order, the same de-duplication. santhosh-tekuri/jsonschema
// decides whether a value is valid; once it says no, ajvErrors walks the
// same schema in AJV's keyword order to produce the text clients expect
// (for instance "at /client/id: must be equal to constant; at /client/id:
// must match a schema in anyOf").

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
	minimum   *big.Rat
	maximum   *big.Rat
	minItems  *int
	maxItems  *int
	pattern   *regexp.Regexp
	patternS  string
}

type patternNode struct {
	re   *regexp.Regexp
	node *snode
}

func compileNode(v any) (*snode, error) {
	switch s := v.(type) {
	case bool:
		return &snode{boolean: &s}, nil
	case *object:
		n := &snode{}
		for _, k := range s.keys {
			val := s.vals[k]
			var err error
			switch k {
			case "type":
				switch t := val.(type) {
				case string:
					n.types = []string{t}
				case []any:
					for _, x := range t {
						str, _ := x.(string)
						n.types = append(n.types, str)
					}
				}
			case "const":
				n.hasConst, n.constVal = true, val
			case "enum":
				n.enum, _ = val.([]any)
			case "anyOf":
				for _, sub := range asArray(val) {
					c, err := compileNode(sub)
					if err != nil {
						return nil, err
					}
					n.anyOf = append(n.anyOf, c)
				}
			case "required":
				for _, x := range asArray(val) {
					str, _ := x.(string)
					n.required = append(n.required, str)
				}
			case "properties":
				po, _ := val.(*object)
				if po == nil {
					continue
				}
				n.props = map[string]*snode{}
				for _, pk := range po.keys {
					c, err := compileNode(po.vals[pk])
					if err != nil {
						return nil, err
					}
					n.propNames = append(n.propNames, pk)
					n.props[pk] = c
				}
			case "additionalProperties":
				if b, ok := val.(bool); ok && !b {
					n.addlFalse = true
				} else if _, ok := val.(*object); ok {
					n.addl, err = compileNode(val)
				}
			case "patternProperties":
				po, _ := val.(*object)
				if po == nil {
					continue
				}
				for _, pk := range po.keys {
					re, err := regexp.Compile(pk)
					if err != nil {
						return nil, err
					}
					c, err := compileNode(po.vals[pk])
					if err != nil {
						return nil, err
					}
					n.patterns = append(n.patterns, patternNode{re, c})
				}
			case "items":
				n.items, err = compileNode(val)
			case "minLength":
				n.minLength = asInt(val)
			case "maxLength":
				n.maxLength = asInt(val)
			case "minItems":
				n.minItems = asInt(val)
			case "maxItems":
				n.maxItems = asInt(val)
			case "minimum":
				n.minimum = asRat(val)
			case "maximum":
				n.maximum = asRat(val)
			case "pattern":
				n.patternS, _ = val.(string)
				n.pattern, err = regexp.Compile(n.patternS)
			}
			if err != nil {
				return nil, err
			}
		}
		return n, nil
	}
	return nil, fmt.Errorf("unsupported schema value %T", v)
}

func asArray(v any) []any { a, _ := v.([]any); return a }

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

func asRat(v any) *big.Rat {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return nil
	}
	return r
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

func typeMatches(want string, v any) bool {
	got := ajvType(v)
	if want == got {
		return true
	}
	if want == "integer" && got == "number" {
		r, ok := new(big.Rat).SetString(v.(json.Number).String())
		return ok && r.IsInt()
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
			r, _ := new(big.Rat).SetString(v.(json.Number).String())
			if n.maximum != nil && r != nil && r.Cmp(n.maximum) > 0 {
				*out = append(*out, ajvErr{path, "maximum", "must be <= " + n.maximum.RatString()})
			}
			if n.minimum != nil && r != nil && r.Cmp(n.minimum) < 0 {
				*out = append(*out, ajvErr{path, "minimum", "must be >= " + n.minimum.RatString()})
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
				*out = append(*out, ajvErr{path, "pattern", fmt.Sprintf("must match pattern %q", n.patternS)})
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

// jsonEqual compares decoded JSON values structurally (numbers by value).
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		rx, ok1 := new(big.Rat).SetString(x.String())
		ry, ok2 := new(big.Rat).SetString(y.String())
		return ok1 && ok2 && rx.Cmp(ry) == 0
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
		if e.keyword == "additionalProperties" {
			where := "at root"
			if e.path != "" {
				where = "at " + e.path
			}
			s = where + ": unexpected property '" + e.msg + "'"
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
