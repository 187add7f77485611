package cli

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var exitRow = regexp.MustCompile(`^  (\d+) +\S`)

// helpExitCodes returns the codes listed in the "Exit codes:" section of a
// help screen, or nil when there is none.
func helpExitCodes(help string) []int {
	_, section, ok := strings.Cut(help, "\nExit codes:\n")
	if !ok {
		return nil
	}
	var codes []int
	for _, l := range strings.Split(section, "\n") {
		m := exitRow.FindStringSubmatch(l)
		if m == nil {
			if strings.TrimSpace(l) == "" || !strings.HasPrefix(l, "  ") {
				break
			}
			continue // a wrapped meaning
		}
		n, _ := strconv.Atoi(m[1])
		codes = append(codes, n)
	}
	return codes
}

// Every --help screen (root, groups, every command) lists the exit codes
// that command can return, each from the one table, so scripts and unit
// files can rely on them.
func TestEveryHelpListsItsExitCodes(t *testing.T) {
	table := map[int]bool{}
	for _, e := range ExitCodes() {
		table[e.Code] = true
	}
	screens := map[string][]string{"root": {"--help"}}
	groups := map[string]bool{}
	for path, c := range commands {
		if strings.HasPrefix(path, "zz") {
			continue // this package's test commands
		}
		_ = c
		screens[path] = append(strings.Fields(path), "--help")
		words := strings.Fields(path)
		for n := 1; n < len(words); n++ {
			groups[strings.Join(words[:n], " ")] = true
		}
	}
	for g := range groups {
		if commands[g] == nil {
			screens[g+" (group)"] = append(strings.Fields(g), "--help")
		}
	}
	if len(screens) < 15 {
		t.Fatalf("only %d help screens found: the walk is broken", len(screens))
	}
	// Codes a command must list because it can return them.
	must := map[string][]int{
		"gateway":        {ExitOK, ExitFailure, ExitUsage, ExitConfig},
		"gateway run":    {ExitOK, ExitFailure, ExitUsage, ExitConfig},
		"gateway status": {ExitOK, ExitFailure, ExitUsage, ExitMismatch},
		"root":           {ExitOK, ExitFailure, ExitUsage, ExitMismatch, ExitConfig},
	}
	for name, args := range screens {
		t.Run(name, func(t *testing.T) {
			env, out, errb := testEnv(t.TempDir(), nil)
			if code := Main(args, env); code != ExitOK {
				t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
			}
			codes := helpExitCodes(out.String())
			if len(codes) == 0 {
				t.Fatalf("%v: no Exit codes section:\n%s", args, out)
			}
			for _, c := range codes {
				if !table[c] {
					t.Errorf("%v lists exit code %d, which is not in the table", args, c)
				}
			}
			for _, c := range append([]int{ExitOK, ExitUsage}, must[name]...) {
				if !slices.Contains(codes, c) {
					t.Errorf("%v does not list exit code %d:\n%s", args, c, out)
				}
			}
			if strings.Count(out.String(), "Exit codes:") != 1 {
				t.Errorf("%v: Exit codes section printed %d times", args, strings.Count(out.String(), "Exit codes:"))
			}
		})
	}
}
