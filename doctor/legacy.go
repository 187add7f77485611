package doctor

import (
	"cmp"
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
// project names (moltbot, doc/supervision.md §0) that compete for the same port.
type LegacyService struct {
	Platform supervise.Platform `json:"platform"`
	Scope    supervise.Scope    `json:"scope"`
	Label    string             `json:"label"`
	Path     string             `json:"path"`
	// Profile is the profile the legacy service ran ("" for the default),
	// from its environment or its name.
	Profile string `json:"profile,omitempty"`
	// StateDir is the state dir the legacy service ran with, when its
	// environment names one (*_STATE_DIR).
	StateDir string `json:"stateDir,omitempty"`
	// Marked says the file carries a *_SERVICE_MARKER of one of our
	// project names, i.e. a clawdbot-family installer wrote it; removing an
	// unmarked one needs --force.
	Marked bool   `json:"marked"`
	Detail string `json:"detail"`
}

// markerValues are the *_SERVICE_MARKER values of our project's names: a
// legacy file carrying one was written by a clawdbot-family installer.
var markerValues = []string{"clawdbot", "clawdis", "moltbot", "openclaw"}

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
			profile, ok := supervise.LegacyName(pl, name)
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
					for _, k := range []string{"CLAWDBOT_STATE_DIR", "MOLTBOT_STATE_DIR", "CLAWDIS_STATE_DIR"} {
						if v := s.Env[k]; v != "" {
							ls.StateDir = v
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

// samePath compares two paths after cleaning and, where they exist,
// resolving symlinks.
func samePath(a, b string) bool {
	if ra, err := filepath.EvalSymlinks(a); err == nil {
		a = ra
	}
	if rb, err := filepath.EvalSymlinks(b); err == nil {
		b = rb
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// foreignTo says why ls is not this context's service ("" when it is): it
// ran another profile, or this profile name with another state dir. Such a
// service may be the gateway another profile (or another installation)
// relies on, so removing it from here needs --force.
func (ls LegacyService) foreignTo(c *Context) string {
	if !sameProfile(ls.Profile, c.Profile.Name) {
		return "it belongs to profile " + displayProfile(ls.Profile) + ", not " + c.Profile.DisplayName()
	}
	if ls.StateDir != "" && !samePath(ls.StateDir, c.Profile.StateDir) {
		return "it ran with state dir " + ls.StateDir + ", not " + c.Profile.StateDir
	}
	return ""
}

// legacyUnit is the systemd unit name of a legacy unit file's label.
func legacyUnit(label string) string {
	if strings.HasSuffix(label, ".service") {
		return label
	}
	return label + ".service"
}

// legacyRepair backs one legacy service up, stops it, confirms it stopped
// and only then removes it; when it ran this context's profile and no
// current service is installed, it installs the current one in its place.
// A legacy service that cannot be confirmed stopped keeps its file: without
// it the manager could no longer stop the gateway, which would hold the
// port against the new one.
func legacyRepair(ls LegacyService, foreign string) *Repair {
	r := &Repair{
		Step: StepLegacy, Key: "legacy:" + ls.Path, Aggressive: !ls.Marked || foreign != "",
		Title: fmt.Sprintf("migrate legacy service %s", ls.Label),
	}
	if foreign != "" {
		r.ForceReason = foreign + "; migrate it from there (" + profiles.FormatHint(ls.Profile, "clawdbot doctor --fix") +
			") or rerun with --force to remove it from here"
	}
	r.Run = func(ctx context.Context, c *Context) ([]string, error) {
		var lines []string
		bak, err := c.backup(ls.Path)
		if err != nil {
			return lines, fmt.Errorf("%w (nothing changed)", err)
		}
		lines = append(lines, "backed up "+ls.Path+" to "+bak)
		stopped, err := stopLegacy(ctx, c, ls)
		lines = append(lines, stopped)
		if err != nil {
			return lines, fmt.Errorf("%w; kept %s", err, ls.Path)
		}
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
		if foreign != "" {
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
	}
	return r
}

// stopLegacy stops (and unloads/disables) a legacy service and then asks
// the manager whether it is really gone: the stop command's own exit status
// cannot tell "was not running" from "could not reach the manager".
func stopLegacy(ctx context.Context, c *Context, ls LegacyService) (string, error) {
	switch ls.Platform {
	case supervise.Launchd:
		domain := "gui/" + strconv.Itoa(c.UID)
		if ls.Scope == supervise.ScopeSystem {
			domain = "system"
		}
		target := domain + "/" + ls.Label
		line := "stopped: launchctl bootout " + target
		if _, err := c.Runner.Run(ctx, "launchctl", "bootout", target); err != nil {
			return "could not stop it: launchctl bootout " + target, err
		}
		out, err := c.Runner.Run(ctx, "launchctl", "print", target)
		if err != nil {
			return "could not confirm it stopped: launchctl print " + target, err
		}
		if out.Code == 0 {
			return "could not stop it: launchctl bootout " + target, fmt.Errorf("%s is still loaded after launchctl bootout", target)
		}
		return line, nil
	case supervise.Systemd:
		unit := legacyUnit(ls.Label)
		scope := []string{"--user"}
		if ls.Scope == supervise.ScopeSystem {
			scope = nil
		}
		args := append(append([]string{}, scope...), "disable", "--now", unit)
		line := "stopped: systemctl " + strings.Join(args, " ")
		out, err := c.Runner.Run(ctx, "systemctl", args...)
		if err != nil {
			return "could not stop it: systemctl " + strings.Join(args, " "), err
		}
		show := append(append([]string{}, scope...), "show", unit, "--no-pager", "--property=ActiveState")
		st, err := c.Runner.Run(ctx, "systemctl", show...)
		if err == nil && st.Code != 0 {
			err = fmt.Errorf("systemctl %s: %s", strings.Join(show, " "), cmp.Or(st.Text(), out.Text()))
		}
		if err != nil {
			return "could not confirm it stopped: systemctl " + strings.Join(args, " "), err
		}
		state := ""
		for _, l := range strings.Split(st.Stdout, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "ActiveState="); ok {
				state = v
			}
		}
		switch state {
		case "active", "activating", "reloading", "deactivating":
			msg := "it is still " + state
			if t := out.Text(); out.Code != 0 && t != "" {
				msg += ": " + t
			}
			return "could not stop it: systemctl " + strings.Join(args, " "), errors.New(msg)
		}
		return line, nil
	}
	return "", fmt.Errorf("no service manager for %s", ls.Platform)
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
