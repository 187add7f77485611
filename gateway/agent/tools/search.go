//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim, and they start with a capital and end with a period there

package tools

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// skipDirs are never searched (find's and grep's ignore list).
var skipDirs = map[string]bool{".git": true, "node_modules": true}

// maxGrepFileBytes: larger files are skipped by grep (they are data, not
// source); maxWalk bounds how many entries one search visits.
const (
	maxGrepFileBytes = 8 << 20
	maxWalk          = 200_000
)

// globRegexp compiles a glob ("*", "?", "**", "[...]", "{a,b}") to an
// anchored regexp over slash-separated paths.
func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	depth := 0
	for i := 0; i < len(g); i++ {
		ch := g[i]
		switch ch {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				if i+1 < len(g) && g[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			cls := g[i+1 : i+j]
			if strings.HasPrefix(cls, "!") {
				cls = "^" + cls[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(cls, `\`, `\\`) + "]")
			i += j
		case '{':
			depth++
			b.WriteString("(?:")
		case '}':
			if depth > 0 {
				depth--
				b.WriteString(")")
			} else {
				b.WriteString(`\}`)
			}
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	for ; depth > 0; depth-- {
		b.WriteString(")")
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// globMatcher matches a relative path: a pattern with a "/" against the
// whole path, one without against the base name (fd's and rg's habit).
func globMatcher(g string) (func(rel string) bool, error) {
	re, err := globRegexp(g)
	if err != nil {
		return nil, fmt.Errorf("invalid glob %q: %v", g, err)
	}
	full := strings.Contains(strings.TrimPrefix(g, "**/"), "/")
	return func(rel string) bool {
		if full {
			return re.MatchString(rel)
		}
		base := rel[strings.LastIndexByte(rel, '/')+1:]
		return re.MatchString(base)
	}, nil
}

// walk visits the files and dirs under dir (a root-relative name) with
// their paths relative to dir, skipping skipDirs.
func walk(ctx context.Context, w *workspace, dir string, fn func(rel string, d fs.DirEntry) (stop bool)) error {
	n := 0
	errStop := errors.New("stop")
	err := fs.WalkDir(w.root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if p == dir {
			return nil
		}
		n++
		if n%1024 == 0 && ctx.Err() != nil {
			return errAborted
		}
		if n > maxWalk {
			return errStop
		}
		if d.IsDir() && skipDirs[d.Name()] {
			return fs.SkipDir
		}
		rel := p
		if dir != "." {
			rel = strings.TrimPrefix(p, dir+"/")
		}
		if fn(rel, d) {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

type searchArgs struct {
	Pattern    *string  `json:"pattern"`
	Path       *string  `json:"path"`
	Glob       *string  `json:"glob"`
	IgnoreCase bool     `json:"ignoreCase"`
	Literal    bool     `json:"literal"`
	Context    *float64 `json:"context"`
	Limit      *float64 `json:"limit"`
}

// searchDir opens the workspace and resolves the search path.
func searchDir(c *Call, a searchArgs) (*workspace, string, bool, error) {
	p := "."
	if a.Path != nil && *a.Path != "" {
		p = *a.Path
	}
	w, err := openWorkspace(c, false)
	if err != nil {
		return nil, "", false, err
	}
	name, err := w.rel(p)
	if err != nil {
		w.Close()
		return nil, "", false, err
	}
	fi, err := w.root.Stat(name)
	if err != nil {
		w.Close()
		if strings.Contains(err.Error(), "path escapes from parent") {
			return nil, "", false, w.escape(p)
		}
		return nil, "", false, fmt.Errorf("Path not found: %s", p)
	}
	return w, name, fi.IsDir(), nil
}

// findTool is pi-coding-agent's find, walking the workspace itself
// instead of running fd.
func findTool() Tool {
	const defLimit = 1000
	return Func(llm.Tool{Name: "find",
		Description: fmt.Sprintf("Search for files by glob pattern. Returns matching file paths relative to the search directory. Respects .gitignore. Output is truncated to %d results or %dKB (whichever is hit first).", defLimit, maxBytes/1024),
		Parameters:  schemaJSON(`{"type":"object","properties":{"pattern":{"type":"string","description":"Glob pattern to match files, e.g. '*.ts', '**/*.json', or 'src/**/*.spec.ts'"},"path":{"type":"string","description":"Directory to search in (default: current directory)"},"limit":{"type":"number","description":"Maximum number of results (default: 1000)"}},"required":["pattern"]}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a searchArgs
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			limit := defLimit
			if a.Limit != nil {
				limit = max(int(*a.Limit), 1)
			}
			match, err := globMatcher(*a.Pattern)
			if err != nil {
				return agent.ToolResult{}, err
			}
			w, dir, isDir, err := searchDir(c, a)
			if err != nil {
				return agent.ToolResult{}, err
			}
			defer w.Close()
			if !isDir {
				return agent.ToolResult{}, fmt.Errorf("Not a directory: %s", *a.Path)
			}
			var rows []string
			err = walk(ctx, w, dir, func(rel string, d fs.DirEntry) bool {
				if match(rel) {
					if d.IsDir() {
						rel += "/"
					}
					rows = append(rows, rel)
				}
				return len(rows) >= limit
			})
			if err != nil {
				return agent.ToolResult{}, err
			}
			if len(rows) == 0 {
				return TextResult("No files found matching pattern"), nil
			}
			var notices []string
			if len(rows) >= limit {
				notices = append(notices, fmt.Sprintf("%d results limit reached. Use limit=%d for more, or refine pattern", limit, limit*2))
			}
			return listResult(rows, notices), nil
		})
}

// grepTool is pi-coding-agent's grep on Go's regexp (RE2 syntax)
// instead of ripgrep.
func grepTool() Tool {
	const defLimit = 100
	return Func(llm.Tool{Name: "grep",
		Description: fmt.Sprintf("Search file contents for a pattern. Returns matching lines with file paths and line numbers. Respects .gitignore. Output is truncated to %d matches or %dKB (whichever is hit first). Long lines are truncated to %d chars.", defLimit, maxBytes/1024, grepLineLength),
		Parameters:  schemaJSON(`{"type":"object","properties":{"pattern":{"type":"string","description":"Search pattern (regex or literal string)"},"path":{"type":"string","description":"Directory or file to search (default: current directory)"},"glob":{"type":"string","description":"Filter files by glob pattern, e.g. '*.ts' or '**/*.spec.ts'"},"ignoreCase":{"type":"boolean","description":"Case-insensitive search (default: false)"},"literal":{"type":"boolean","description":"Treat pattern as literal string instead of regex (default: false)"},"context":{"type":"number","description":"Number of lines to show before and after each match (default: 0)"},"limit":{"type":"number","description":"Maximum number of matches to return (default: 100)"}},"required":["pattern"]}`)},
		func(ctx context.Context, c *Call) (agent.ToolResult, error) {
			var a searchArgs
			if err := c.Decode(&a); err != nil {
				return agent.ToolResult{}, err
			}
			limit := defLimit
			if a.Limit != nil {
				limit = max(int(*a.Limit), 1)
			}
			ctxLines := 0
			if a.Context != nil && *a.Context > 0 {
				ctxLines = int(*a.Context)
			}
			pat := *a.Pattern
			if a.Literal {
				pat = regexp.QuoteMeta(pat)
			}
			if a.IgnoreCase {
				pat = "(?i)" + pat
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				return agent.ToolResult{}, fmt.Errorf("regex parse error: %v", err)
			}
			var globOK func(string) bool
			if a.Glob != nil && *a.Glob != "" {
				if globOK, err = globMatcher(*a.Glob); err != nil {
					return agent.ToolResult{}, err
				}
			}
			w, dir, isDir, err := searchDir(c, a)
			if err != nil {
				return agent.ToolResult{}, err
			}
			defer w.Close()
			var out []string
			matches := 0
			long := false
			search := func(name, shown string) {
				ls, ok := textLines(w, name)
				if !ok {
					return
				}
				for i, l := range ls {
					if matches >= limit {
						return
					}
					if !re.MatchString(l) {
						continue
					}
					matches++
					from, to := max(0, i-ctxLines), min(len(ls)-1, i+ctxLines)
					for j := from; j <= to; j++ {
						t := strings.ReplaceAll(ls[j], "\r", "")
						if len([]rune(t)) > grepLineLength {
							t = string([]rune(t)[:grepLineLength]) + "... [truncated]"
							long = true
						}
						if j == i {
							out = append(out, fmt.Sprintf("%s:%d: %s", shown, j+1, t))
						} else {
							out = append(out, fmt.Sprintf("%s-%d- %s", shown, j+1, t))
						}
					}
				}
			}
			if !isDir {
				search(dir, dir[strings.LastIndexByte(dir, '/')+1:])
			} else {
				err = walk(ctx, w, dir, func(rel string, d fs.DirEntry) bool {
					if d.IsDir() || (globOK != nil && !globOK(rel)) {
						return false
					}
					search(joinRel(dir, rel), rel)
					return matches >= limit
				})
				if err != nil {
					return agent.ToolResult{}, err
				}
			}
			if matches == 0 {
				return TextResult("No matches found"), nil
			}
			var notices []string
			details := map[string]any{}
			if matches >= limit {
				notices = append(notices, fmt.Sprintf("%d matches limit reached. Use limit=%d for more, or refine pattern", limit, limit*2))
				details["matchLimitReached"] = limit
			}
			res := listResult(out, notices)
			if long {
				res.Content[0].Text += fmt.Sprintf("\n\n[Some lines truncated to %d chars. Use read tool to see full lines]", grepLineLength)
				details["linesTruncated"] = true
			}
			if len(details) > 0 {
				res.Details, _ = json.Marshal(details)
			}
			return res, nil
		})
}

// textLines reads a text file's lines (nil, false for a binary, huge or
// unreadable file).
func textLines(w *workspace, name string) ([]string, bool) {
	f, err := w.root.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > maxGrepFileBytes {
		return nil, false
	}
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(8192)
	if isBinary(head) {
		return nil, false
	}
	b, err := io.ReadAll(br)
	if err != nil {
		return nil, false
	}
	// The original splits the file on "\n": a final newline gives a last,
	// empty line that context may show.
	out := strings.Split(toLF(string(b)), "\n")
	return out, true
}
