package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI's test seams (service manager, runner, platform) live in Env: a
// package variable that tests overwrite leaks between tests and forbids
// t.Parallel. Only the -ldflags -X build stamps may be exported variables.
func TestNoExportedMutableGlobals(t *testing.T) {
	allowed := map[string]bool{"Version": true, "Commit": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if id.IsExported() && !allowed[id.Name] {
						t.Errorf("%s: exported package variable %s: pass it in Env instead", fset.Position(id.Pos()), id.Name)
					}
				}
			}
		}
	}
}
