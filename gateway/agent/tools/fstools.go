//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim, and they start with a capital and end with a period there

package tools

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// Output limits of the file tools: pi-coding-agent's truncate.js.
const (
	maxLines       = 2000
	maxBytes       = 50 * 1024
	grepLineLength = 500
	// MaxWriteBytes caps write's content and edit's result.
	MaxWriteBytes = 10 << 20
	// MaxEditFileBytes caps the file edit reads whole.
	MaxEditFileBytes = 10 << 20
	// maxImageBytes caps an image read returns as an attachment.
	maxImageBytes = 5 << 20
	// maxScanBytes bounds how far read scans a huge file to count its
	// lines; past it the total is reported as unknown.
	maxScanBytes = 16 << 20
)

var errAborted = errors.New("Operation aborted")

func checkCtx(ctx context.Context) error {
	if ctx.Err() != nil {
		return errAborted
	}
	return nil
}

// pathArgs are the path parameters with the Claude Code aliases the
// original accepts (file_path, old_string, new_string).
type pathArgs struct {
	Path      *string  `json:"path"`
	FilePath  *string  `json:"file_path"`
	OldText   *string  `json:"oldText"`
	OldString *string  `json:"old_string"`
	NewText   *string  `json:"newText"`
	NewString *string  `json:"new_string"`
	Content   *string  `json:"content"`
	Offset    *float64 `json:"offset"`
	Limit     *float64 `json:"limit"`
}

func pick(a, b *string) *string {
	if a != nil {
		return a
	}
	return b
}

// required is the original's assertRequiredParams.
func required(v *string, label string, allowEmpty bool) (string, error) {
	if v == nil || (!allowEmpty && strings.TrimSpace(*v) == "") {
		return "", fmt.Errorf("Missing required parameter: %s", label)
	}
	return *v, nil
}

func schemaJSON(s string) json.RawMessage { return json.RawMessage(s) }

// readTool is pi-coding-agent's read, confined to the workspace.
func readTool() Tool {
	return Func(llm.Tool{Name: "read",
		Description: fmt.Sprintf("Read the contents of a file. Supports text files and images (jpg, png, gif, webp). Images are sent as attachments. For text files, output is truncated to %d lines or %dKB (whichever is hit first). Use offset/limit for large files.", maxLines, maxBytes/1024),
		Parameters:  schemaJSON(`{"type":"object","properties":{"path":{"type":"string","description":"Path to the file to read (relative or absolute)"},"offset":{"type":"number","description":"Line number to start reading from (1-indexed)"},"limit":{"type":"number","description":"Maximum number of lines to read"},"file_path":{"type":"string","description":"Path to the file to read (relative or absolute)"}}}`)},
		runRead)
}

