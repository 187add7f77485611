package profiles

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// ParsedJSON is the document as written (before ${ENV} substitution) as
// standard JSON with every key in the order the file has it: config.get's
// parsed. Parsed (a map) cannot keep that order, and a client that edits
// and writes back what config.get gave it must not see the file
// reshuffled. {} for a missing or unparsable file.
func (s *Snapshot) ParsedJSON() json.RawMessage {
	if s == nil || s.root == nil {
		return json.RawMessage("{}")
	}
	return nodeJSON(s.root)
}

// ConfigJSON is config.get's config: the whole resolved document (after
// ${ENV} substitution; every section, also those this implementation does
// not model, in file order) with the defaults the original fills in when
// it loads a valid config (its config/defaults.ts):
//
//   - messages.ackReactionScope "group-mentions" when unset;
//   - logging.redactSensitive "tools" when logging is present without it;
//   - session.mainKey forced to "main" when present (the original ignores
//     other values);
//   - agents.defaults.maxConcurrent 4 and
//     agents.defaults.subagents.maxConcurrent 8 when unset;
//   - per model of models.providers.*.models: reasoning false, input
//     ["text"], cost zeros, contextWindow 200000, maxTokens
//     min(8192, contextWindow) for what is missing.
//
// Keys that exist keep their position; added ones go last in their
// object, as the original's object spreads put them. An invalid config
// gets the resolved document without defaults (the original's
// coerceConfig); {} when there is none.
func (s *Snapshot) ConfigJSON() json.RawMessage {
	if s == nil {
		return json.RawMessage("{}")
	}
	doc := s.resolved
	if doc == nil {
		doc = s.root
	}
	if doc == nil || doc.kind != kindObject {
		return json.RawMessage("{}")
	}
	doc = cloneNode(doc)
	if s.Valid {
		applyLoadDefaults(doc)
	}
	return nodeJSON(doc)
}

func nodeJSON(n *node) json.RawMessage {
	var buf bytes.Buffer
	encodeJSON(&buf, n, "", "")
	return buf.Bytes()
}

// cloneNode deep-copies a tree (objects deduplicated: the last value of a
// repeated key wins, at its first position), so defaults never touch the
// snapshot's own tree.
func cloneNode(n *node) *node {
	if n == nil {
		return nil
	}
	c := *n
	switch n.kind {
	case kindArray:
		c.elems = make([]*node, len(n.elems))
		for i, e := range n.elems {
			c.elems[i] = cloneNode(e)
		}
	case kindObject:
		ms := dedupMembers(n.members)
		c.members = make([]member, len(ms))
		for i, m := range ms {
			c.members[i] = member{key: m.key, val: cloneNode(m.val)}
		}
	}
	return &c
}

func strNode(s string) *node { return &node{kind: kindString, str: s} }
func numNode(f float64) *node {
	return &node{kind: kindNumber, num: strconv.FormatFloat(f, 'f', -1, 64)}
}
func objNode() *node                { return &node{kind: kindObject} }
func isObject(n *node) bool         { return n != nil && n.kind == kindObject }
func isNumber(n *node) bool         { return n != nil && n.kind == kindNumber }
func numberOf(n *node) float64      { f, _ := strconv.ParseFloat(n.num, 64); return f }
func isPositiveNumber(n *node) bool { return isNumber(n) && numberOf(n) > 0 }

// object returns the object under key of parent, creating it (last) when
// it is missing or not an object.
func object(parent *node, key string) *node {
	if o := parent.get(key); isObject(o) {
		return o
	}
	o := objNode()
	parent.set(key, o)
	return o
}

// applyLoadDefaults fills doc (a valid, resolved config) with the
// original's load-time defaults; see ConfigJSON.
func applyLoadDefaults(doc *node) {
	// applyMessageDefaults
	if m := doc.get("messages"); !isObject(m) || m.get("ackReactionScope") == nil {
		object(doc, "messages").set("ackReactionScope", strNode("group-mentions"))
	}
	// applyLoggingDefaults
	if l := doc.get("logging"); isObject(l) {
		if r := l.get("redactSensitive"); r == nil || (r.kind == kindString && r.str == "") || (r.kind == kindBool && !r.b) || r.kind == kindNull {
			l.set("redactSensitive", strNode("tools"))
		}
	}
	// applySessionDefaults
	if sn := doc.get("session"); isObject(sn) && sn.get("mainKey") != nil {
		sn.set("mainKey", strNode("main"))
	}
	// applyAgentDefaults
	agents := doc.get("agents")
	var defs *node
	if isObject(agents) {
		defs = agents.get("defaults")
	}
	hasMax := isObject(defs) && isNumber(defs.get("maxConcurrent"))
	hasSubMax := isObject(defs) && isObject(defs.get("subagents")) && isNumber(defs.get("subagents").get("maxConcurrent"))
	if !hasMax || !hasSubMax {
		d := object(object(doc, "agents"), "defaults")
		if !hasMax {
			d.set("maxConcurrent", numNode(4))
		}
		if !hasSubMax {
			object(d, "subagents").set("maxConcurrent", numNode(8))
		}
	}
	// applyModelDefaults (the provider models; the alias table is the
	// models feature's)
	if models := doc.get("models"); isObject(models) {
		if provs := models.get("providers"); isObject(provs) {
			for _, p := range provs.members {
				if !isObject(p.val) {
					continue
				}
				if list := p.val.get("models"); list != nil && list.kind == kindArray {
					for _, m := range list.elems {
						if isObject(m) {
							modelDefaults(m)
						}
					}
				}
			}
		}
	}
}

// modelDefaults is the original's per-model default pass: a model that
// needs none is left as written (its cost object included); otherwise the
// missing fields are filled and cost becomes the four numbers.
func modelDefaults(m *node) {
	r, in, old, cw := m.get("reasoning"), m.get("input"), m.get("cost"), m.get("contextWindow")
	costOK := isObject(old)
	for _, k := range []string{"input", "output", "cacheRead", "cacheWrite"} {
		costOK = costOK && isNumber(old.get(k))
	}
	window := 200000.0
	if isPositiveNumber(cw) {
		window = numberOf(cw)
	}
	maxOK := isPositiveNumber(m.get("maxTokens"))
	if r != nil && r.kind == kindBool && in != nil && in.kind != kindNull && costOK && isPositiveNumber(cw) && maxOK {
		return
	}
	if r == nil || r.kind != kindBool {
		m.set("reasoning", &node{kind: kindBool})
	}
	if in == nil || in.kind == kindNull {
		m.set("input", &node{kind: kindArray, elems: []*node{strNode("text")}})
	}
	cost := objNode()
	for _, k := range []string{"input", "output", "cacheRead", "cacheWrite"} {
		v := numNode(0)
		if isObject(old) && isNumber(old.get(k)) {
			v = old.get(k)
		}
		cost.set(k, v)
	}
	m.set("cost", cost)
	if !isPositiveNumber(cw) {
		m.set("contextWindow", numNode(window))
	}
	if !maxOK {
		m.set("maxTokens", numNode(min(8192, window)))
	}
}
