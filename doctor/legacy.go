package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// LegacyService is a gateway service installed under a name this version no
// longer uses: older clawdbot/clawdis labels and units, and the later
// project names (moltbot, spec §0) that compete for the same port.
type LegacyService struct {
	Platform supervise.Platform `json:"platform"`
	Scope    supervise.Scope    `json:"scope"`
	Label    string             `json:"label"`
	Path     string             `json:"path"`
	// Profile is the profile the legacy service ran ("" for the default),
	// from its environment or its name.
	Profile string `json:"profile,omitempty"`
	// Marked says the file carries a *_SERVICE_MARKER of one of our
	// project names, i.e. a clawdbot-family installer wrote it; removing an
	// unmarked one needs --force.
	Marked bool   `json:"marked"`
	Detail string `json:"detail"`
}

// Legacy launchd labels and systemd unit prefixes (spec §2.1: the 2026.1.24
// legacy list plus the clawdis names it had dropped; §0: the moltbot names
// that came after).
var (
	legacyLabels = []string{
		"com.steipete.clawdbot.gateway", "com.steipete.clawdis.gateway", "com.clawdis.gateway", "bot.molt.gateway",
	}
	legacyLabelPrefixes = []string{"bot.molt."}
	legacyUnitPrefixes  = []string{"clawdis-gateway", "moltbot-gateway"}
	markerValues        = []string{"clawdbot", "clawdis", "moltbot", "openclaw"}
)

// legacyName reports whether a launchd label or systemd unit name is a
// legacy gateway name, and the profile the name encodes.
func legacyName(pl supervise.Platform, name string) (profile string, ok bool) {
	switch pl {
	case supervise.Launchd:
		for _, l := range legacyLabels {
			if name == l {
				return "", true
			}
		}
		for _, p := range legacyLabelPrefixes {
			if rest, found := strings.CutPrefix(name, p); found && rest != "" && !strings.Contains(rest, "node") {
				return rest, true
			}
		}
	case supervise.Systemd:
		base := strings.TrimSuffix(name, ".service")
		for _, p := range legacyUnitPrefixes {
			if rest, found := strings.CutPrefix(base, p); found && (rest == "" || strings.HasPrefix(rest, "-")) {
				return strings.TrimPrefix(rest, "-"), true
			}
		}
	}
	return "", false
}

