package configschemagen

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// openWhereOriginalTypes walks ours and the original's schema side by side
// and lists the paths where ours is an open node and the original's is not.
func openWhereOriginalTypes(ours, orig any) []string {
	var out []string
	var walk func(path string, o, g any)
	walk = func(path string, o, g any) {
		Children(o, g, func(key string, oc, gc any, _ func(any)) {
			p := key
			if path != "" {
				p = path + "." + key
			}
			if gc == nil {
				return
			}
			if Open(oc) && !Open(gc) {
				out = append(out, p)
				return
			}
			walk(p, oc, gc)
		})
	}
	walk("", ours, orig)
	slices.Sort(out)
	return out
}

// No node the original's schema types is left open in ours; the walk does
// find such nodes in the schema of our Go types alone (so it can fail).
func TestNoNodeLeftOpenThatOriginalTypes(t *testing.T) {
	orig, err := OriginalSchema()
	if err != nil {
		t.Fatal(err)
	}
	filled, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	if open := openWhereOriginalTypes(filled, orig); len(open) > 0 {
		t.Errorf("open in ours, typed in the original: %v", open)
	}

	b, _ := json.Marshal(typed())
	var bare map[string]any
	_ = json.Unmarshal(b, &bare)
	open := openWhereOriginalTypes(bare, orig)
	for _, p := range []string{"session", "tools", "agents.list.[]", "logging.consoleLevel", "gateway.tls"} {
		if !slices.Contains(open, p) {
			t.Errorf("walk of our bare types misses %s (found %d: %v)", p, len(open), open)
		}
	}
}

// Where we type a node, ours is kept (the loader's rules), and what the
// original's schema keeps verbatim (type arrays) survives the fill.
func TestFillKeepsOursAndOriginalVerbatim(t *testing.T) {
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"gateway.port", `{"maximum":65535,"minimum":1,"type":"integer"}`},
		{"agents.defaults.sandbox.docker.memory", `{"type":["string","number"]}`},
		{"channels", `{"additionalProperties":true,"type":"object"}`},
	} {
		n := any(s)
		for _, k := range strings.Split(tc.path, ".") {
			m, _ := n.(map[string]any)
			props, _ := m["properties"].(map[string]any)
			n = props[k]
		}
		if got, _ := json.Marshal(n); string(got) != tc.want {
			t.Errorf("%s = %s, want %s", tc.path, got, tc.want)
		}
	}
}
