// Command clawdbot runs the Clawdbot gateway, installs it as an OS service per
// profile, and diagnoses it. All logic lives in package cli; main only wires
// the process's streams and exits with the command's code.
package main

import (
	"os"

	"github.com/clawdbot/clawdbot/cmd/clawdbot/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.ProcessEnv()))
}