// ScanLegacy lists legacy gateway services by file name in the user's
// service directory and, with deep, the system ones (and, for launchd,
// other users' agents where readable).
func ScanLegacy(pl supervise.Platform, home string, deep bool) []LegacyService {
	type loc struct {
		dir   string
		scope supervise.Scope
	}
	var locs []loc
	ext := ".service"
	switch pl {
	case supervise.Launchd:
		ext = ".plist"
		locs = append(locs, loc{filepath.Join(home, "Library", "LaunchAgents"), supervise.ScopeUser})
		if deep {
			locs = append(locs, loc{"/Library/LaunchAgents", supervise.ScopeSystem}, loc{"/Library/LaunchDaemons", supervise.ScopeSystem})
		}
	case supervise.Systemd:
		locs = append(locs, loc{filepath.Join(home, ".config", "systemd", "user"), supervise.ScopeUser})
		if deep {
			locs = append(locs, loc{"/etc/systemd/system", supervise.ScopeSystem}, loc{"/usr/lib/systemd/system", supervise.ScopeSystem},
				loc{"/lib/systemd/system", supervise.ScopeSystem}, loc{"/etc/systemd/user", supervise.ScopeSystem})
		}
	default:
		return nil
	}
	var out []LegacyService
	seen := map[string]bool{}
	for _, l := range locs {
		entries, err := os.ReadDir(l.dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ext) {
				continue
			}
			name := strings.TrimSuffix(e.Name(), ".plist")
			profile, ok := legacyName(pl, name)
			if !ok {
				continue
			}
			path := filepath.Join(l.dir, e.Name())
			if real, err := filepath.EvalSymlinks(path); err == nil {
				if seen[real] {
					continue
				}
				seen[real] = true
			}
			ls := LegacyService{Platform: pl, Scope: l.scope, Label: name, Path: path, Profile: profile}
			if pl == supervise.Launchd {
				ls.Detail = "plist: " + path
			} else {
				ls.Detail = "unit: " + path
			}
			if b, err := os.ReadFile(path); err == nil {
				if s, err := supervise.Parse(pl, b); err == nil {
					ls.Marked = hasMarker(s.Env)
					for _, k := range []string{"CLAWDBOT_PROFILE", "MOLTBOT_PROFILE", "CLAWDIS_PROFILE"} {
						if v := s.Env[k]; v != "" {
							ls.Profile = v
						}
					}
				}
			}
			if strings.EqualFold(ls.Profile, "default") {
				ls.Profile = ""
			}
			out = append(out, ls)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// hasMarker reports whether env carries a service marker of our project
// family (CLAWDBOT_SERVICE_MARKER=clawdbot, MOLTBOT_SERVICE_MARKER=moltbot…).
func hasMarker(env map[string]string) bool {
	for k, v := range env {
		if strings.HasSuffix(k, "_SERVICE_MARKER") {
			for _, m := range markerValues {
				if strings.EqualFold(strings.TrimSpace(v), m) {
					return true
				}
			}
		}
	}
	return false
}

// legacyRepair stops and removes one legacy service (after a backup) and,
// when it ran this context's profile and no current service is installed,
// installs the current one in its place.
func legacyRepair(ls LegacyService) *Repair {
	return &Repair{
		Step: StepLegacy, Key: "legacy:" + ls.Path, Aggressive: !ls.Marked,
		Title: fmt.Sprintf("migrate legacy service %s", ls.Label),
		Run: func(ctx context.Context, c *Context) ([]string, error) {
			var lines []string
			switch ls.Platform {
			case supervise.Launchd:
				domain := "gui/" + strconv.Itoa(c.UID)
				if ls.Scope == supervise.ScopeSystem {
					domain = "system"
				}
				// Best effort: a job that is not loaded is fine.
				c.Runner.Run(ctx, "launchctl", "bootout", domain+"/"+ls.Label)
				lines = append(lines, "stopped: launchctl bootout "+domain+"/"+ls.Label)
			case supervise.Systemd:
				args := []string{"--user", "disable", "--now", ls.Label + ".service"}
				if ls.Scope == supervise.ScopeSystem {
					args = args[1:]
				}
				c.Runner.Run(ctx, "systemctl", args...)
				lines = append(lines, "stopped: systemctl "+strings.Join(args, " "))
			}
			bak, err := c.backup(ls.Path)
			if err != nil {
				return lines, err
			}
			lines = append(lines, "backed up "+ls.Path+" to "+bak)
			if err := os.Remove(ls.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return lines, fmt.Errorf("remove %s: %w", ls.Path, err)
			}
			lines = append(lines, "removed "+ls.Path)
			if ls.Platform == supervise.Systemd {
				args := []string{"--user", "daemon-reload"}
				if ls.Scope == supervise.ScopeSystem {
					args = args[1:]
				}
				c.Runner.Run(ctx, "systemctl", args...)
			}
			if !strings.EqualFold(ls.Profile, c.Profile.Name) {
				lines = append(lines, "it ran profile "+displayProfile(ls.Profile)+"; install its replacement with: "+
					profiles.FormatHint(ls.Profile, "clawdbot gateway install"))
				return lines, nil
			}
			c.resetSpecs()
			if _, err := c.Installed(); err == nil {
				lines = append(lines, "the current service is already installed")
				return lines, nil
			}
			want, err := c.Want()
			if err != nil {
				return lines, fmt.Errorf("cannot install the current service: %w", err)
			}
			m, err := c.Manager()
			if err != nil {
				return lines, err
			}
			res, err := m.Install(ctx, want, supervise.InstallOptions{})
			if err != nil {
				return lines, fmt.Errorf("install %s: %w", want.Name, err)
			}
			lines = append(lines, fmt.Sprintf("%s current service %s (%s)", res.Action, want.Name, res.Path))
			return lines, nil
		},
	}
}

func displayProfile(p string) string {
	if p == "" {
		return "default"
	}
	return p
}

// currentUserName is the login name for lingering when the caller did not
// say.
func currentUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
