// Command genconfigschema writes gateway/configrpc/configschema.json, the
// config.schema document generated from the Go config types (run through
// `go generate ./gateway/configrpc` or `make schema`).
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/clawdbot/clawdbot/gateway/configrpc/internal/configschemagen"
	"github.com/clawdbot/clawdbot/profiles"
)

func main() {
	out := "configschema.json"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	data, err := configschemagen.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genconfigschema:", err)
		os.Exit(1)
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, data) {
		return
	}
	if err := profiles.WriteFileAtomic(out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genconfigschema:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", out)
}
