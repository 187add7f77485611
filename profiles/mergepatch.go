package profiles

import (
	"bytes"
	"fmt"
)

// MergePatch applies an RFC 7386 JSON merge patch to target and returns the
// result as indented JSON. Both inputs may be JSON5; empty target is null.
// Keys keep the target's order and new keys are appended in the patch's
// order, so a patched config file diffs cleanly against the old one.
func MergePatch(target, patch []byte) ([]byte, error) {
	t, err := parseJSON5(target)
	if err != nil {
		return nil, fmt.Errorf("merge patch: target: %w", err)
	}
	p, err := parseJSON5(patch)
	if err != nil {
		return nil, fmt.Errorf("merge patch: patch: %w", err)
	}
	if p == nil {
		return nil, fmt.Errorf("merge patch: the patch is empty")
	}
	out := mergePatch(t, p)
	var buf bytes.Buffer
	encodeJSON(&buf, out, "  ", "")
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// mergePatch is the RFC 7386 §2 algorithm. It does not modify its inputs.
func mergePatch(target, patch *node) *node {
	if patch.kind != kindObject {
		return patch
	}
	out := &node{kind: kindObject}
	if target != nil && target.kind == kindObject {
		out.off = target.off
		out.members = append(out.members, dedupMembers(target.members)...)
	}
	for _, m := range dedupMembers(patch.members) {
		if m.val.kind == kindNull {
			out.del(m.key)
			continue
		}
		out.set(m.key, mergePatch(out.get(m.key), m.val))
	}
	return out
}

// FormatJSON converts a JSON5 document to indented standard JSON, keeping key
// order (comments are dropped).
func FormatJSON(raw []byte) ([]byte, error) {
	n, err := parseJSON5(raw)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	encodeJSON(&buf, n, "  ", "")
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