func runRead(ctx context.Context, c *Call) (agent.ToolResult, error) {
	var a pathArgs
	if err := c.Decode(&a); err != nil {
		return agent.ToolResult{}, err
	}
	p, err := required(pick(a.Path, a.FilePath), "path (path or file_path)", false)
	if err != nil {
		return agent.ToolResult{}, err
	}
	w, err := openWorkspace(c, false)
	if err != nil {
		return agent.ToolResult{}, err
	}
	defer w.Close()
	name, err := w.rel(p)
	if err != nil {
		return agent.ToolResult{}, err
	}
	f, err := w.root.Open(name)
	if err != nil {
		return agent.ToolResult{}, w.fsErr(p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return agent.ToolResult{}, w.fsErr(p, err)
	}
	if fi.IsDir() {
		return agent.ToolResult{}, fmt.Errorf("EISDIR: illegal operation on a directory, read")
	}
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(8192)
	if mime := imageMime(head); mime != "" {
		if fi.Size() > maxImageBytes {
			return agent.ToolResult{}, fmt.Errorf("read: image %s is %s; the limit is %s", p, formatSize(fi.Size()), formatSize(maxImageBytes))
		}
		data, err := io.ReadAll(io.LimitReader(br, maxImageBytes+1))
		if err != nil {
			return agent.ToolResult{}, w.fsErr(p, err)
		}
		return agent.ToolResult{Content: []llm.Content{llm.Text("Read image file [" + mime + "]"),
			{Type: llm.ContentImage, Data: base64.StdEncoding.EncodeToString(data), MimeType: mime}}}, nil
	}
	if isBinary(head) {
		return agent.ToolResult{}, fmt.Errorf("read: %s is a binary file (%s); only text files and images can be read", p, formatSize(fi.Size()))
	}
	offset := 0
	if a.Offset != nil && *a.Offset > 0 {
		offset = int(*a.Offset)
	}
	limit := -1
	if a.Limit != nil {
		limit = max(int(*a.Limit), 0)
	}
	return readLines(ctx, br, p, offset, limit)
}

// readLines streams the file's lines: it keeps what truncateHead would
// (2000 lines or 50 KB) and counts the rest up to maxScanBytes, so that a
// huge file costs bounded memory.
func readLines(ctx context.Context, br *bufio.Reader, p string, offset, limit int) (agent.ToolResult, error) {
	start := 0
	if offset > 0 {
		start = offset - 1
	}
	var out []string
	outBytes := 0
	lineNo := 0 // lines seen so far
	scanned := 0
	truncatedBy := ""
	firstTooLong := 0
	userLimited := false
	complete := true
	for {
		if lineNo%4096 == 0 {
			if err := checkCtx(ctx); err != nil {
				return agent.ToolResult{}, err
			}
		}
		line, n, err := readLine(br, maxBytes+1)
		if err != nil && err != io.EOF {
			return agent.ToolResult{}, err
		}
		eof := err == io.EOF
		scanned += n + 1
		idx := lineNo
		lineNo++
		if idx >= start && truncatedBy == "" && !userLimited {
			if limit >= 0 && len(out) >= limit {
				userLimited = true
			} else if len(out) >= maxLines {
				truncatedBy = "lines"
			} else {
				add := n
				if len(out) > 0 {
					add++
				}
				switch {
				case len(out) == 0 && n > maxBytes:
					firstTooLong = n
					truncatedBy = "bytes"
				case outBytes+add > maxBytes:
					truncatedBy = "bytes"
				default:
					out = append(out, strings.ToValidUTF8(string(line), "\uFFFD"))
					outBytes += add
				}
			}
		}
		if eof {
			break
		}
		if scanned > maxScanBytes && (truncatedBy != "" || userLimited) {
			complete = false
			break
		}
	}
	total := lineNo
	totalText := fmt.Sprint(total)
	if !complete {
		totalText = fmt.Sprintf("more than %d", total)
	}
	if start >= total {
		return agent.ToolResult{}, fmt.Errorf("Offset %d is beyond end of file (%d lines total)", offset, total)
	}
	startDisp := start + 1
	text := strings.Join(out, "\n")
	var details json.RawMessage
	switch {
	case firstTooLong > 0:
		text = fmt.Sprintf("[Line %d is %s, exceeds %s limit. Use bash: sed -n '%dp' %s | head -c %d]", startDisp, formatSize(int64(firstTooLong)), formatSize(maxBytes), startDisp, p, maxBytes)
		details = truncDetails(truncatedBy, total, 0)
	case truncatedBy != "":
		end := startDisp + len(out) - 1
		if truncatedBy == "lines" {
			text += fmt.Sprintf("\n\n[Showing lines %d-%d of %s. Use offset=%d to continue]", startDisp, end, totalText, end+1)
		} else {
			text += fmt.Sprintf("\n\n[Showing lines %d-%d of %s (%s limit). Use offset=%d to continue]", startDisp, end, totalText, formatSize(maxBytes), end+1)
		}
		details = truncDetails(truncatedBy, total, len(out))
	case userLimited:
		next := start + len(out) + 1
		if complete {
			text += fmt.Sprintf("\n\n[%d more lines in file. Use offset=%d to continue]", total-(start+len(out)), next)
		} else {
			text += fmt.Sprintf("\n\n[More lines in file. Use offset=%d to continue]", next)
		}
	}
	return agent.ToolResult{Content: []llm.Content{llm.Text(text)}, Details: details}, nil
}

func truncDetails(by string, total, shown int) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"truncation": map[string]any{"truncated": true, "truncatedBy": by,
		"totalLines": total, "outputLines": shown, "maxLines": maxLines, "maxBytes": maxBytes}})
	return b
}

