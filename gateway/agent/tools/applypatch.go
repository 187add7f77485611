//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim, and they start with a capital and end with a period there

package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// The apply_patch format of the original (apply-patch.js): a patch is
// "*** Begin Patch", hunks, "*** End Patch"; a hunk adds, deletes or
// updates (and optionally moves) one file; an update is chunks of
// " "/"-"/"+" lines, each after an optional "@@ <context line>".
const (
	patchBegin   = "*** Begin Patch"
	patchEnd     = "*** End Patch"
	patchAdd     = "*** Add File: "
	patchDelete  = "*** Delete File: "
	patchUpdate  = "*** Update File: "
	patchMoveTo  = "*** Move to: "
	patchEOF     = "*** End of File"
	patchCtx     = "@@ "
	patchCtxNone = "@@"
)

type patchHunk struct {
	kind     string // add, delete, update
	path     string
	movePath string
	contents string
	chunks   []patchChunk
}

type patchChunk struct {
	context            string
	oldLines, newLines []string
	eof                bool
}

// patchTool is apply_patch: offered, as in the original, only with
// tools.exec.applyPatch.enabled (and, when tools.exec.applyPatch.
// allowModels is set, to a session whose model is listed there).
type patchTool struct{ Tool }

func (patchTool) Available(doc map[string]any, s agent.Session) bool {
	ap := obj(obj(obj(doc, "tools"), "exec"), "applyPatch")
	if !boolean(ap, "enabled") {
		return false
	}
	allow, ok := strList(ap, "allowModels")
	if !ok || len(allow) == 0 {
		return true
	}
	for _, m := range allow {
		m = strings.ToLower(m)
		if m == strings.ToLower(s.Model) || m == strings.ToLower(s.ModelProvider+"/"+s.Model) {
			return true
		}
	}
	return false
}

func applyPatchTool() Tool {
	return patchTool{applyPatchTool0()}
}

