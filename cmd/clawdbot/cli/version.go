package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
)

// BuildInfo describes this binary: what `clawdbot version` prints.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// Build returns the binary's build info. Commit falls back to the VCS
// revision Go stamped into the binary, so a plain `go build` (without the
// Makefile's -ldflags) still says which commit it is.
func Build() BuildInfo {
	b := BuildInfo{Version: Version, Commit: Commit, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if b.Commit == "" {
		if info, ok := debug.ReadBuildInfo(); ok {
			modified := false
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Commit = s.Value
					if len(b.Commit) > 12 {
						b.Commit = b.Commit[:12]
					}
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if modified && b.Commit != "" {
				b.Commit += "-dirty"
			}
		}
	}
	return b
}

func init() {
	Register(&Command{Path: "version", Summary: "print version, commit and Go version", Run: runVersion,
		Exits: []ExitCode{{Code: ExitOK}, {Code: ExitUsage}}})
}

func runVersion(env *Env, args []string) int {
	fs := env.FlagSet("version", "version [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	b := Build()
	if *asJSON {
		out, _ := json.MarshalIndent(b, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", out)
		return ExitOK
	}
	commit := b.Commit
	if commit == "" {
		commit = "unknown"
	}
	fmt.Fprintf(env.Stdout, "clawdbot %s (commit %s, %s, %s/%s)\n", b.Version, commit, b.Go, b.OS, b.Arch)
	return ExitOK
}
