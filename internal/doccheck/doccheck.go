// Package doccheck keeps code comments pointing at documents a maintainer
// has: every "§N" a Go comment cites must be a section of a doc in doc/, and
// no comment may mention an issue number (those mean nothing without the
// tracker). The test in this package enforces both; doc/tools/spec-refs.sh
// prints the same report.
//
// Citations come in three spellings. The explicit one names the file:
// "doc/protocol.md §3.3". The older one names the document: "doc/protocol.md
// §3.3" (protocol, supervision or messaging, mapped to doc/<name>.md). A bare
// "doc/protocol.md §3.3" or "§3.3" means the document cited last earlier in the same
// file, else the document of the file's package (DefaultDoc). This is also
// the rule doc/tools/rewrite-spec-refs.sh applies, so that its rewrite
// changes spellings, never targets.
package doccheck

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Citation is one "§N" in a Go comment, resolved to a document.
type Citation struct {
	File    string // slash-separated, relative to the module root
	Line    int
	Doc     string // "protocol" for doc/protocol.md; "" when it cannot be told
	Section string // "3.3"
	Form    string // "explicit", "named", "bare"
}

func (c Citation) String() string {
	return fmt.Sprintf("%s:%d: %s §%s (%s)", c.File, c.Line, docPath(c.Doc), c.Section, c.Form)
}

func docPath(doc string) string {
	if doc == "" {
		return "<unknown doc>"
	}
	return "doc/" + doc + ".md"
}

// Mention is a comment text that must not be there (an issue number) or
// points outside the repository (the shared style guide).
type Mention struct {
	File string
	Line int
	Text string
}

func (m Mention) String() string { return fmt.Sprintf("%s:%d: %s", m.File, m.Line, m.Text) }

// fileDefaults overrides the package default for files whose bare
// citations mean another document.
var fileDefaults = map[string]string{
	"cmd/clawdbot/cli/gateway.go": "protocol", // the bind/auth refusal rules
}

// dirDefaults is the document a package's bare citations mean.
var dirDefaults = []struct{ prefix, doc string }{
	{"gateway/", "protocol"},
	{"wire/", "protocol"},
	{"profiles/", "supervision"},
	{"supervise/", "supervision"},
	{"doctor/", "supervision"},
	{"cmd/", "supervision"},
}

// DefaultDoc is the document a bare citation in file means when nothing
// earlier in the file names one; "" when there is none.
func DefaultDoc(file string) string {
	if d, ok := fileDefaults[file]; ok {
		return d
	}
	for _, d := range dirDefaults {
		if strings.HasPrefix(file, d.prefix) {
			return d.doc
		}
	}
	return ""
}

var (
	// One token per alternative, in the order they appear in the text.
	citeRE = regexp.MustCompile(`doc/([A-Za-z0-9_-]+)\.md\s+§(\d+(?:\.\d+)*)` +
		`|\b(protocol|supervision|messaging)\s+spec\s+§(\d+(?:\.\d+)*)` +
		`|\b(STYLE(?:\.md)?|RFC\s*\d+)\s+§(\d+(?:\.\d+)*)` +
		`|§(\d+(?:\.\d+)*)`)
	bareSpecRE = regexp.MustCompile(`\bspec\s+$`)
	issueRE    = regexp.MustCompile(`(?i)\bissues?\s*#\s*\d+|(?:^|[\s(\[,;])#\d+\b`)
	styleRE    = regexp.MustCompile(`\bSTYLE(?:\.md)?\b`)
)

// Scan reads every .go file under root (skipping testdata, vendor and
// hidden directories) and returns its comment citations and mentions.
func Scan(root string) (cites []Citation, issues, external []Mention, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		c, i, e, err := scanFile(path, filepath.ToSlash(rel))
		cites, issues, external = append(cites, c...), append(issues, i...), append(external, e...)
		return err
	})
	return cites, issues, external, err
}

