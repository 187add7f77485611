package gateway_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/clawdbot/clawdbot"

// helperPkgs are gateway subpackages that are building blocks of the core
// rather than features hosting methods; they may not import the core
// either, but the feature rules below do not apply to them.
var helperPkgs = []string{"canvas", "filelog", "llm", "notify", "ports", "presence", "reload", "rpc", "sessionstore", "gatewaytest", "internal"}

type listedPkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []listedPkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// gatewaySub is the first element under gateway/ ("" when p is not below it).
func gatewaySub(p string) string {
	rest, ok := strings.CutPrefix(p, mod+"/gateway/")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	return first
}

// isTestHelper: a package named like net/http/httptest (gatewaytest,
// supervise/sandboxtest) exists to be imported by tests and may import
// testing.
func isTestHelper(p string) bool {
	return strings.HasSuffix(p[strings.LastIndex(p, "/")+1:], "test")
}

func isFeature(p string) bool {
	sub := gatewaySub(p)
	return sub != "" && !slices.Contains(helperPkgs, sub)
}

// The arrows point down only: cmd → doctor → gateway → gateway/<feature>
// → gateway/rpc → wire, profiles (doc/architecture.md). Only the imports
// of production code count (go list without -test).
func TestDependencyArrows(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			switch {
			case gatewaySub(p.ImportPath) != "" && imp == mod+"/gateway":
				t.Errorf("%s imports the gateway core; gateway subpackages import gateway/rpc instead", p.ImportPath)
			case isFeature(p.ImportPath) && isFeature(imp) && gatewaySub(p.ImportPath) != gatewaySub(imp):
				t.Errorf("feature %s imports feature %s; pass what it needs through its Deps", p.ImportPath, imp)
			case (imp == "testing" || imp == "net/http/httptest") && !isTestHelper(p.ImportPath):
				t.Errorf("production package %s imports %s", p.ImportPath, imp)
			}
		}
		switch p.ImportPath {
		case mod + "/gateway":
			for _, d := range p.Deps {
				if d == mod+"/supervise" || d == mod+"/doctor" || strings.HasPrefix(d, mod+"/supervise/") || strings.HasPrefix(d, mod+"/doctor/") {
					t.Errorf("gateway depends on %s; the service manager and doctor sit above it", d)
				}
			}
		case mod + "/gateway/rpc":
			for _, d := range p.Deps {
				if strings.HasPrefix(d, mod+"/") && !strings.HasPrefix(d, mod+"/wire") {
					t.Errorf("gateway/rpc depends on %s; it may use only wire and the standard library", d)
				}
			}
		}
	}
}
