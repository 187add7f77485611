package reload

import "strings"

// Mode is gateway.reload.mode.
type Mode string

// Reload modes (doc/protocol.md §9.1).
const (
	ModeOff     Mode = "off"     // log changes, apply nothing
	ModeHot     Mode = "hot"     // apply hot changes; ignore (log) changes that need a restart
	ModeRestart Mode = "restart" // restart on any change
	ModeHybrid  Mode = "hybrid"  // apply hot changes; restart when needed (default)
)

// ParseMode reads gateway.reload.mode. Empty and unknown values mean hybrid,
// as in the original; valid reports whether s was a known mode so the caller
// can warn about a typo.
func ParseMode(s string) (m Mode, valid bool) {
	switch Mode(strings.ToLower(strings.TrimSpace(s))) {
	case ModeOff:
		return ModeOff, true
	case ModeHot:
		return ModeHot, true
	case ModeRestart:
		return ModeRestart, true
	case ModeHybrid:
		return ModeHybrid, true
	case "":
		return ModeHybrid, true
	}
	return ModeHybrid, false
}

// Plan is what to do about one set of changed paths.
type Plan struct {
	Mode Mode
	// Changed are all changed paths, as given.
	Changed []string
	// Noop are the paths that need nothing.
	Noop []string
	// HotKinds are the hot actions to run, each once, in rule-table order
	// of first appearance. Empty when Restart is set (a restart reloads
	// everything) or the mode does not apply hot changes.
	HotKinds []string
	// HotPaths are the paths behind HotKinds.
	HotPaths []string
	// Restart is set when the gateway must restart in process.
	Restart bool
	// RestartPaths are the paths that need a restart (whether or not the
	// mode lets Restart be set).
	RestartPaths []string
	// Ignored are the paths the mode chose not to act on (hot mode: those
	// needing a restart; off mode: all of them), for the log.
	Ignored []string
}

// Empty reports whether the plan does nothing at all.
func (p Plan) Empty() bool { return !p.Restart && len(p.HotKinds) == 0 }

// NewPlan classifies paths and applies mode (see Mode's constants).
func NewPlan(paths []string, mode Mode) Plan {
	if m, ok := ParseMode(string(mode)); ok {
		mode = m
	} else {
		mode = ModeHybrid
	}
	p := Plan{Mode: mode, Changed: paths}
	seen := map[string]bool{}
	var hotKinds []string
	for _, path := range paths {
		a := Classify(path)
		switch a.Type {
		case Noop:
			p.Noop = append(p.Noop, path)
		case Hot:
			p.HotPaths = append(p.HotPaths, path)
			if !seen[a.Kind] {
				seen[a.Kind] = true
				hotKinds = append(hotKinds, a.Kind)
			}
		case Restart:
			p.RestartPaths = append(p.RestartPaths, path)
		}
	}
	switch mode {
	case ModeOff:
		p.Ignored = paths
	case ModeRestart:
		p.Restart = len(paths) > 0
	case ModeHot:
		p.HotKinds = hotKinds
		p.Ignored = p.RestartPaths
	case ModeHybrid:
		if len(p.RestartPaths) > 0 {
			p.Restart = true
		} else {
			p.HotKinds = hotKinds
		}
	}
	return p
}
