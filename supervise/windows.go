package supervise

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kardianos/service"
)

// windowsConfig is the rendered form of a Windows service: the fields we
// hand to kardianos/service, as stable JSON. The SCM keeps the real
// configuration in the registry; the manager stores this rendering under
// the state dir so install can tell "unchanged" from "updated".
type windowsConfig struct {
	Name                 string            `json:"name"`
	DisplayName          string            `json:"displayName"`
	Description          string            `json:"description"`
	Executable           string            `json:"executable"`
	Arguments            []string          `json:"arguments"`
	WorkingDirectory     string            `json:"workingDirectory,omitempty"`
	StartType            string            `json:"startType"`
	OnFailure            string            `json:"onFailure,omitempty"`
	OnFailureDelay       string            `json:"onFailureDelayDuration,omitempty"`
	OnFailureResetPeriod int               `json:"onFailureResetPeriod,omitempty"`
	EnvVars              map[string]string `json:"envVars"`
}

// Option keys of kardianos/service on Windows. The library declares them in
// service_windows.go only, so they are spelled out here to keep rendering
// buildable (and testable) on every OS.
const (
	optStartType      = "StartType"
	optOnFailure      = "OnFailure"
	optOnFailureDelay = "OnFailureDelayDuration"
	optOnFailureReset = "OnFailureResetPeriod"
)

// recoveryResetSeconds is how long the service must run cleanly before the
// SCM forgets earlier failures (one day, the SCM's usual choice).
const recoveryResetSeconds = 86400

func windowsConfigFor(s Spec) windowsConfig {
	c := windowsConfig{
		Name:             s.Name,
		DisplayName:      s.Name,
		Description:      s.Description,
		Executable:       s.Program,
		Arguments:        s.Args,
		WorkingDirectory: s.WorkingDir,
		StartType:        "manual",
		EnvVars:          s.Env,
	}
	if s.Policy.RunAtLoad {
		c.StartType = "automatic"
	}
	// kardianos configures no recovery unless OnFailure is set, despite its
	// docs (kardianos/service#401): we always set it when KeepAlive is on.
	if s.Policy.KeepAlive {
		c.OnFailure = "restart"
		c.OnFailureDelay = strconv.Itoa(s.Policy.RestartSec) + "s"
		c.OnFailureResetPeriod = recoveryResetSeconds
	}
	return c
}

// WindowsServiceConfig is the kardianos/service configuration for s. The
// service runs as LocalSystem; HOME and the CLAWDBOT_* paths in EnvVars
// point it at the installing user's profile.
func WindowsServiceConfig(s Spec) *service.Config {
	c := windowsConfigFor(s)
	opt := service.KeyValue{optStartType: c.StartType}
	if c.OnFailure != "" {
		opt[optOnFailure] = c.OnFailure
		opt[optOnFailureDelay] = c.OnFailureDelay
		opt[optOnFailureReset] = c.OnFailureResetPeriod
	}
	return &service.Config{
		Name:             c.Name,
		DisplayName:      c.DisplayName,
		Description:      c.Description,
		Executable:       c.Executable,
		Arguments:        c.Arguments,
		WorkingDirectory: c.WorkingDirectory,
		EnvVars:          c.EnvVars,
		Option:           opt,
	}
}

// RenderWindows renders the Windows service configuration of s as indented
// JSON (pure; map keys come out sorted).
func RenderWindows(s Spec) ([]byte, error) {
	if s.Platform != Windows {
		return nil, fmt.Errorf("RenderWindows: spec is for %s", s.Platform)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(windowsConfigFor(s), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseWindows reads a RenderWindows rendering back into a Spec.
func ParseWindows(data []byte) (Spec, error) {
	var c windowsConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return Spec{}, fmt.Errorf("windows service config: %w", err)
	}
	if c.Executable == "" {
		return Spec{}, fmt.Errorf("windows service config %q has no executable", c.Name)
	}
	s := Spec{
		Platform:    Windows,
		Scope:       ScopeSystem,
		Name:        c.Name,
		Description: c.Description,
		Program:     c.Executable,
		Args:        c.Arguments,
		WorkingDir:  c.WorkingDirectory,
		Env:         c.EnvVars,
		Policy: Policy{
			RunAtLoad: c.StartType == "automatic",
			KeepAlive: c.OnFailure == "restart",
		},
	}
	if s.Args == nil {
		s.Args = []string{}
	}
	if s.Env == nil {
		s.Env = map[string]string{}
	}
	if s.Policy.KeepAlive {
		s.Policy.RestartSec = parseSec(c.OnFailureDelay)
	}
	s.fillFromEnv()
	return s, nil
}
