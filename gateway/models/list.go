package models

import (
	"sort"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Deps is what the models feature needs from the core.
type Deps struct {
	// Config returns the current config.
	Config func() profiles.Config
}

// Register adds models.list to reg.
func Register(reg *rpc.Registry, d Deps) {
	reg.Handle("models.list", func(*rpc.Call) (any, *wire.ErrorShape) {
		return &wire.ModelsListResult{Models: Catalog(d.Config())}, nil
	})
}

// Catalog is what models.list returns: every model of models.providers
// (with the original's fill-ins reasoning:false, input:["text"]), then the
// configured default, fallbacks and allowlist entries not listed there.
// Unlike the original it does not copy pi-ai's built-in catalog of
// hundreds of models: the picker and sessions.patch need the owner's
// models (doc/messaging.md §1.12 allows this).
func Catalog(cfg profiles.Config) []wire.ModelChoice {
	seen := map[llm.Ref]bool{}
	var out []wire.ModelChoice
	add := func(c wire.ModelChoice) {
		ref := llm.Ref{Provider: c.Provider, Model: c.ID}
		if seen[ref] || c.ID == "" {
			return
		}
		seen[ref] = true
		if c.Name == "" {
			c.Name = c.ID
		}
		if c.Reasoning == nil {
			f := false
			c.Reasoning = &f
		}
		if len(c.Input) == 0 {
			c.Input = []string{"text"}
		}
		out = append(out, c)
	}
	for id, pc := range cfg.Models.Providers {
		for _, m := range pc.Models {
			r := m.Reasoning
			add(wire.ModelChoice{ID: m.ID, Name: m.Name, Provider: NormalizeProvider(id), ContextWindow: m.ContextWindow, Reasoning: &r, Input: m.Input})
		}
	}
	r := New(Options{Config: func() profiles.Config { return cfg }})
	var refs []string
	if d := cfg.Agents.Defaults.Model; d != nil {
		refs = append(refs, d.Primary)
		refs = append(refs, d.Fallbacks...)
	}
	for key := range cfg.Agents.Defaults.Models {
		refs = append(refs, key)
	}
	if len(refs) == 0 || (cfg.Agents.Defaults.Model != nil && cfg.Agents.Defaults.Model.Primary == "") {
		refs = append(refs, DefaultProvider+"/"+DefaultModel)
	}
	for _, s := range refs {
		ref, _, ok := r.ParseRef(cfg, s)
		if !ok {
			continue
		}
		c := wire.ModelChoice{ID: ref.Model, Provider: ref.Provider}
		if ref.Provider == DefaultProvider && ref.Model == DefaultModel {
			c.ContextWindow = DefaultContextWindow
		}
		add(c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}
