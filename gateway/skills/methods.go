package skills

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Deps are what the skills methods need.
type Deps struct {
	// ConfigPath is clawdbot.json (skills.entries, workspaces).
	ConfigPath string
	// StateDir holds the managed skills (<state>/skills) and downloads
	// (<state>/tools/<skillKey>).
	StateDir string
	// Workspace is the default workspace when the config sets none.
	Workspace string
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
	// HTTPClient fetches download installs (nil: a client with the
	// request's timeout).
	HTTPClient *http.Client
}

// Feature loads skills and their settings; the core keeps one per process
// (skills.update serialises config writes through it).
type Feature struct {
	d  Deps
	mu sync.Mutex
}

// New returns the feature.
func New(d Deps) *Feature {
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	return &Feature{d: d}
}

// Register adds skills.status, skills.bins, skills.update, skills.install.
func Register(reg *rpc.Registry, f *Feature) {
	reg.Handle("skills.status", f.status)
	reg.Handle("skills.bins", f.bins)
	reg.Handle("skills.update", f.update)
	reg.HandleAsync("skills.install", f.install)
}

// settings reads the config now (a missing or broken file reads as {}).
func (f *Feature) settings() Settings {
	st := Settings{Doc: map[string]any{}, Entries: map[string]Entry{}, Getenv: f.d.Getenv,
		ManagedDir: filepath.Join(f.d.StateDir, "skills")}
	if snap, err := profiles.LoadEnv(f.d.ConfigPath, f.d.Getenv); err == nil && snap.Parsed != nil {
		_ = json.Unmarshal(snap.ConfigJSON(), &st.Doc)
	}
	if sk, ok := st.Doc["skills"].(map[string]any); ok {
		if raw, err := json.Marshal(sk["entries"]); err == nil {
			_ = json.Unmarshal(raw, &st.Entries)
		}
		if load, ok := sk["load"].(map[string]any); ok {
			st.ExtraDirs = strList(load["extraDirs"])
		}
	}
	return st
}

// workspaces are the default agent's workspace first, then the others'.
func (f *Feature) workspaces(doc map[string]any) []string {
	def := f.d.Workspace
	if w, ok := configValue(doc, "agents.defaults.workspace").(string); ok && w != "" {
		def = w
	}
	var out []string
	list, _ := configValue(doc, "agents.list").([]any)
	first := ""
	for _, e := range list {
		m, _ := e.(map[string]any)
		w, _ := m["workspace"].(string)
		if w == "" {
			continue
		}
		if isDef, _ := m["default"].(bool); isDef || first == "" {
			first = w
		}
		out = append(out, expandHome(w))
	}
	if first != "" {
		def = first
	}
	return append([]string{expandHome(def)}, out...)
}

// Skills are the skills of workspace with the settings they were read
// with.
func (f *Feature) Skills(workspace string) ([]Skill, Settings) {
	st := f.settings()
	if workspace == "" {
		workspace = f.workspaces(st.Doc)[0]
	}
	return Load(workspace, st.ManagedDir, st.ExtraDirs), st
}

// PromptFor is the skills block of workspace's system prompt.
func (f *Feature) PromptFor(workspace string) string {
	list, st := f.Skills(workspace)
	return Prompt(list, st)
}

// EligibleBins are the binaries of the default workspace's eligible
// skills (exec approvals' autoAllowSkills).
func (f *Feature) EligibleBins() []string {
	list, st := f.Skills("")
	var ok []Skill
	for _, s := range list {
		if Status(s, st).Eligible {
			ok = append(ok, s)
		}
	}
	return Bins(ok)
}

func (f *Feature) status(c *rpc.Call) (any, *wire.ErrorShape) {
	st := f.settings()
	ws := f.workspaces(st.Doc)[0]
	rep := wire.SkillsStatusReport{WorkspaceDir: ws, ManagedSkillsDir: st.ManagedDir, Skills: []wire.SkillStatus{}}
	for _, s := range Load(ws, st.ManagedDir, st.ExtraDirs) {
		rep.Skills = append(rep.Skills, Status(s, st))
	}
	return rep, nil
}

func (f *Feature) bins(c *rpc.Call) (any, *wire.ErrorShape) {
	st := f.settings()
	var all []Skill
	seen := map[string]bool{}
	for _, ws := range f.workspaces(st.Doc) {
		if seen[ws] {
			continue
		}
		seen[ws] = true
		all = append(all, Load(ws, st.ManagedDir, st.ExtraDirs)...)
	}
	return wire.SkillsBinsResult{Bins: Bins(all)}, nil
}

