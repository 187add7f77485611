// Package update answers update.run. The original updates itself in place
// (git pull or a package-manager install of its npm package, then a
// restart). This gateway is one binary that a package manager, `go
// install` or a release download put on disk; rewriting it from inside the
// running process would fight that manager, so update.run answers with a
// real error that says how this binary is updated.
package update

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Deps are what update.run needs.
type Deps struct {
	// Executable is the running binary's path (os.Executable when nil).
	Executable func() (string, error)
	// Getenv reads GOPATH/GOBIN (os.Getenv when nil).
	Getenv func(string) string
}

// Register adds update.run.
func Register(reg *rpc.Registry, d Deps) {
	if d.Executable == nil {
		d.Executable = os.Executable
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	reg.Handle("update.run", d.run)
}

// Method is how this binary was installed, as far as its path tells.
type Method struct {
	// Kind is "homebrew", "go-install", "system-package" or "release".
	Kind string `json:"kind"`
	// Command updates the binary (run by the user, outside the gateway).
	Command string `json:"command"`
}

// Details is the error's details: what a UI shows next to the message.
type Details struct {
	Reason     string `json:"reason"` // "self-update-unsupported"
	Executable string `json:"executable,omitempty"`
	Method
	// Restart is the command that restarts the gateway on the new binary.
	Restart string `json:"restart"`
}

// Detect says how the binary at exe is updated.
func Detect(exe string, getenv func(string) string) Method {
	p := filepath.ToSlash(exe)
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		p = filepath.ToSlash(r)
	}
	switch {
	case strings.Contains(p, "/Cellar/") || strings.HasPrefix(p, "/opt/homebrew/") || strings.Contains(p, "/linuxbrew/"):
		return Method{Kind: "homebrew", Command: "brew upgrade clawdbot"}
	case isGoBin(p, getenv):
		return Method{Kind: "go-install", Command: "go install github.com/clawdbot/clawdbot/cmd/clawdbot@latest"}
	case strings.HasPrefix(p, "/usr/bin/") || strings.HasPrefix(p, "/usr/sbin/") || strings.HasPrefix(p, "/bin/"):
		return Method{Kind: "system-package", Command: "update the clawdbot package with your system package manager (apt, dnf, pacman, ...)"}
	}
	return Method{Kind: "release", Command: "replace " + exe + " with a newer release build (or run `make build` in a source checkout)"}
}

func isGoBin(p string, getenv func(string) string) bool {
	dirs := []string{getenv("GOBIN")}
	for _, gp := range filepath.SplitList(getenv("GOPATH")) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil && getenv("GOPATH") == "" {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		if d != "" && filepath.ToSlash(filepath.Dir(p)) == filepath.ToSlash(filepath.Clean(d)) {
			return true
		}
	}
	return false
}

// run validates the params as the original does, then refuses with
// UNAVAILABLE: the message names the command that updates this binary,
// and details carry it for a UI.
func (d Deps) run(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.UpdateRunParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	exe, err := d.Executable()
	if err != nil {
		exe = ""
	}
	m := Detect(exe, d.Getenv)
	e := rpc.Unavailable("update.run cannot update this gateway in place: it is a single binary (" + m.Kind +
		" install); update it with: " + m.Command + "; then restart the gateway: clawdbot gateway restart")
	e.Details = Details{Reason: "self-update-unsupported", Executable: exe, Method: m, Restart: "clawdbot gateway restart"}
	return nil, e
}
