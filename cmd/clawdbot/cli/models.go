package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/models"
	"github.com/clawdbot/clawdbot/profiles"
)

// The original's model commands (doc/messaging.md §4.2). They read and
// edit the config file directly, as the original's do, so they work with
// no gateway running.
func init() {
	Register(&Command{Path: "models list", Summary: "list the configured models and whether their provider has a key", Run: runModelsList,
		Exits: []ExitCode{{ExitOK, "listed"}, {ExitFailure, "the config could not be read"}, {Code: ExitUsage}}})
	Register(&Command{Path: "models status", Summary: "show the default model, fallbacks, aliases and which provider keys are present", Run: runModelsStatus,
		Exits: []ExitCode{{ExitOK, "shown"}, {ExitFailure, "the config could not be read"}, {Code: ExitUsage}}})
	Register(&Command{Path: "models set", Summary: "set the default model (agents.defaults.model.primary)", Run: runModelsSet,
		Exits: []ExitCode{{ExitOK, "the default model was set"}, {ExitFailure, "the config could not be read or written"}, {Code: ExitUsage}}})
}

// modelsContext is the loaded config and a resolver over it.
type modelsContext struct {
	path string
	cfg  profiles.Config
	res  *models.Resolver
}

func loadModels(env *Env) (*modelsContext, int, bool) {
	p, err := env.ResolveProfile(0)
	if err != nil {
		return nil, env.Errorf("%v", err), false
	}
	snap, err := profiles.LoadEnv(p.ConfigPath, env.Getenv)
	if err != nil {
		return nil, env.Errorf("cannot read %s: %v", p.ConfigPath, err), false
	}
	if snap.Config == nil {
		return nil, env.Fail(ExitFailure, CodeConfig, fmt.Sprintf("config %s is invalid: %v", p.ConfigPath, snap.Err()),
			"run '"+env.Hint("clawdbot config validate")+"'"), false
	}
	cfg := *snap.Config
	var warns []string
	res := models.New(models.Options{Config: func() profiles.Config { return cfg }, StateDir: p.StateDir, Getenv: env.Getenv,
		Warn: func(w string) { warns = append(warns, w) }})
	return &modelsContext{path: p.ConfigPath, cfg: cfg, res: res}, ExitOK, true
}

// modelRow is one line of models list.
type modelRow struct {
	Key           string   `json:"key"`
	Name          string   `json:"name"`
	Input         string   `json:"input"`
	ContextWindow int      `json:"contextWindow,omitempty"`
	Available     bool     `json:"available"`
	Tags          []string `json:"tags"`
}

