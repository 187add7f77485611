package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Finding is one difference between an installed definition and what we
// would write. Code is stable (doctor and scripts key on it).
type Finding struct {
	Code    string `json:"code"`
	Level   string `json:"level"` // LevelRecommended or LevelAggressive (doc/supervision.md §6.4)
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

// Finding levels: doctor applies "recommended" repairs with --repair and
// "aggressive" ones only with --repair --force (doc/supervision.md §6.2).
const (
	LevelRecommended = "recommended"
	LevelAggressive  = "aggressive"
)

// Audit codes. The first group is the original's (doc/supervision.md §6.4); the second is
// ours.
const (
	CodeCommandMissing        = "gateway-command-missing"
	CodePathMissing           = "gateway-path-missing"
	CodePathMissingDirs       = "gateway-path-missing-dirs"
	CodePathNonMinimal        = "gateway-path-nonminimal"
	CodeRuntimeBun            = "gateway-runtime-bun"
	CodeRuntimeVersionManager = "gateway-runtime-node-version-manager"
	CodeLaunchdRunAtLoad      = "launchd-run-at-load"
	CodeLaunchdKeepAlive      = "launchd-keep-alive"
	CodeLaunchdThrottle       = "launchd-throttle-interval"
	CodeAfterNetworkOnline    = "systemd-after-network-online"
	CodeWantsNetworkOnline    = "systemd-wants-network-online"
	CodeRestartSec            = "systemd-restart-sec"

	CodeMarkerMissing     = "service-marker-missing"
	CodeVersionOld        = "service-version-old"
	CodeWantedBy          = "systemd-wanted-by"
	CodeNotifyType        = "systemd-type-notify"
	CodeRestartPolicy     = "systemd-restart-always"
	CodePreventExitStatus = "systemd-restart-prevent-exit-status"
	CodeBinaryMissing     = "gateway-binary-missing"
	CodeBinaryMismatch    = "gateway-binary-mismatch"
	CodeArgsMismatch      = "gateway-args-mismatch"
	CodeEnvMismatch       = "gateway-env-mismatch"
	CodeSecretsReadable   = "gateway-secrets-world-readable"
	CodeKillModeProcess   = "systemd-kill-mode-process"
)

var versionManagerMarkers = []string{"/.nvm/", "/.fnm/", "/.volta/", "/.asdf/", "/.n/", "/.nodenv/", "/.nodebrew/", "/nvs/"}

// Audit compares an installed definition (ReadInstalled) with the one we
// would write now (SpecFor) and lists the drift. It stats the installed
// program, and uses installed.File.Mode for the secrets check.
func Audit(installed, want Spec) []Finding {
	var fs []Finding
	add := func(code, level, msg, detail string) {
		fs = append(fs, Finding{Code: code, Level: level, Message: msg, Detail: detail})
	}
	argv := append([]string{installed.Program}, installed.Args...)
	if !slices.Contains(installed.Args, "gateway") {
		add(CodeCommandMissing, LevelAggressive, "Service command does not include the gateway subcommand", strings.Join(argv, " "))
	}
	if installed.Env[EnvMarker] != MarkerValue {
		add(CodeMarkerMissing, LevelAggressive, "Service definition lacks the clawdbot marker (not written by clawdbot, or by a very old version)", EnvMarker+" missing")
	} else if v := installed.Env[EnvVersion]; v != want.Version && compareVersions(v, want.Version) < 0 {
		add(CodeVersionOld, LevelRecommended, "Service definition was written by an older clawdbot", fmt.Sprintf("%s < %s", v, want.Version))
	}

	base := strings.ToLower(filepath.Base(installed.Program))
	switch {
	case base == "bun" || base == "bun.exe":
		add(CodeRuntimeBun, LevelRecommended, "Service runs under Bun", installed.Program)
	case (base == "node" || base == "node.exe") && containsAny(installed.Program, versionManagerMarkers):
		add(CodeRuntimeVersionManager, LevelRecommended, "Service runs a Node from a version manager; it can vanish on upgrade", installed.Program)
	}
	if fi, err := os.Stat(installed.Program); err != nil || fi.IsDir() {
		add(CodeBinaryMissing, LevelRecommended, "Service program does not exist (moved or uninstalled binary)", installed.Program)
	} else if installed.Program != want.Program && want.Program != "" {
		add(CodeBinaryMismatch, LevelRecommended, "Service runs a different clawdbot binary than this one", installed.Program+" != "+want.Program)
	}
	if !slices.Equal(installed.Args, want.Args) {
		add(CodeArgsMismatch, LevelRecommended, "Service arguments differ from what install would write", strings.Join(installed.Args, " ")+" != "+strings.Join(want.Args, " "))
	}
	for _, k := range []string{EnvProfile, EnvStateDir, EnvConfig, EnvPort} {
		if installed.Env[k] != want.Env[k] {
			add(CodeEnvMismatch, LevelRecommended, "Service environment points at a different profile, state dir, config or port", fmt.Sprintf("%s=%q, expected %q", k, installed.Env[k], want.Env[k]))
		}
	}

	if installed.Platform != Windows {
		path, ok := installed.Env["PATH"]
		if !ok {
			add(CodePathMissing, LevelRecommended, "Service environment has no PATH", "")
		} else {
			have := strings.Split(path, ":")
			var missing, extra []string
			for _, d := range strings.Split(want.Env["PATH"], ":") {
				if d != "" && !slices.Contains(have, d) {
					missing = append(missing, d)
				}
			}
			for _, d := range have {
				if !slices.Contains(strings.Split(want.Env["PATH"], ":"), d) &&
					(containsAny(d+"/", versionManagerMarkers) || strings.Contains(d, "/.local/share/pnpm") || strings.Contains(d, "/pnpm/") || strings.HasSuffix(d, "/pnpm")) {
					extra = append(extra, d)
				}
			}
			if len(missing) > 0 {
				add(CodePathMissingDirs, LevelRecommended, "Service PATH lacks directories of the minimal PATH", strings.Join(missing, ", "))
			}
			if len(extra) > 0 {
				add(CodePathNonMinimal, LevelRecommended, "Service PATH includes version managers or package-manager dirs", strings.Join(extra, ", "))
			}
		}
	}

	switch installed.Platform {
	case Launchd:
		if !installed.Policy.RunAtLoad {
			add(CodeLaunchdRunAtLoad, LevelRecommended, "LaunchAgent is missing RunAtLoad=true", "")
		}
		if !installed.Policy.KeepAlive {
			add(CodeLaunchdKeepAlive, LevelRecommended, "LaunchAgent is missing KeepAlive=true", "")
		}
		// Without ThrottleInterval launchd respawns a crashing gateway at
		// its own 10 s default at best and logs "throttling respawn" with
		// no bound we chose; the original wrote none (doc/supervision.md §3.2).
		if installed.Policy.RestartSec <= 0 && want.Policy.RestartSec > 0 {
			add(CodeLaunchdThrottle, LevelRecommended, "LaunchAgent has no ThrottleInterval: a crash loop is not paced",
				fmt.Sprintf("ThrottleInterval missing, expected %d", want.Policy.RestartSec))
		}
	case Systemd:
		if !installed.Policy.NetworkOnline {
			add(CodeAfterNetworkOnline, LevelRecommended, "systemd unit is not ordered after network-online.target", "")
			add(CodeWantsNetworkOnline, LevelRecommended, "systemd unit does not want network-online.target", "")
		}
		if installed.Policy.RestartSec != want.Policy.RestartSec {
			add(CodeRestartSec, LevelRecommended, "systemd RestartSec differs from the recommended value", fmt.Sprintf("RestartSec=%d, expected %d", installed.Policy.RestartSec, want.Policy.RestartSec))
		}
		if installed.Policy.WantedBy != want.Policy.WantedBy {
			add(CodeWantedBy, LevelRecommended, "systemd unit has the wrong install target for its scope", fmt.Sprintf("WantedBy=%s, expected %s", installed.Policy.WantedBy, want.Policy.WantedBy))
		}
		if want.Policy.Notify && !installed.Policy.Notify {
			add(CodeNotifyType, LevelRecommended, "systemd unit is not Type=notify (it reports active before the gateway listens)", "")
		}
		if want.Policy.KeepAlive && !installed.Policy.KeepAlive {
			add(CodeRestartPolicy, LevelRecommended, "systemd unit does not restart the gateway when it dies (Restart=always)", "")
		}
		// KillMode=process (the original's, doc/supervision.md §3.3) kills only the main
		// process on stop or after a crash: a child it started survives,
		// keeps the port and the single-instance lock, and every restart
		// then fails to bind, forever.
		if km := installed.Policy.KillMode; km == "process" || km == "none" {
			add(CodeKillModeProcess, LevelRecommended, "systemd unit has KillMode="+km+": after a crash or kill -9 an orphaned child keeps the port and the lock, and the service never recovers",
				"KillMode="+km+", expected control-group (the default)")
		}
		if want.Policy.PreventExitStatus != 0 && installed.Policy.PreventExitStatus != want.Policy.PreventExitStatus {
			add(CodePreventExitStatus, LevelRecommended, "systemd unit respawns a gateway that exited for a fatal config error", "RestartPreventExitStatus="+strconv.Itoa(want.Policy.PreventExitStatus)+" missing")
		}
	}

	if installed.File.Mode&0o044 != 0 {
		var keys []string
		for k := range installed.Env {
			if looksSecret(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		if len(keys) > 0 {
			add(CodeSecretsReadable, LevelRecommended, "Service definition holds secrets in a file others can read; reinstall to move them into the 0600 config",
				fmt.Sprintf("%s (mode %04o): %s", installed.File.Path, installed.File.Mode, strings.Join(keys, ", ")))
		}
	}
	return fs
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// compareVersions compares dotted versions numerically (2026.1.9 <
// 2026.1.24); non-numeric parts compare as strings. "" sorts first.
func compareVersions(a, b string) int {
	pa := strings.FieldsFunc(strings.TrimPrefix(a, "v"), func(r rune) bool { return r == '.' || r == '-' || r == '+' })
	pb := strings.FieldsFunc(strings.TrimPrefix(b, "v"), func(r rune) bool { return r == '.' || r == '-' || r == '+' })
	for i := 0; i < len(pa) || i < len(pb); i++ {
		if i >= len(pa) {
			return -1
		}
		if i >= len(pb) {
			return 1
		}
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea == nil && eb == nil && na != nb:
			if na < nb {
				return -1
			}
			return 1
		case (ea != nil || eb != nil) && pa[i] != pb[i]:
			return strings.Compare(pa[i], pb[i])
		}
	}
	return 0
}
