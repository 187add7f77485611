// Package skills is the gateway's skills feature, as the original's
// agents/skills* and server-methods/skills.js: skills are directories
// holding a SKILL.md whose front matter names and describes them and, in
// metadata.clawdbot, lists what they need (binaries on PATH, env keys,
// config paths, OS). A skill is eligible when it is not disabled in
// skills.entries and nothing it needs is missing; eligible skills are
// listed in the agent's system prompt (Prompt).
//
// Methods: skills.status, skills.bins (node role), skills.update
// (skills.entries.<key>.enabled/apiKey/env in clawdbot.json, through
// profiles.PatchFile) and skills.install, which runs only the "download"
// kind (an HTTP(S) fetch into the skill's tools dir; no network is needed
// for a loopback or LAN URL); brew, node, go and uv installs need their
// package managers and the internet and are refused with a message that
// names the command to run by hand.
//
// It is a feature package: it imports rpc, wire and profiles only.
package skills

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
)

// Sources of a skill, by directory (the original's names).
const (
	SourceWorkspace = "clawdbot-workspace"
	SourceManaged   = "clawdbot-managed"
	SourceExtra     = "clawdbot-extra"
)

// maxSkillFile bounds what is read of one SKILL.md.
const maxSkillFile = 1 << 20

// Install is one metadata.clawdbot.install entry.
type Install struct {
	ID, Kind, Label string
	Bins, OS        []string
	Formula         string
	Package, Module string
	URL             string
	TargetDir       string
}

// Skill is one loaded skill.
type Skill struct {
	Name, Description  string
	FilePath, BaseDir  string
	Source             string
	Front              map[string]string
	Always             bool
	Emoji, Homepage    string
	SkillKey           string
	PrimaryEnv         string
	OS                 []string
	Bins, AnyBins      []string
	Env, Config        []string
	Install            []Install
	DisableModelInvoke bool
}

// Key is the skill's config key (metadata skillKey, else its name).
func (s Skill) Key() string {
	if s.SkillKey != "" {
		return s.SkillKey
	}
	return s.Name
}

// parseFront reads the front matter block the original's line parser
// accepts: key: value lines, quotes stripped, and a key with no inline
// value taking the indented lines below it (multi-line metadata JSON).
func parseFront(content string) map[string]string {
	out := map[string]string{}
	content = strings.ReplaceAll(content, "\r\n", "\n")
	if !strings.HasPrefix(content, "---\n") {
		return out
	}
	end := strings.Index(content[4:], "\n---")
	if end < 0 {
		return out
	}
	lines := strings.Split(content[4:4+end], "\n")
	for i := 0; i < len(lines); i++ {
		k, v, ok := strings.Cut(lines[i], ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" {
			var block []string
			for i+1 < len(lines) && (lines[i+1] == "" || strings.HasPrefix(lines[i+1], " ") || strings.HasPrefix(lines[i+1], "\t")) {
				i++
				block = append(block, lines[i])
			}
			v = strings.TrimSpace(strings.Join(block, "\n"))
		}
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

func strList(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// applyMetadata reads metadata (JSON5) .clawdbot into s.
func applyMetadata(s *Skill, raw string) {
	if raw == "" {
		return
	}
	norm, err := profiles.FormatJSON([]byte(raw))
	if err != nil {
		return
	}
	var meta map[string]any
	if json.Unmarshal(norm, &meta) != nil {
		return
	}
	cb, _ := meta["clawdbot"].(map[string]any)
	if cb == nil {
		return
	}
	s.Always, _ = cb["always"].(bool)
	s.Emoji, s.Homepage, s.SkillKey, s.PrimaryEnv = str(cb, "emoji"), str(cb, "homepage"), str(cb, "skillKey"), str(cb, "primaryEnv")
	s.OS = strList(cb["os"])
	if req, ok := cb["requires"].(map[string]any); ok {
		s.Bins, s.AnyBins, s.Env, s.Config = strList(req["bins"]), strList(req["anyBins"]), strList(req["env"]), strList(req["config"])
	}
	list, _ := cb["install"].([]any)
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		kind := strings.ToLower(strings.TrimSpace(firstNonEmpty(str(m, "kind"), str(m, "type"))))
		if !slices.Contains([]string{"brew", "node", "go", "uv", "download"}, kind) {
			continue
		}
		s.Install = append(s.Install, Install{ID: str(m, "id"), Kind: kind, Label: str(m, "label"), Bins: strList(m["bins"]),
			OS: strList(m["os"]), Formula: str(m, "formula"), Package: str(m, "package"), Module: str(m, "module"),
			URL: str(m, "url"), TargetDir: str(m, "targetDir")})
	}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// loadDir finds SKILL.md files under dir, recursively as pi's
// loadSkillsFromDir (hidden entries and node_modules skipped); a skill
// without a description is not loaded.
func loadDir(dir, source string, depth int) []Skill {
	ents, err := os.ReadDir(dir)
	if err != nil || depth > 8 {
		return nil
	}
	var out []Skill
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") || name == "node_modules" {
			continue
		}
		full := filepath.Join(dir, name)
		st, err := os.Stat(full) // follows symlinks, as the original
		if err != nil {
			continue
		}
		if st.IsDir() {
			out = append(out, loadDir(full, source, depth+1)...)
			continue
		}
		if name != "SKILL.md" || !st.Mode().IsRegular() {
			continue
		}
		f, err := os.Open(full)
		if err != nil {
			continue
		}
		buf := make([]byte, maxSkillFile)
		n, _ := f.Read(buf)
		f.Close()
		front := parseFront(string(buf[:n]))
		if strings.TrimSpace(front["description"]) == "" {
			continue
		}
		s := Skill{Name: firstNonEmpty(front["name"], filepath.Base(dir)), Description: front["description"], FilePath: full,
			BaseDir: dir, Source: source, Front: front}
		s.DisableModelInvoke = parseBool(front["disable-model-invocation"])
		applyMetadata(&s, front["metadata"])
		out = append(out, s)
	}
	return out
}

func parseBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "1", "on":
		return true
	}
	return false
}