// update is skills.update: a merge patch of skills.entries.<key> spliced
// into the user's file (comments and formatting kept).
func (f *Feature) update(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SkillsUpdateParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	entry := map[string]any{}
	if p.Enabled != nil {
		entry["enabled"] = *p.Enabled
	}
	if p.APIKey != nil {
		if k := strings.TrimSpace(*p.APIKey); k != "" {
			entry["apiKey"] = k
		} else {
			entry["apiKey"] = nil
		}
	}
	if p.Env != nil {
		env := map[string]any{}
		for k, v := range p.Env {
			if k = strings.TrimSpace(k); k == "" {
				continue
			}
			if v = strings.TrimSpace(v); v == "" {
				env[k] = nil
			} else {
				env[k] = v
			}
		}
		entry["env"] = env
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	patch := map[string]any{"skills": map[string]any{"entries": map[string]any{p.SkillKey: entry}}}
	if err := profiles.PatchFile(f.d.ConfigPath, f.d.Getenv, patch); err != nil {
		return nil, rpc.Unavailable("skills.update: " + err.Error())
	}
	cur := map[string]any{}
	if e, ok := configValue(f.settings().Doc, "skills.entries."+p.SkillKey).(map[string]any); ok {
		cur = e
	}
	return wire.SkillsUpdateResult{OK: true, SkillKey: p.SkillKey, Config: cur}, nil
}

// install is skills.install. Only "download" runs here: brew, npm, go
// and uv installs fetch from the internet through package managers this
// gateway does not drive, so they are refused with the command to run.
func (f *Feature) install(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SkillsInstallParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	list, _ := f.Skills("")
	var sk *Skill
	for i := range list {
		if list[i].Name == p.Name {
			sk = &list[i]
		}
	}
	if sk == nil {
		return nil, rpc.Unavailable("Skill not found: " + p.Name)
	}
	var in *Install
	for i := range sk.Install {
		if installID(sk.Install[i], i) == p.InstallID {
			in = &sk.Install[i]
		}
	}
	if in == nil {
		return nil, rpc.Unavailable("Installer not found: " + p.InstallID)
	}
	timeout := 5 * time.Minute
	if p.TimeoutMs != nil {
		timeout = time.Duration(*p.TimeoutMs) * time.Millisecond
	}
	switch in.Kind {
	case "download":
		return f.download(sk, in, timeout)
	case "brew":
		return nil, rpc.Unavailable(fmt.Sprintf("install kind brew is not run by this gateway (it needs Homebrew and the internet); run: brew install %s", in.Formula))
	case "node":
		return nil, rpc.Unavailable(fmt.Sprintf("install kind node is not run by this gateway (it needs npm and the internet); run: npm install -g %s", in.Package))
	case "go":
		return nil, rpc.Unavailable(fmt.Sprintf("install kind go is not run by this gateway (it needs the Go toolchain and the module proxy); run: go install %s", in.Module))
	case "uv":
		return nil, rpc.Unavailable(fmt.Sprintf("install kind uv is not run by this gateway (it needs uv and the internet); run: uv tool install %s", in.Package))
	}
	return nil, rpc.Unavailable("unsupported installer")
}

// maxDownload bounds a download install.
const maxDownload = 512 << 20

func (f *Feature) download(sk *Skill, in *Install, timeout time.Duration) (any, *wire.ErrorShape) {
	url := strings.TrimSpace(in.URL)
	if url == "" {
		return nil, rpc.Unavailable("missing download url")
	}
	dir := expandHome(in.TargetDir)
	if dir == "" {
		dir = filepath.Join(f.d.StateDir, "tools", sk.Key())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	name := url[strings.LastIndex(url, "/")+1:]
	if i := strings.IndexAny(name, "?#"); i >= 0 {
		name = name[:i]
	}
	if name == "" || name == "." || name == ".." {
		name = "download"
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, rpc.Unavailable("bad download url: " + err.Error())
	}
	hc := f.d.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, rpc.Unavailable("download failed: " + err.Error())
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, rpc.Unavailable(fmt.Sprintf("download failed: HTTP %d", resp.StatusCode))
	}
	target := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".dl-*")
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, maxDownload+1))
	tmp.Close()
	if err == nil && n > maxDownload {
		err = fmt.Errorf("larger than %d bytes", maxDownload)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, rpc.Unavailable("download failed: " + err.Error())
	}
	code := 0
	res := wire.SkillsInstallResult{OK: true, Message: "Downloaded to " + target, Stdout: fmt.Sprintf("downloaded=%d", n), Code: &code}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") || strings.HasSuffix(lower, ".tar.bz2") || strings.HasSuffix(lower, ".tar") {
		if !HasBinary("tar") {
			return nil, rpc.Unavailable("tar not found on PATH")
		}
		out, err := exec.CommandContext(ctx, "tar", "xf", target, "-C", dir).CombinedOutput()
		if err != nil {
			return nil, rpc.Unavailable("extract failed: " + strings.TrimSpace(string(out)))
		}
		res.Message = "Downloaded and extracted to " + dir
	}
	return res, nil
}