func scanFile(path, rel string) (cites []Citation, issues, external []Mention, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("doccheck: %w", err)
	}
	last := ""
	for _, g := range f.Comments {
		// Join the group's lines so a citation split across lines
		// ("spec\n// §3.5") reads as one; lineAt maps offsets back.
		var text strings.Builder
		var starts []int
		var lines []int
		for _, c := range g.List {
			starts = append(starts, text.Len())
			lines = append(lines, fset.Position(c.Slash).Line)
			body := strings.TrimPrefix(strings.TrimPrefix(c.Text, "//"), "/*")
			text.WriteString(strings.TrimSuffix(body, "*/"))
			text.WriteByte(' ')
		}
		s := text.String()
		lineAt := func(off int) int {
			i := sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1
			// A block comment spans lines: count newlines inside it.
			return lines[i] + strings.Count(s[starts[i]:off], "\n")
		}
		for _, m := range citeRE.FindAllStringSubmatchIndex(s, -1) {
			c := Citation{File: rel, Line: lineAt(m[0])}
			switch {
			case m[2] >= 0:
				c.Doc, c.Section, c.Form = s[m[2]:m[3]], s[m[4]:m[5]], "explicit"
			case m[6] >= 0:
				c.Doc, c.Section, c.Form = s[m[6]:m[7]], s[m[8]:m[9]], "named"
			case m[10] >= 0:
				if styleRE.MatchString(s[m[10]:m[11]]) {
					external = append(external, Mention{rel, c.Line, strings.TrimSpace(s[m[0]:m[1]])})
				}
				continue // RFCs are public; the style guide is reported above
			default:
				c.Section, c.Form = s[m[14]:m[15]], "bare"
				c.Doc = last
				if c.Doc == "" {
					c.Doc = DefaultDoc(rel)
				}
				if bareSpecRE.MatchString(s[:m[0]]) {
					c.Form = "bare spec"
				}
			}
			last = c.Doc
			cites = append(cites, c)
		}
		for _, loc := range issueRE.FindAllStringIndex(s, -1) {
			issues = append(issues, Mention{rel, lineAt(loc[0]), strings.TrimSpace(s[loc[0]:loc[1]])})
		}
		for _, loc := range styleRE.FindAllStringIndex(s, -1) {
			if !slices.ContainsFunc(external, func(e Mention) bool { return e.File == rel && e.Line == lineAt(loc[0]) }) {
				external = append(external, Mention{rel, lineAt(loc[0]), "STYLE.md"})
			}
		}
	}
	return cites, issues, external, nil
}

var (
	headingRE = regexp.MustCompile(`^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s`)
	itemRE    = regexp.MustCompile(`^(\d+)\.\s`)
)

// Sections lists the section numbers of a markdown document: its numbered
// headings ("## 3.", "### 3.3") and, under a heading N without subsection
// headings, its top-level numbered list items as N.M — so "§10.4" can name
// item 4 of a numbered list in §10.
func Sections(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	secs := map[string]bool{}
	items := map[string]bool{}
	cur := ""
	inFence := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			cur = m[1]
			secs[cur] = true
			continue
		}
		if m := itemRE.FindStringSubmatch(line); m != nil && cur != "" {
			items[cur+"."+m[1]] = true
		}
	}
	for k := range items {
		if !secs[k] {
			secs[k] = true
		}
	}
	return secs, sc.Err()
}

// Problems checks cites against the documents in root/doc and returns one
// line per citation whose document or section is missing.
func Problems(root string, cites []Citation) []string {
	docs := map[string]map[string]bool{}
	var out []string
	for _, c := range cites {
		if c.Doc == "" {
			out = append(out, c.String()+": cannot tell which document; name it (doc/<name>.md §N)")
			continue
		}
		secs, ok := docs[c.Doc]
		if !ok {
			var err error
			secs, err = Sections(filepath.Join(root, "doc", c.Doc+".md"))
			if err != nil {
				secs = nil
			}
			docs[c.Doc] = secs
		}
		switch {
		case secs == nil:
			out = append(out, c.String()+": "+docPath(c.Doc)+" does not exist")
		case !secs[c.Section]:
			out = append(out, c.String()+": no §"+c.Section+" in "+docPath(c.Doc))
		}
	}
	return out
}

// Report is the whole check for the module at root: the problems that fail
// it, and the notes that do not.
type Report struct {
	Cites    []Citation
	Problems []string  // missing documents or sections
	Issues   []Mention // issue numbers in comments
	External []Mention // citations of the shared style guide, outside the repository
}

// Check scans root and checks it.
func Check(root string) (Report, error) {
	cites, issues, external, err := Scan(root)
	if err != nil {
		return Report{}, err
	}
	r := Report{Cites: cites, Problems: Problems(root, cites), External: external}
	r.Issues = issues
	return r, nil
}

// Failed reports whether r has anything that must be fixed.
func (r Report) Failed() bool { return len(r.Problems) > 0 || len(r.Issues) > 0 }
