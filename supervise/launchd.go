package supervise

import (
	"fmt"

	"howett.net/plist"
)

// launchdJob is the plist we write. howett.net/plist sorts dictionary keys,
// so the output is deterministic.
type launchdJob struct {
	Label                string            `plist:"Label"`
	Comment              string            `plist:"Comment,omitempty"`
	RunAtLoad            bool              `plist:"RunAtLoad"`
	KeepAlive            bool              `plist:"KeepAlive"`
	ThrottleInterval     int               `plist:"ThrottleInterval,omitempty"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	WorkingDirectory     string            `plist:"WorkingDirectory,omitempty"`
	UserName             string            `plist:"UserName,omitempty"`
	StandardOutPath      string            `plist:"StandardOutPath,omitempty"`
	StandardErrorPath    string            `plist:"StandardErrorPath,omitempty"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables,omitempty"`
}

// launchdRead is the tolerant shape for reading plists someone else may have
// written: KeepAlive can be a dictionary of conditions.
type launchdRead struct {
	Label                string            `plist:"Label"`
	Comment              string            `plist:"Comment"`
	RunAtLoad            bool              `plist:"RunAtLoad"`
	KeepAlive            any               `plist:"KeepAlive"`
	ThrottleInterval     int               `plist:"ThrottleInterval"`
	Program              string            `plist:"Program"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	WorkingDirectory     string            `plist:"WorkingDirectory"`
	UserName             string            `plist:"UserName"`
	StandardOutPath      string            `plist:"StandardOutPath"`
	StandardErrorPath    string            `plist:"StandardErrorPath"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables"`
}

// RenderLaunchd renders s as an XML launchd plist. It is pure. Compared with
// the original (doc/supervision.md §3.2) it adds ThrottleInterval so a crash loop is paced
// at Policy.RestartSec, and UserName for a system-scope LaunchDaemon.
// XML escaping is the encoder's job.
func RenderLaunchd(s Spec) ([]byte, error) {
	if s.Platform != Launchd {
		return nil, fmt.Errorf("RenderLaunchd: spec is for %s", s.Platform)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	job := launchdJob{
		Label:                s.Name,
		Comment:              s.Description,
		RunAtLoad:            s.Policy.RunAtLoad,
		KeepAlive:            s.Policy.KeepAlive,
		ThrottleInterval:     s.Policy.RestartSec,
		ProgramArguments:     append([]string{s.Program}, s.Args...),
		WorkingDirectory:     s.WorkingDir,
		UserName:             s.User,
		StandardOutPath:      s.StdoutPath,
		StandardErrorPath:    s.StderrPath,
		EnvironmentVariables: s.Env,
	}
	b, err := plist.MarshalIndent(job, plist.XMLFormat, "  ")
	if err != nil {
		return nil, fmt.Errorf("render plist: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseLaunchd reads a plist (XML or binary) back into a Spec. A daemon
// with a UserName is taken as system scope; ReadInstalled corrects Scope
// from the file's location.
func ParseLaunchd(data []byte) (Spec, error) {
	var j launchdRead
	if _, err := plist.Unmarshal(data, &j); err != nil {
		return Spec{}, fmt.Errorf("plist: %w", err)
	}
	s := Spec{
		Platform:    Launchd,
		Scope:       ScopeUser,
		Name:        j.Label,
		Description: j.Comment,
		WorkingDir:  j.WorkingDirectory,
		User:        j.UserName,
		StdoutPath:  j.StandardOutPath,
		StderrPath:  j.StandardErrorPath,
		Env:         j.EnvironmentVariables,
		Policy: Policy{
			RunAtLoad:  j.RunAtLoad,
			RestartSec: j.ThrottleInterval,
		},
	}
	if s.Env == nil {
		s.Env = map[string]string{}
	}
	if b, ok := j.KeepAlive.(bool); ok {
		s.Policy.KeepAlive = b
	}
	switch {
	case len(j.ProgramArguments) > 0:
		s.Program, s.Args = j.ProgramArguments[0], j.ProgramArguments[1:]
		if j.Program != "" {
			s.Program = j.Program
		}
	case j.Program != "":
		s.Program = j.Program
	default:
		return Spec{}, fmt.Errorf("plist %s has neither Program nor ProgramArguments", j.Label)
	}
	if s.Args == nil {
		s.Args = []string{}
	}
	if s.User != "" {
		s.Scope = ScopeSystem
	}
	s.fillFromEnv()
	return s, nil
}