func runModelsList(env *Env, args []string) int {
	fs := env.FlagSet("models list", "models list [--json]")
	asJSON := fs.Bool("json", false, "print the list as JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	mc, code, ok := loadModels(env)
	if !ok {
		return code
	}
	sel, _ := mc.res.Resolve("main", "")
	tags := map[string][]string{}
	if sel.Primary.Provider != "" {
		tags[sel.Primary.String()] = append(tags[sel.Primary.String()], "default")
	} else if primary := mc.defaultRef(); primary.Provider != "" {
		tags[primary.String()] = append(tags[primary.String()], "default")
	}
	for i, f := range mc.fallbacks() {
		tags[f.String()] = append(tags[f.String()], "fallback#"+strconv.Itoa(i+1))
	}
	for key, e := range mc.cfg.Agents.Defaults.Models {
		if e.Alias != "" {
			tags[key] = append(tags[key], "alias:"+e.Alias)
		}
	}
	rows := []modelRow{}
	for _, c := range models.Catalog(mc.cfg) {
		key := c.Provider + "/" + c.ID
		have, _ := mc.res.KeyStatus("main", c.Provider)
		t := tags[key]
		if t == nil {
			t = []string{}
		}
		rows = append(rows, modelRow{Key: key, Name: c.Name, Input: strings.Join(c.Input, "+"), ContextWindow: c.ContextWindow,
			Available: have || c.Provider == "ollama", Tags: t})
	}
	if *asJSON {
		b, _ := json.MarshalIndent(map[string]any{"count": len(rows), "models": rows}, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
		return ExitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "Model\tInput\tCtx\tAuth\tTags")
	for _, r := range rows {
		ctx := "-"
		if r.ContextWindow > 0 {
			ctx = strconv.Itoa(r.ContextWindow/1000) + "k"
		}
		auth := "no"
		if r.Available {
			auth = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Key, r.Input, ctx, auth, strings.Join(r.Tags, ","))
	}
	_ = tw.Flush()
	return ExitOK
}

func (mc *modelsContext) defaultRef() llm.Ref {
	if d := mc.cfg.Agents.Defaults.Model; d != nil {
		if ref, _, ok := mc.res.ParseRef(mc.cfg, d.Primary); ok {
			return ref
		}
	}
	return llm.Ref{Provider: models.DefaultProvider, Model: models.DefaultModel}
}

func (mc *modelsContext) fallbacks() []llm.Ref {
	var out []llm.Ref
	if d := mc.cfg.Agents.Defaults.Model; d != nil {
		for _, f := range d.Fallbacks {
			if ref, _, ok := mc.res.ParseRef(mc.cfg, f); ok {
				out = append(out, ref)
			}
		}
	}
	return out
}

// keyRow is one provider of models status: whether a key is present and
// where it comes from, never the key.
type keyRow struct {
	Provider string `json:"provider"`
	Present  bool   `json:"present"`
	Source   string `json:"source,omitempty"`
	Fix      string `json:"fix,omitempty"`
}

func runModelsStatus(env *Env, args []string) int {
	fs := env.FlagSet("models status", "models status [--json]")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	mc, code, ok := loadModels(env)
	if !ok {
		return code
	}
	def := mc.defaultRef()
	fbs := mc.fallbacks()
	aliases := map[string]string{}
	for key, e := range mc.cfg.Agents.Defaults.Models {
		if e.Alias != "" {
			aliases[e.Alias] = key
		}
	}
	provs := map[string]bool{def.Provider: true}
	for _, f := range fbs {
		provs[f.Provider] = true
	}
	for id := range mc.cfg.Models.Providers {
		provs[models.NormalizeProvider(id)] = true
	}
	for _, b := range []string{"anthropic", "openai", "openrouter"} {
		provs[b] = true
	}
	var keys []keyRow
	for p := range provs {
		have, src := mc.res.KeyStatus("main", p)
		r := keyRow{Provider: p, Present: have, Source: src}
		if !have && p != "ollama" {
			if env := models.EnvVar(p); env != "" {
				r.Fix = "set " + env + " or models.providers." + p + ".apiKey"
			} else {
				r.Fix = "set models.providers." + p + ".apiKey"
			}
		}
		keys = append(keys, r)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Provider < keys[j].Provider })
	_, resolveErr := mc.res.Resolve("main", "")
	if *asJSON {
		out := map[string]any{"configPath": mc.path, "defaultModel": def.String(), "fallbacks": refStrings(fbs), "aliases": aliases,
			"allowed": allowedKeys(mc.cfg), "auth": keys}
		if resolveErr != nil {
			out["error"] = resolveErr.Error()
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
		return ExitOK
	}
	w := env.Stdout
	fmt.Fprintf(w, "Config        : %s\n", mc.path)
	fmt.Fprintf(w, "Default       : %s\n", def)
	fmt.Fprintf(w, "Fallbacks (%d) : %s\n", len(fbs), orDash(strings.Join(refStrings(fbs), ", ")))
	var al []string
	for a, k := range aliases {
		al = append(al, a+" -> "+k)
	}
	sort.Strings(al)
	fmt.Fprintf(w, "Aliases (%d)   : %s\n", len(al), orDash(strings.Join(al, ", ")))
	fmt.Fprintf(w, "Allowed (%d)   : %s\n", len(allowedKeys(mc.cfg)), orDash(strings.Join(allowedKeys(mc.cfg), ", ")))
	fmt.Fprintln(w, "\nAuth")
	for _, k := range keys {
		switch {
		case k.Present:
			fmt.Fprintf(w, "- %s: key present (%s)\n", k.Provider, k.Source)
		case k.Fix == "":
			fmt.Fprintf(w, "- %s: no key needed\n", k.Provider)
		default:
			fmt.Fprintf(w, "- %s: missing (%s)\n", k.Provider, k.Fix)
		}
	}
	if resolveErr != nil {
		env.Warnf("the default model is not usable: %v", resolveErr)
	}
	return ExitOK
}

func refStrings(refs []llm.Ref) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.String())
	}
	return out
}

func allowedKeys(cfg profiles.Config) []string {
	out := []string{}
	for k := range cfg.Agents.Defaults.Models {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runModelsSet(env *Env, args []string) int {
	fs := env.FlagSet("models set", "models set <provider/model | alias>")
	if code, ok := env.Parse(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		return env.Usagef("models set", "models set needs a model, e.g. 'clawdbot models set anthropic/claude-opus-4-5'")
	}
	mc, code, ok := loadModels(env)
	if !ok {
		return code
	}
	ref, warn, _ := mc.res.ParseRef(mc.cfg, fs.Arg(0))
	if ref.Model == "" {
		return env.Usagef("models set", "model %q has no model id after the provider", fs.Arg(0))
	}
	if warn != "" {
		env.Warnf("%s", warn)
	}
	patch := map[string]any{"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": ref.String()}}}}
	if err := profiles.PatchFile(mc.path, env.Getenv, patch); err != nil {
		return env.Errorf("cannot update %s: %v", mc.path, err)
	}
	fmt.Fprintf(env.Stdout, "Updated %s\nDefault model: %s\n", mc.path, ref)
	return ExitOK
}
