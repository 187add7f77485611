package supervise

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Found is a clawdbot-related service definition found by Scan.
type Found struct {
	Platform Platform `json:"platform"`
	Scope    Scope    `json:"scope"`
	Name     string   `json:"label"`
	Path     string   `json:"path"`
	// Class is "gateway" (a clawdbot gateway of some profile, ours or not),
	// "legacy" (an old name of ours) or "other" (mentions clawdbot but is no
	// gateway we know: the spec's "other gateway-like services").
	Class   string `json:"class"`
	Profile string `json:"profile,omitempty"`
	Detail  string `json:"detail"`
}

// ScanOptions select where Scan looks.
type ScanOptions struct {
	Platform Platform // default: the running OS's
	Home     string
	// Deep adds the system locations (doc/supervision.md §5.5 --deep).
	Deep bool
}

// Scan lists service definitions that mention clawdbot (case-insensitive)
// in the user's service directory and, with Deep, the system ones. Unlike
// the original's heuristic, it classifies instead of hiding: gateways of
// every profile are reported as "gateway" with their profile, so doctor can
// spot two profiles on one port, and a node-host service is "other", not a
// gateway. Windows services live in the registry; there Scan sees only the
// rendered copies under state dirs and returns nothing.
func Scan(opts ScanOptions) []Found {
	pl := opts.Platform
	if pl == "" {
		pl = PlatformFor(runtime.GOOS)
	}
	type loc struct {
		dir   string
		scope Scope
	}
	var locs []loc
	switch pl {
	case Launchd:
		locs = append(locs, loc{filepath.Join(opts.Home, "Library", "LaunchAgents"), ScopeUser})
		if opts.Deep {
			locs = append(locs, loc{"/Library/LaunchAgents", ScopeSystem}, loc{"/Library/LaunchDaemons", ScopeSystem})
		}
	case Systemd:
		locs = append(locs, loc{filepath.Join(opts.Home, ".config", "systemd", "user"), ScopeUser})
		if opts.Deep {
			locs = append(locs, loc{"/etc/systemd/system", ScopeSystem}, loc{"/usr/lib/systemd/system", ScopeSystem}, loc{"/lib/systemd/system", ScopeSystem})
		}
	default:
		return nil
	}
	var out []Found
	seen := map[string]bool{}
	for _, l := range locs {
		ext := ".service"
		if pl == Launchd {
			ext = ".plist"
		}
		entries, err := os.ReadDir(l.dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ext) {
				continue
			}
			path := filepath.Join(l.dir, e.Name())
			if real, err := filepath.EvalSymlinks(path); err == nil {
				if seen[real] {
					continue // /lib -> /usr/lib on merged-/usr systems
				}
				seen[real] = true
			}
			b, err := os.ReadFile(path)
			if err != nil || !strings.Contains(strings.ToLower(string(b)), "clawdbot") {
				continue
			}
			out = append(out, classify(pl, l.scope, path, strings.TrimSuffix(e.Name(), ".plist"), b))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func classify(pl Platform, scope Scope, path, name string, body []byte) Found {
	f := Found{Platform: pl, Scope: scope, Name: name, Path: path, Class: "other"}
	if pl == Launchd {
		f.Detail = "plist: " + path
	} else {
		f.Detail = "unit: " + path
	}
	if s, err := Parse(pl, body); err == nil {
		if s.Name != "" && pl == Launchd {
			f.Name = s.Name
		}
		if s.Env[EnvMarker] == MarkerValue && s.Env[EnvKind] == KindGateway {
			f.Class, f.Profile = "gateway", s.Env[EnvProfile]
			return f
		}
	}
	if profile, ok := LegacyName(pl, f.Name); ok {
		f.Class, f.Profile = "legacy", profile
		return f
	}
	lower := strings.ToLower(string(body))
	if strings.Contains(lower, "gateway") &&
		(strings.HasPrefix(f.Name, "com.clawdbot.") || strings.HasPrefix(f.Name, "clawdbot-gateway")) {
		f.Class = "gateway" // an unmarked gateway of ours (older writer)
	}
	return f
}