// readLine returns the next line without its "\n" (at most keep bytes
// of it) and the line's full length.
func readLine(br *bufio.Reader, keep int) ([]byte, int, error) {
	var line []byte
	n := 0
	for {
		frag, err := br.ReadSlice('\n')
		if err == nil {
			frag = frag[:len(frag)-1]
		}
		n += len(frag)
		if room := keep - len(line); room > 0 {
			line = append(line, frag[:min(len(frag), room)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, n, err
	}
}

// imageMime is the image type the read tool sends as an attachment.
func imageMime(head []byte) string {
	switch m := http.DetectContentType(head); m {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return m
	}
	return ""
}

// isBinary: a NUL byte, or bytes that are mostly not UTF-8 text.
func isBinary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	bad := 0
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n == 1 && len(head)-i >= utf8.UTFMax {
			bad++
		}
		i += n
	}
	return len(head) > 0 && bad*10 > len(head)
}

// formatSize is truncate.js formatSize.
func formatSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1fKB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1fMB", float64(n)/(1024*1024))
}

// jsLength is a JavaScript string's length (UTF-16 code units), which
// the original's write message counts.
func jsLength(s string) int {
	n := 0
	for _, r := range s {
		n += len(utf16.Encode([]rune{r}))
	}
	return n
}

// writeTool is pi-coding-agent's write, atomic and confined.
func writeTool() Tool {
	return Func(llm.Tool{Name: "write",
		Description: "Write content to a file. Creates the file if it doesn't exist, overwrites if it does. Automatically creates parent directories.",
		Parameters:  schemaJSON(`{"type":"object","properties":{"path":{"type":"string","description":"Path to the file to write (relative or absolute)"},"content":{"type":"string","description":"Content to write to the file"},"file_path":{"type":"string","description":"Path to the file to write (relative or absolute)"}},"required":["content"]}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a pathArgs
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			p, err := required(pick(a.Path, a.FilePath), "path (path or file_path)", false)
			if err != nil {
				return agent.ToolResult{}, err
			}
			content := ""
			if a.Content != nil {
				content = *a.Content
			}
			if len(content) > MaxWriteBytes {
				return agent.ToolResult{}, fmt.Errorf("write: content is %s; the limit is %s", formatSize(int64(len(content))), formatSize(MaxWriteBytes))
			}
			w, err := openWorkspace(c, true)
			if err != nil {
				return agent.ToolResult{}, err
			}
			defer w.Close()
			name, err := w.rel(p)
			if err != nil {
				return agent.ToolResult{}, err
			}
			if err := checkCtx(ctx); err != nil {
				return agent.ToolResult{}, err
			}
			if dir := parentDir(name); dir != "." {
				if err := w.root.MkdirAll(dir, 0o755); err != nil {
					return agent.ToolResult{}, w.fsErr(p, err)
				}
			}
			if err := w.writeAtomic(name, []byte(content)); err != nil {
				return agent.ToolResult{}, w.fsErr(p, err)
			}
			return TextResult(fmt.Sprintf("Successfully wrote %d bytes to %s", jsLength(content), p)), nil
		})
}

func parentDir(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "."
	}
	return name[:i]
}

// editTool is pi-coding-agent's edit: one exact (or whitespace/quote
// tolerant) unique match replaced.
func editTool() Tool {
	return Func(llm.Tool{Name: "edit",
		Description: "Edit a file by replacing exact text. The oldText must match exactly (including whitespace). Use this for precise, surgical edits.",
		Parameters:  schemaJSON(`{"type":"object","properties":{"path":{"type":"string","description":"Path to the file to edit (relative or absolute)"},"oldText":{"type":"string","description":"Exact text to find and replace (must match exactly)"},"newText":{"type":"string","description":"New text to replace the old text with"},"file_path":{"type":"string","description":"Path to the file to edit (relative or absolute)"},"old_string":{"type":"string","description":"Exact text to find and replace (must match exactly)"},"new_string":{"type":"string","description":"New text to replace the old text with"}}}`)},
		runEdit)
}

func runEdit(ctx context.Context, c *Call) (agent.ToolResult, error) {
	var a pathArgs
	if err := c.Decode(&a); err != nil {
		return agent.ToolResult{}, err
	}
	p, err := required(pick(a.Path, a.FilePath), "path (path or file_path)", false)
	if err != nil {
		return agent.ToolResult{}, err
	}
	oldText, err := required(pick(a.OldText, a.OldString), "oldText (oldText or old_string)", false)
	if err != nil {
		return agent.ToolResult{}, err
	}
	newText, err := required(pick(a.NewText, a.NewString), "newText (newText or new_string)", true)
	if err != nil {
		return agent.ToolResult{}, err
	}
	w, err := openWorkspace(c, false)
	if err != nil {
		return agent.ToolResult{}, err
	}
	defer w.Close()
	name, err := w.rel(p)
	if err != nil {
		return agent.ToolResult{}, err
	}
	fi, err := w.root.Stat(name)
	if err != nil {
		if strings.Contains(err.Error(), "path escapes from parent") {
			return agent.ToolResult{}, w.escape(p)
		}
		return agent.ToolResult{}, fmt.Errorf("File not found: %s", p)
	}
	if fi.Size() > MaxEditFileBytes {
		return agent.ToolResult{}, fmt.Errorf("edit: %s is %s; the limit is %s", p, formatSize(fi.Size()), formatSize(MaxEditFileBytes))
	}
	raw, err := w.root.ReadFile(name)
	if err != nil {
		return agent.ToolResult{}, w.fsErr(p, err)
	}
	if err := checkCtx(ctx); err != nil {
		return agent.ToolResult{}, err
	}
	newContent, base, err := applyEdit(string(raw), oldText, newText, p)
	if err != nil {
		return agent.ToolResult{}, err
	}
	if len(newContent) > MaxWriteBytes {
		return agent.ToolResult{}, fmt.Errorf("edit: the result is %s; the limit is %s", formatSize(int64(len(newContent))), formatSize(MaxWriteBytes))
	}
	if err := w.writeAtomic(name, []byte(newContent)); err != nil {
		return agent.ToolResult{}, w.fsErr(p, err)
	}
	diff, first := lineDiff(base, normalizedResult(newContent), 4)
	d, _ := json.Marshal(map[string]any{"diff": diff, "firstChangedLine": first})
	return agent.ToolResult{Content: []llm.Content{llm.Text(fmt.Sprintf("Successfully replaced text in %s.", p))}, Details: d}, nil
}

// applyEdit is edit.js's replacement: BOM kept aside, line endings
// normalized and restored, exact match first then the fuzzy one, a unique
// match required. It returns the file's new content and the normalized
// old content (for the diff).
func applyEdit(raw, oldText, newText, p string) (string, string, error) {
	bom := ""
	if strings.HasPrefix(raw, "\uFEFF") {
		bom, raw = "\uFEFF", raw[len("\uFEFF"):]
	}
	ending := detectLineEnding(raw)
	content := toLF(raw)
	oldN, newN := toLF(oldText), toLF(newText)
	base := content
	idx := strings.Index(content, oldN)
	matchLen := len(oldN)
	if idx < 0 {
		fc, fo := fuzzyNormalize(content), fuzzyNormalize(oldN)
		idx = strings.Index(fc, fo)
		if idx < 0 {
			return "", "", fmt.Errorf("Could not find the exact text in %s. The old text must match exactly including all whitespace and newlines.", p)
		}
		base, matchLen = fc, len(fo)
	}
	if n := strings.Count(fuzzyNormalize(content), fuzzyNormalize(oldN)); n > 1 {
		return "", "", fmt.Errorf("Found %d occurrences of the text in %s. The text must be unique. Please provide more context to make it unique.", n, p)
	}
	out := base[:idx] + newN + base[idx+matchLen:]
	if out == base {
		return "", "", fmt.Errorf("No changes made to %s. The replacement produced identical content. This might indicate an issue with special characters or the text not existing as expected.", p)
	}
	if ending == "\r\n" {
		out = strings.ReplaceAll(out, "\n", "\r\n")
	}
	return bom + out, base, nil
}

func normalizedResult(s string) string {
	return toLF(strings.TrimPrefix(s, "\uFEFF"))
}

func detectLineEnding(s string) string {
	crlf, lf := strings.Index(s, "\r\n"), strings.IndexByte(s, '\n')
	if lf < 0 || crlf < 0 {
		return "\n"
	}
	if crlf < lf {
		return "\r\n"
	}
	return "\n"
}

func toLF(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// fuzzyNormalize is edit-diff.js normalizeForFuzzyMatch: trailing
// whitespace per line dropped, smart quotes, Unicode dashes and spaces
// mapped to ASCII.
func fuzzyNormalize(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, isJSSpace)
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x2018 && r <= 0x201B:
			return '\''
		case r >= 0x201C && r <= 0x201F:
			return '"'
		case (r >= 0x2010 && r <= 0x2015) || r == 0x2212:
			return '-'
		case r == 0xA0 || (r >= 0x2002 && r <= 0x200A) || r == 0x202F || r == 0x205F || r == 0x3000:
			return ' '
		}
		return r
	}, strings.Join(lines, "\n"))
}

func isJSSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\v', '\f', '\r', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// lineDiff is generateDiffString for a single replaced region: the
// changed lines with their numbers and ctx lines of context around them.
func lineDiff(oldS, newS string, ctx int) (string, int) {
	a, b := strings.Split(oldS, "\n"), strings.Split(newS, "\n")
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	width := len(fmt.Sprint(max(len(a), len(b))))
	num := func(n int) string { return fmt.Sprintf("%*d", width, n) }
	var out []string
	from := max(0, pre-ctx)
	if from > 0 {
		out = append(out, " "+strings.Repeat(" ", width)+" ...")
	}
	for i := from; i < pre; i++ {
		out = append(out, " "+num(i+1)+" "+a[i])
	}
	for i := pre; i < len(a)-suf; i++ {
		out = append(out, "-"+num(i+1)+" "+a[i])
	}
	for i := pre; i < len(b)-suf; i++ {
		out = append(out, "+"+num(i+1)+" "+b[i])
	}
	end := min(len(a), len(a)-suf+ctx)
	for i := len(a) - suf; i < end; i++ {
		out = append(out, " "+num(i+1)+" "+a[i])
	}
	if end < len(a) {
		out = append(out, " "+strings.Repeat(" ", width)+" ...")
	}
	return strings.Join(out, "\n"), pre + 1
}

// lsTool is pi-coding-agent's ls.
func lsTool() Tool {
	const defLimit = 500
	return Func(llm.Tool{Name: "ls",
		Description: fmt.Sprintf("List directory contents. Returns entries sorted alphabetically, with '/' suffix for directories. Includes dotfiles. Output is truncated to %d entries or %dKB (whichever is hit first).", defLimit, maxBytes/1024),
		Parameters:  schemaJSON(`{"type":"object","properties":{"path":{"type":"string","description":"Directory to list (default: current directory)"},"limit":{"type":"number","description":"Maximum number of entries to return (default: 500)"}}}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a pathArgs
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			p := "."
			if a.Path != nil && *a.Path != "" {
				p = *a.Path
			}
			limit := defLimit
			if a.Limit != nil {
				limit = max(int(*a.Limit), 0)
			}
			w, err := openWorkspace(c, false)
			if err != nil {
				return agent.ToolResult{}, err
			}
			defer w.Close()
			name, err := w.rel(p)
			if err != nil {
				return agent.ToolResult{}, err
			}
			fi, err := w.root.Stat(name)
			if err != nil {
				if strings.Contains(err.Error(), "path escapes from parent") {
					return agent.ToolResult{}, w.escape(p)
				}
				return agent.ToolResult{}, fmt.Errorf("Path not found: %s", p)
			}
			if !fi.IsDir() {
				return agent.ToolResult{}, fmt.Errorf("Not a directory: %s", p)
			}
			ents, err := fs.ReadDir(w.root.FS(), name)
			if err != nil {
				return agent.ToolResult{}, fmt.Errorf("Cannot read directory: %v", w.fsErr(p, err))
			}
			sort.Slice(ents, func(i, j int) bool { return strings.ToLower(ents[i].Name()) < strings.ToLower(ents[j].Name()) })
			var rows []string
			hitLimit := false
			for _, e := range ents {
				if len(rows) >= limit {
					hitLimit = true
					break
				}
				n := e.Name()
				if st, err := w.root.Stat(joinRel(name, n)); err == nil && st.IsDir() {
					n += "/"
				} else if err != nil && e.Type()&fs.ModeSymlink == 0 {
					continue
				}
				rows = append(rows, n)
			}
			if len(rows) == 0 {
				return TextResult("(empty directory)"), nil
			}
			var notices []string
			if hitLimit {
				notices = append(notices, fmt.Sprintf("%d entries limit reached. Use limit=%d for more", limit, limit*2))
			}
			return listResult(rows, notices), nil
		})
}

func joinRel(dir, n string) string {
	if dir == "." {
		return n
	}
	return dir + "/" + n
}

// listResult joins rows, cuts them at 50 KB and appends the notices as
// the original's listing tools do.
func listResult(rows, notices []string) agent.ToolResult {
	var b strings.Builder
	truncated := false
	for i, r := range rows {
		add := len(r)
		if i > 0 {
			add++
		}
		if b.Len()+add > maxBytes {
			truncated = true
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r)
	}
	if truncated {
		notices = append(notices, formatSize(maxBytes)+" limit reached")
	}
	out := b.String()
	if len(notices) > 0 {
		out += "\n\n[" + strings.Join(notices, ". ") + "]"
	}
	return TextResult(out)
}
