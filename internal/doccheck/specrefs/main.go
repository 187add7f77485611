// Command specrefs prints the doccheck report for the module in the current
// directory: comment citations whose doc/ section is missing, issue numbers
// in comments, and references to documents outside the repository. It exits
// 1 when there is something to fix. With -list it prints every citation
// with the document it resolves to (the rewrite script's test compares
// these lists before and after a rewrite).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/clawdbot/clawdbot/internal/doccheck"
)

func main() {
	list := flag.Bool("list", false, "print every citation and the document it resolves to")
	flag.Parse()
	r, err := doccheck.Check(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "specrefs:", err)
		os.Exit(1)
	}
	if *list {
		for _, c := range r.Cites {
			fmt.Printf("%s:%d %s §%s\n", c.File, c.Line, c.Doc, c.Section)
		}
		return
	}
	for _, p := range r.Problems {
		fmt.Println("missing:", p)
	}
	for _, m := range r.Issues {
		fmt.Println("issue number in a comment:", m)
	}
	for _, m := range r.External {
		fmt.Println("note: cites a document outside the repo:", m)
	}
	old := 0
	for _, c := range r.Cites {
		if c.Form == "named" || c.Form == "bare spec" {
			old++
		}
	}
	fmt.Printf("%d citations, %d in the old \"<name> spec §N\" spelling (doc/tools/rewrite-spec-refs.sh maps them)\n", len(r.Cites), old)
	if r.Failed() {
		os.Exit(1)
	}
}