// Load returns the skills of a workspace: extra dirs, then the managed
// dir, then <workspace>/skills, a later one replacing an earlier skill of
// the same name (the original's precedence).
func Load(workspace, managedDir string, extraDirs []string) []Skill {
	byName := map[string]Skill{}
	var order []string
	add := func(list []Skill) {
		for _, s := range list {
			if _, ok := byName[s.Name]; !ok {
				order = append(order, s.Name)
			}
			byName[s.Name] = s
		}
	}
	for _, d := range extraDirs {
		add(loadDir(expandHome(d), SourceExtra, 0))
	}
	add(loadDir(managedDir, SourceManaged, 0))
	add(loadDir(filepath.Join(workspace, "skills"), SourceWorkspace, 0))
	out := make([]Skill, 0, len(order))
	for _, n := range order {
		out = append(out, byName[n])
	}
	return out
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

// HasBinary reports whether bin is an executable on PATH.
func HasBinary(bin string) bool {
	_, err := exec.LookPath(bin)
	return err == nil
}

// Entry is skills.entries.<key> of the config.
type Entry struct {
	Enabled *bool             `json:"enabled,omitempty"`
	APIKey  string            `json:"apiKey,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// Settings are the parts of clawdbot.json the feature reads.
type Settings struct {
	Doc        map[string]any
	Entries    map[string]Entry
	ExtraDirs  []string
	Getenv     func(string) string
	Platform   string
	HasBinary  func(string) bool
	ManagedDir string
}

func (st Settings) platform() string {
	if st.Platform != "" {
		return st.Platform
	}
	// The original compares against process.platform names.
	if runtime.GOOS == "windows" {
		return "win32"
	}
	return runtime.GOOS
}

func (st Settings) hasBin(b string) bool {
	if st.HasBinary != nil {
		return st.HasBinary(b)
	}
	return HasBinary(b)
}

func (st Settings) getenv(k string) string {
	if st.Getenv != nil {
		return st.Getenv(k)
	}
	return os.Getenv(k)
}

// configValue is the value at a dotted path of the config document.
func configValue(doc map[string]any, path string) any {
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		if p == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func truthy(v any, path string) bool {
	switch x := v.(type) {
	case nil:
		return path == "browser.enabled" // the original's default-true path
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return strings.TrimSpace(x) != ""
	}
	return true
}
