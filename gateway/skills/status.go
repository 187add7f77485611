package skills

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/clawdbot/clawdbot/wire"
)

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// Status is one skill's eligibility, the original's buildSkillStatus.
func Status(s Skill, st Settings) wire.SkillStatus {
	key := s.Key()
	entry, hasEntry := st.Entries[key]
	disabled := hasEntry && entry.Enabled != nil && !*entry.Enabled
	miss := wire.SkillRequirements{Bins: []string{}, AnyBins: []string{}, Env: []string{}, Config: []string{}, OS: []string{}}
	for _, b := range s.Bins {
		if !st.hasBin(b) {
			miss.Bins = append(miss.Bins, b)
		}
	}
	if len(s.AnyBins) > 0 && !slices.ContainsFunc(s.AnyBins, st.hasBin) {
		miss.AnyBins = s.AnyBins
	}
	if len(s.OS) > 0 && !slices.Contains(s.OS, st.platform()) {
		miss.OS = s.OS
	}
	for _, e := range s.Env {
		if st.getenv(e) != "" || entry.Env[e] != "" || (entry.APIKey != "" && s.PrimaryEnv == e) {
			continue
		}
		miss.Env = append(miss.Env, e)
	}
	checks := []wire.SkillConfigCheck{}
	for _, p := range s.Config {
		v := configValue(st.Doc, p)
		ok := truthy(v, p)
		checks = append(checks, wire.SkillConfigCheck{Path: p, Value: v, Satisfied: ok})
		if !ok {
			miss.Config = append(miss.Config, p)
		}
	}
	if s.Always {
		miss = wire.SkillRequirements{Bins: []string{}, AnyBins: []string{}, Env: []string{}, Config: []string{}, OS: []string{}}
	}
	eligible := !disabled && (s.Always || len(miss.Bins)+len(miss.AnyBins)+len(miss.Env)+len(miss.Config)+len(miss.OS) == 0)
	homepage := strings.TrimSpace(firstNonEmpty(s.Homepage, s.Front["homepage"], s.Front["website"], s.Front["url"]))
	return wire.SkillStatus{
		Name: s.Name, Description: s.Description, Source: s.Source, FilePath: s.FilePath, BaseDir: s.BaseDir,
		SkillKey: key, PrimaryEnv: s.PrimaryEnv, Emoji: firstNonEmpty(s.Emoji, s.Front["emoji"]), Homepage: homepage,
		Always: s.Always, Disabled: disabled, Eligible: eligible,
		Requirements: wire.SkillRequirements{Bins: nonNil(s.Bins), AnyBins: nonNil(s.AnyBins), Env: nonNil(s.Env),
			Config: nonNil(s.Config), OS: nonNil(s.OS)},
		Missing: miss, ConfigChecks: checks, Install: installOptions(s, st),
	}
}

// installOptions lists the install entries for this OS: every download,
// else the preferred one of the original's order (uv, node, brew, go).
func installOptions(s Skill, st Settings) []wire.SkillInstallOption {
	var fit []int
	for i, in := range s.Install {
		if len(in.OS) == 0 || slices.Contains(in.OS, st.platform()) {
			fit = append(fit, i)
		}
	}
	out := []wire.SkillInstallOption{}
	if len(fit) == 0 {
		return out
	}
	opt := func(i int) wire.SkillInstallOption {
		in := s.Install[i]
		label := strings.TrimSpace(in.Label)
		if label == "" {
			switch {
			case in.Kind == "brew" && in.Formula != "":
				label = "Install " + in.Formula + " (brew)"
			case in.Kind == "node" && in.Package != "":
				label = "Install " + in.Package + " (npm)"
			case in.Kind == "go" && in.Module != "":
				label = "Install " + in.Module + " (go)"
			case in.Kind == "uv" && in.Package != "":
				label = "Install " + in.Package + " (uv)"
			case in.Kind == "download" && in.URL != "":
				u := strings.TrimSpace(in.URL)
				label = "Download " + u[strings.LastIndex(u, "/")+1:]
			default:
				label = "Run installer"
			}
		}
		return wire.SkillInstallOption{ID: installID(in, i), Kind: in.Kind, Label: label, Bins: nonNil(in.Bins)}
	}
	allDownloads := true
	for _, i := range fit {
		allDownloads = allDownloads && s.Install[i].Kind == "download"
	}
	if allDownloads {
		for _, i := range fit {
			out = append(out, opt(i))
		}
		return out
	}
	for _, kind := range []string{"uv", "node", "brew", "go"} {
		for _, i := range fit {
			if s.Install[i].Kind == kind {
				return append(out, opt(i))
			}
		}
	}
	return append(out, opt(fit[0]))
}

func installID(in Install, i int) string {
	if id := strings.TrimSpace(in.ID); id != "" {
		return id
	}
	return fmt.Sprintf("%s-%d", in.Kind, i)
}

// Bins are the binaries the skills need (requires.bins, anyBins and the
// install entries' bins), sorted and unique: skills.bins, which a node
// host uses to decide what to auto-allow.
func Bins(list []Skill) []string {
	set := map[string]bool{}
	for _, s := range list {
		for _, b := range append(append(append([]string{}, s.Bins...), s.AnyBins...), installBins(s)...) {
			if b = strings.TrimSpace(b); b != "" {
				set[b] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for b := range set {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

func installBins(s Skill) []string {
	var out []string
	for _, in := range s.Install {
		out = append(out, in.Bins...)
	}
	return out
}

func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// Prompt is the <available_skills> block of the eligible skills that allow
// model invocation, as pi's formatSkillsForPrompt ("" when there are none).
func Prompt(list []Skill, st Settings) string {
	var b strings.Builder
	n := 0
	for _, s := range list {
		if s.DisableModelInvoke || !Status(s, st).Eligible {
			continue
		}
		if n == 0 {
			b.WriteString("\n\nThe following skills provide specialized instructions for specific tasks.\n" +
				"Use the read tool to load a skill's file when the task matches its description.\n\n<available_skills>")
		}
		n++
		fmt.Fprintf(&b, "\n  <skill>\n    <name>%s</name>\n    <description>%s</description>\n    <location>%s</location>\n  </skill>",
			escapeXML(s.Name), escapeXML(s.Description), escapeXML(s.FilePath))
	}
	if n == 0 {
		return ""
	}
	b.WriteString("\n</available_skills>")
	return b.String()
}