func applyPatchTool0() Tool {
	return Func(llm.Tool{Name: "apply_patch",
		Description: "Apply a patch to one or more files using the apply_patch format. The input should include *** Begin Patch and *** End Patch markers.",
		Parameters:  schemaJSON(`{"type":"object","properties":{"input":{"type":"string","description":"Patch content using the *** Begin Patch/End Patch format."}},"required":["input"]}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a struct {
				Input string `json:"input"`
			}
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			if strings.TrimSpace(a.Input) == "" {
				return agent.ToolResult{}, errors.New("Provide a patch input.")
			}
			if len(a.Input) > MaxWriteBytes {
				return agent.ToolResult{}, fmt.Errorf("apply_patch: the patch is %s; the limit is %s", formatSize(int64(len(a.Input))), formatSize(MaxWriteBytes))
			}
			w, err := openWorkspace(c, true)
			if err != nil {
				return agent.ToolResult{}, err
			}
			defer w.Close()
			text, summary, err := applyPatch(ctx, w, a.Input)
			if err != nil {
				return agent.ToolResult{}, err
			}
			d, _ := json.Marshal(map[string]any{"summary": summary})
			return agent.ToolResult{Content: []llm.Content{llm.Text(text)}, Details: d}, nil
		})
}

type patchSummary struct {
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Deleted  []string `json:"deleted"`
}

// applyPatch parses input, applies every hunk to an in-memory view of the
// files and only then writes them: a patch that fails halfway changes
// nothing (the original writes hunk by hunk).
func applyPatch(ctx context.Context, w *workspace, input string) (string, patchSummary, error) {
	sum := patchSummary{Added: []string{}, Modified: []string{}, Deleted: []string{}}
	hunks, err := parsePatch(input)
	if err != nil {
		return "", sum, err
	}
	if len(hunks) == 0 {
		return "", sum, errors.New("No files were modified.")
	}
	type state struct {
		content string
		deleted bool
	}
	files := map[string]*state{}
	var order []string
	set := func(name string, st *state) {
		if _, ok := files[name]; !ok {
			order = append(order, name)
		}
		files[name] = st
	}
	read := func(name, shown string) (string, error) {
		if st, ok := files[name]; ok {
			if st.deleted {
				return "", fmt.Errorf("Failed to read file to update %s: ENOENT: no such file or directory", shown)
			}
			return st.content, nil
		}
		b, err := w.root.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("Failed to read file to update %s: %v", shown, w.fsErr(shown, err))
		}
		return string(b), nil
	}
	seen := map[string]bool{}
	record := func(bucket *[]string, kind, v string) {
		if !seen[kind+v] {
			seen[kind+v] = true
			*bucket = append(*bucket, v)
		}
	}
	for _, h := range hunks {
		if ctx.Err() != nil {
			return "", sum, errors.New("Aborted")
		}
		name, err := w.rel(h.path)
		if err != nil {
			return "", sum, err
		}
		switch h.kind {
		case "add":
			set(name, &state{content: h.contents})
			record(&sum.Added, "a", name)
		case "delete":
			if st, ok := files[name]; ok && st.deleted {
				return "", sum, fmt.Errorf("ENOENT: no such file or directory, rm '%s'", h.path)
			} else if !ok {
				if _, err := w.root.Stat(name); err != nil {
					return "", sum, fmt.Errorf("ENOENT: no such file or directory, rm '%s'", h.path)
				}
			}
			set(name, &state{deleted: true})
			record(&sum.Deleted, "d", name)
		case "update":
			orig, err := read(name, h.path)
			if err != nil {
				return "", sum, err
			}
			out, err := applyUpdate(orig, h.path, h.chunks)
			if err != nil {
				return "", sum, err
			}
			if h.movePath != "" {
				dst, err := w.rel(h.movePath)
				if err != nil {
					return "", sum, err
				}
				set(dst, &state{content: out})
				set(name, &state{deleted: true})
				record(&sum.Modified, "m", dst)
			} else {
				set(name, &state{content: out})
				record(&sum.Modified, "m", name)
			}
		}
	}
	for _, name := range order {
		st := files[name]
		if st.deleted {
			continue
		}
		if dir := parentDir(name); dir != "." {
			if err := w.root.MkdirAll(dir, 0o755); err != nil {
				return "", sum, w.fsErr(name, err)
			}
		}
		if err := w.writeAtomic(name, []byte(st.content)); err != nil {
			return "", sum, w.fsErr(name, err)
		}
	}
	for _, name := range order {
		if files[name].deleted {
			if err := w.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", sum, w.fsErr(name, err)
			}
		}
	}
	lines := []string{"Success. Updated the following files:"}
	for _, f := range sum.Added {
		lines = append(lines, "A "+f)
	}
	for _, f := range sum.Modified {
		lines = append(lines, "M "+f)
	}
	for _, f := range sum.Deleted {
		lines = append(lines, "D "+f)
	}
	return strings.Join(lines, "\n"), sum, nil
}

func parsePatch(input string) ([]patchHunk, error) {
	t := strings.TrimSpace(input)
	if t == "" {
		return nil, errors.New("Invalid patch: input is empty.")
	}
	lines := strings.Split(strings.ReplaceAll(t, "\r\n", "\n"), "\n")
	lines, err := patchBoundaries(lines)
	if err != nil {
		return nil, err
	}
	rest := lines[1 : len(lines)-1]
	lineNo := 2
	var hunks []patchHunk
	for len(rest) > 0 {
		h, n, err := parseHunk(rest, lineNo)
		if err != nil {
			return nil, err
		}
		hunks = append(hunks, h)
		lineNo += n
		rest = rest[n:]
	}
	return hunks, nil
}

func patchBoundaries(lines []string) ([]string, error) {
	strict := func(ls []string) error {
		first, last := strings.TrimSpace(ls[0]), strings.TrimSpace(ls[len(ls)-1])
		if first == patchBegin && last == patchEnd {
			return nil
		}
		if first != patchBegin {
			return errors.New("The first line of the patch must be '*** Begin Patch'")
		}
		return errors.New("The last line of the patch must be '*** End Patch'")
	}
	err := strict(lines)
	if err == nil {
		return lines, nil
	}
	if len(lines) < 4 {
		return nil, err
	}
	first, last := lines[0], lines[len(lines)-1]
	if (first == "<<EOF" || first == "<<'EOF'" || first == `<<"EOF"`) && strings.HasSuffix(last, "EOF") {
		inner := lines[1 : len(lines)-1]
		if err := strict(inner); err != nil {
			return nil, err
		}
		return inner, nil
	}
	return nil, err
}

func parseHunk(lines []string, lineNo int) (patchHunk, int, error) {
	first := strings.TrimSpace(lines[0])
	switch {
	case strings.HasPrefix(first, patchAdd):
		h := patchHunk{kind: "add", path: first[len(patchAdd):]}
		n := 1
		var b strings.Builder
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l, "+") {
				break
			}
			b.WriteString(l[1:] + "\n")
			n++
		}
		h.contents = b.String()
		return h, n, nil
	case strings.HasPrefix(first, patchDelete):
		return patchHunk{kind: "delete", path: first[len(patchDelete):]}, 1, nil
	case strings.HasPrefix(first, patchUpdate):
		h := patchHunk{kind: "update", path: first[len(patchUpdate):]}
		rest := lines[1:]
		n := 1
		if len(rest) > 0 && strings.HasPrefix(strings.TrimSpace(rest[0]), patchMoveTo) {
			h.movePath = strings.TrimSpace(rest[0])[len(patchMoveTo):]
			rest = rest[1:]
			n++
		}
		for len(rest) > 0 {
			if strings.TrimSpace(rest[0]) == "" {
				rest = rest[1:]
				n++
				continue
			}
			if strings.HasPrefix(rest[0], "***") {
				break
			}
			ch, used, err := parseChunk(rest, lineNo+n, len(h.chunks) == 0)
			if err != nil {
				return h, 0, err
			}
			h.chunks = append(h.chunks, ch)
			rest = rest[used:]
			n += used
		}
		if len(h.chunks) == 0 {
			return h, 0, fmt.Errorf("Invalid patch hunk at line %d: Update file hunk for path '%s' is empty", lineNo, h.path)
		}
		return h, n, nil
	}
	return patchHunk{}, 0, fmt.Errorf("Invalid patch hunk at line %d: '%s' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'", lineNo, lines[0])
}

func parseChunk(lines []string, lineNo int, allowNoContext bool) (patchChunk, int, error) {
	var ch patchChunk
	start := 0
	switch {
	case lines[0] == patchCtxNone:
		start = 1
	case strings.HasPrefix(lines[0], patchCtx):
		ch.context = lines[0][len(patchCtx):]
		start = 1
	case !allowNoContext:
		return ch, 0, fmt.Errorf("Invalid patch hunk at line %d: Expected update hunk to start with a @@ context marker, got: '%s'", lineNo, lines[0])
	}
	if start >= len(lines) {
		return ch, 0, fmt.Errorf("Invalid patch hunk at line %d: Update hunk does not contain any lines", lineNo+1)
	}
	parsed := 0
loop:
	for _, l := range lines[start:] {
		if l == patchEOF {
			if parsed == 0 {
				return ch, 0, fmt.Errorf("Invalid patch hunk at line %d: Update hunk does not contain any lines", lineNo+1)
			}
			ch.eof = true
			parsed++
			break
		}
		if l == "" {
			ch.oldLines = append(ch.oldLines, "")
			ch.newLines = append(ch.newLines, "")
			parsed++
			continue
		}
		switch l[0] {
		case ' ':
			ch.oldLines = append(ch.oldLines, l[1:])
			ch.newLines = append(ch.newLines, l[1:])
		case '+':
			ch.newLines = append(ch.newLines, l[1:])
		case '-':
			ch.oldLines = append(ch.oldLines, l[1:])
		default:
			if parsed == 0 {
				return ch, 0, fmt.Errorf("Invalid patch hunk at line %d: Unexpected line found in update hunk: '%s'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)", lineNo+1, l)
			}
			break loop
		}
		parsed++
	}
	return ch, parsed + start, nil
}

// applyUpdate is apply-patch-update.js applyUpdateHunk on a file's text.
func applyUpdate(orig, shown string, chunks []patchChunk) (string, error) {
	lines := strings.Split(orig, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	type repl struct {
		at, n int
		with  []string
	}
	var reps []repl
	idx := 0
	for _, ch := range chunks {
		if ch.context != "" {
			at, ok := seekSequence(lines, []string{ch.context}, idx, false)
			if !ok {
				return "", fmt.Errorf("Failed to find context '%s' in %s", ch.context, shown)
			}
			idx = at + 1
		}
		if len(ch.oldLines) == 0 {
			at := len(lines)
			if len(lines) > 0 && lines[len(lines)-1] == "" {
				at--
			}
			reps = append(reps, repl{at, 0, ch.newLines})
			continue
		}
		pat, with := ch.oldLines, ch.newLines
		at, ok := seekSequence(lines, pat, idx, ch.eof)
		if !ok && pat[len(pat)-1] == "" {
			pat = pat[:len(pat)-1]
			if len(with) > 0 && with[len(with)-1] == "" {
				with = with[:len(with)-1]
			}
			at, ok = seekSequence(lines, pat, idx, ch.eof)
		}
		if !ok {
			return "", fmt.Errorf("Failed to find expected lines in %s:\n%s", shown, strings.Join(ch.oldLines, "\n"))
		}
		reps = append(reps, repl{at, len(pat), with})
		idx = at + len(pat)
	}
	sort.SliceStable(reps, func(i, j int) bool { return reps[i].at < reps[j].at })
	out := append([]string(nil), lines...)
	for i := len(reps) - 1; i >= 0; i-- {
		r := reps[i]
		end := min(r.at+r.n, len(out))
		at := min(r.at, len(out))
		out = append(out[:at], append(append([]string(nil), r.with...), out[end:]...)...)
	}
	if len(out) == 0 || out[len(out)-1] != "" {
		out = append(out, "")
	}
	return strings.Join(out, "\n"), nil
}

// seekSequence finds pattern in lines from start (at the end for eof),
// exactly, then ignoring trailing whitespace, all surrounding whitespace,
// and finally Unicode punctuation.
func seekSequence(lines, pattern []string, start int, eof bool) (int, bool) {
	if len(pattern) == 0 {
		return start, true
	}
	if len(pattern) > len(lines) {
		return 0, false
	}
	maxStart := len(lines) - len(pattern)
	from := start
	if eof {
		from = maxStart
	}
	if from > maxStart {
		return 0, false
	}
	norms := []func(string) string{
		func(s string) string { return s },
		func(s string) string { return strings.TrimRightFunc(s, isJSSpace) },
		strings.TrimSpace,
		func(s string) string { return fuzzyNormalize(strings.TrimSpace(s)) },
	}
	for _, norm := range norms {
		for i := from; i <= maxStart; i++ {
			ok := true
			for k, p := range pattern {
				if norm(lines[i+k]) != norm(p) {
					ok = false
					break
				}
			}
			if ok {
				return i, true
			}
		}
	}
	return 0, false
}
