package reload

import (
	"reflect"
	"sort"
)

// Root is the path Diff reports when the documents themselves differ in
// type (for example one of them is not an object).
const Root = "<root>"

// Diff returns the dotted paths at which old and new differ, sorted.
// Objects are compared key by key; any other difference (a changed scalar,
// a changed array, a type change such as object → string, a key added or
// removed) is reported at the path of the value that changed, so a type
// change yields the parent of anything below it.
//
// Arrays are compared as a whole: a change to one element reports the
// array's path. Elements are compared deeply, which departs from the
// original's reference equality: there, an array of objects (agents.list,
// bindings) always "changed" on every reload because the file is re-parsed.
func Diff(old, new map[string]any) []string {
	var out []string
	diffInto(&out, "", old, new)
	sort.Strings(out)
	return out
}

func diffInto(out *[]string, prefix string, a, b any) {
	am, aObj := a.(map[string]any)
	bm, bObj := b.(map[string]any)
	if aObj && bObj {
		for k, av := range am {
			bv, ok := bm[k]
			if !ok {
				*out = append(*out, join(prefix, k))
				continue
			}
			diffInto(out, join(prefix, k), av, bv)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				*out = append(*out, join(prefix, k))
			}
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		if prefix == "" {
			prefix = Root
		}
		*out = append(*out, prefix)
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
