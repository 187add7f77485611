// Package models resolves which model answers a turn and calls it: the
// owner's models.* and agents.* config (doc/messaging.md §4.2), the
// built-in providers (openai, anthropic, openrouter, ollama), providers on
// the official SDKs (openai-go for openai-completions and
// openai-responses, anthropic-sdk-go for anthropic-messages), the
// retry-and-fallback chain, and the models.list method.
//
// It is a feature package: it implements gateway/llm's Resolver and
// Provider, and the core hands it the config through Deps.
package models

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/profiles"
)

// APIs a provider may speak.
const (
	APIOpenAICompletions = "openai-completions"
	APIOpenAIResponses   = "openai-responses"
	APIAnthropicMessages = "anthropic-messages"
)

// Defaults when nothing is configured (d:agents/defaults.js).
const (
	DefaultProvider      = "anthropic"
	DefaultModel         = "claude-opus-4-5"
	DefaultContextWindow = 200000
	defaultMaxTokens     = 8192
)

// builtin is a provider that works without a models.providers entry.
type builtin struct {
	baseURL, api, env string
}

var builtins = map[string]builtin{
	"openai":     {"https://api.openai.com/v1", APIOpenAIResponses, "OPENAI_API_KEY"},
	"anthropic":  {"https://api.anthropic.com", APIAnthropicMessages, "ANTHROPIC_API_KEY"},
	"openrouter": {"https://openrouter.ai/api/v1", APIOpenAICompletions, "OPENROUTER_API_KEY"},
	"ollama":     {"http://127.0.0.1:11434/v1", APIOpenAICompletions, ""},
}

// providerAliases are the original's provider spellings that name another
// provider (d:agents/model-selection.js normalizeProviderId).
var providerAliases = map[string]string{
	"z.ai":         "zai",
	"z-ai":         "zai",
	"opencode-zen": "opencode",
	"qwen":         "qwen-portal",
}

// NormalizeProvider lowercases and de-aliases a provider id.
func NormalizeProvider(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if a, ok := providerAliases[p]; ok {
		return a
	}
	return p
}

// Options configure a Resolver.
type Options struct {
	// Config returns the current config (it changes on reload).
	Config func() profiles.Config
	// StateDir holds agents/<id>/agent/auth-profiles.json.
	StateDir string
	// Getenv reads provider keys (nil: os.Getenv).
	Getenv func(string) string
	// Warn reports a config the resolver had to guess about (nil: ignored).
	Warn func(string)
	// HTTPClient carries the SDKs' requests (nil: http.DefaultClient's
	// transport); tests point it nowhere special, the base URL does that.
	HTTPClient *http.Client
	// Retry bounds the chain's retries (zero: DefaultRetry).
	Retry RetryPolicy
	// Now is the clock of auth-profile cooldowns (nil: time.Now).
	Now func() time.Time
}

// Resolver is gateway/llm's Resolver over the owner's config.
type Resolver struct{ o Options }

// New returns a Resolver.
func New(o Options) *Resolver {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	if o.Retry == (RetryPolicy{}) {
		o.Retry = DefaultRetry
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Resolver{o: o}
}

var _ llm.Resolver = (*Resolver)(nil)

// ParseRef parses "provider/model", or a bare name: an alias from
// agents.defaults.models, else anthropic/<name> (the original warns the
// same way). ok is false for an empty value.
func (r *Resolver) ParseRef(cfg profiles.Config, s string) (ref llm.Ref, warning string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return llm.Ref{}, "", false
	}
	if p, m, found := strings.Cut(s, "/"); found {
		return llm.Ref{Provider: NormalizeProvider(p), Model: strings.TrimSpace(m)}, "", true
	}
	for key, e := range cfg.Agents.Defaults.Models {
		if e.Alias != "" && strings.EqualFold(e.Alias, s) {
			if p, m, found := strings.Cut(key, "/"); found {
				return llm.Ref{Provider: NormalizeProvider(p), Model: m}, "", true
			}
		}
	}
	return llm.Ref{Provider: DefaultProvider, Model: s},
		fmt.Sprintf("model %q has no provider; using %s/%s (write it as provider/model)", s, DefaultProvider, s), true
}

// agentModel is the primary and fallbacks agentID's config names.
func (r *Resolver) agentModel(cfg profiles.Config, agentID string) (primary string, fallbacks []string) {
	if d := cfg.Agents.Defaults.Model; d != nil {
		primary, fallbacks = d.Primary, d.Fallbacks
	}
	for _, raw := range cfg.Agents.List {
		var a struct {
			ID    string          `json:"id"`
			Model json.RawMessage `json:"model"`
		}
		if json.Unmarshal(raw, &a) != nil || !strings.EqualFold(a.ID, agentID) || len(a.Model) == 0 {
			continue
		}
		var s string
		if json.Unmarshal(a.Model, &s) == nil {
			if s != "" {
				primary = s
			}
			continue
		}
		var m profiles.AgentModelConfig
		if json.Unmarshal(a.Model, &m) == nil {
			if m.Primary != "" {
				primary = m.Primary
			}
			if m.Fallbacks != nil {
				fallbacks = m.Fallbacks
			}
		}
	}
	return primary, fallbacks
}

// Allowed reports whether ref may be chosen per session: with a non-empty
// agents.defaults.models, only the refs it lists.
func Allowed(cfg profiles.Config, ref llm.Ref) bool {
	if len(cfg.Agents.Defaults.Models) == 0 {
		return true
	}
	for key := range cfg.Agents.Defaults.Models {
		if p, m, ok := strings.Cut(key, "/"); ok && NormalizeProvider(p) == ref.Provider && m == ref.Model {
			return true
		}
	}
	return false
}

// Resolve implements llm.Resolver.
func (r *Resolver) Resolve(agentID, override string) (llm.Selection, error) {
	cfg := r.o.Config()
	primaryS, fallbackS := r.agentModel(cfg, agentID)
	primary := llm.Ref{Provider: DefaultProvider, Model: DefaultModel}
	if ref, w, ok := r.ParseRef(cfg, primaryS); ok {
		primary = ref
		if w != "" {
			r.o.Warn(w)
		}
	}
	if ref, w, ok := r.ParseRef(cfg, override); ok {
		if Allowed(cfg, ref) {
			primary = ref
			if w != "" {
				r.o.Warn(w)
			}
		} else {
			r.o.Warn(fmt.Sprintf("model override %s is not in agents.defaults.models; using %s", ref, primary))
		}
	}
	refs := []llm.Ref{primary}
	for _, f := range fallbackS {
		if ref, w, ok := r.ParseRef(cfg, f); ok && !containsRef(refs, ref) {
			if w != "" {
				r.o.Warn(w)
			}
			refs = append(refs, ref)
		}
	}
	var cands []candidate
	var firstErr error
	for _, ref := range refs {
		c, err := r.candidate(cfg, agentID, ref)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			cands = append(cands, candidate{ref: ref, err: err})
			continue
		}
		cands = append(cands, c)
	}
	usable := false
	for _, c := range cands {
		usable = usable || c.err == nil
	}
	if !usable {
		return llm.Selection{}, firstErr
	}
	sel := llm.Selection{Primary: refs[0], Fallbacks: refs[1:], Chain: &Chain{cands: cands, retry: r.o.Retry}}
	if cands[0].err == nil {
		sel.ContextWindow, sel.MaxTokens = cands[0].spec.contextWindow, cands[0].spec.maxTokens
	} else if refs[0].Provider == DefaultProvider && refs[0].Model == DefaultModel {
		sel.ContextWindow = DefaultContextWindow
	}
	return sel, nil
}

func containsRef(refs []llm.Ref, r llm.Ref) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

// spec is everything a provider needs to call one model.
type spec struct {
	ref           llm.Ref
	api           string
	baseURL       string
	apiKey        string
	authHeader    bool
	headers       map[string]string
	contextWindow int
	maxTokens     int
	reasoning     bool
	cost          *profiles.ModelCost
	compat        profiles.ModelCompat
	client        *http.Client
}

// candidate is one entry of the chain: a provider, or why it cannot be
// used.
type candidate struct {
	ref      llm.Ref
	spec     spec
	provider llm.Provider
	// rot walks the provider's auth profiles (nil: one key).
	rot *rotation
	err error
}

// candidate builds ref's provider from the config, the built-ins and the
// keys on hand; a missing key or provider is a KindConfig error naming the
// fix.
func (r *Resolver) candidate(cfg profiles.Config, agentID string, ref llm.Ref) (candidate, error) {
	sp, err := r.spec(cfg, agentID, ref)
	if err != nil {
		return candidate{}, err
	}
	c := candidate{ref: ref, spec: sp}
	if rot := r.rotation(agentID, ref.Provider); rot != nil {
		// The original skips profiles in cooldown and fails over when
		// every one is.
		if f, _ := readAuthFile(rot.path); f.UsageStats[rot.current().id].unusableUntil() > rot.now().UnixMilli() {
			return candidate{}, &llm.Error{Kind: llm.KindRateLimit, Provider: ref.Provider, Model: ref.Model,
				Message: "No available auth profile for " + ref.Provider + " (all in cooldown or unavailable)."}
		}
		c.rot = rot
		c.spec.apiKey = rot.current().key
	}
	if c.provider, err = newProvider(c.spec); err != nil {
		return candidate{}, err
	}
	return c, nil
}

// rotation is the auth-profile walk of provider for agentID: nil unless
// the agent's auth-profiles.json holds a usable credential for it (the
// original prefers profiles to the environment and the config).
func (r *Resolver) rotation(agentID, provider string) *rotation {
	if r.o.StateDir == "" {
		return nil
	}
	path := AuthProfilesPath(r.o.StateDir, agentID)
	f, ok := readAuthFile(path)
	if !ok {
		return nil
	}
	order := authOrder(f, provider, r.o.Now())
	if len(order) == 0 {
		return nil
	}
	return &rotation{path: path, provider: provider, profiles: order, now: r.o.Now}
}

// newProvider builds the provider of sp's API.
func newProvider(sp spec) (llm.Provider, error) {
	switch sp.api {
	case APIOpenAICompletions:
		return newOpenAICompletions(sp), nil
	case APIOpenAIResponses:
		return newOpenAIResponses(sp), nil
	case APIAnthropicMessages:
		return newAnthropic(sp), nil
	}
	return nil, &llm.Error{Kind: llm.KindConfig, Provider: sp.ref.Provider, Model: sp.ref.Model,
		Message: fmt.Sprintf("model %s: api %q is not supported here", sp.ref, sp.api),
		Fix:     "set models.providers." + sp.ref.Provider + ".api to openai-completions, openai-responses or anthropic-messages"}
}

func (r *Resolver) spec(cfg profiles.Config, agentID string, ref llm.Ref) (spec, error) {
	sp := spec{ref: ref, client: r.o.HTTPClient, contextWindow: DefaultContextWindow, maxTokens: defaultMaxTokens}
	pc, configured := providerConfig(cfg, ref.Provider)
	bi, isBuiltin := builtins[ref.Provider]
	if !configured && (!isBuiltin || cfg.Models.Mode == "replace") {
		return sp, &llm.Error{Kind: llm.KindConfig, Provider: ref.Provider, Model: ref.Model,
			Message: fmt.Sprintf("unknown model provider %q for %s", ref.Provider, ref),
			Fix:     fmt.Sprintf("add models.providers.%s {baseUrl, apiKey, api, models} or pick a configured model in agents.defaults.model.primary", ref.Provider)}
	}
	sp.baseURL, sp.api = bi.baseURL, bi.api
	if configured {
		if pc.BaseURL != "" {
			sp.baseURL = pc.BaseURL
		}
		if pc.API != "" {
			sp.api = pc.API
		}
		sp.headers = pc.Headers
		sp.authHeader = pc.AuthHeader != nil && *pc.AuthHeader
		for _, m := range pc.Models {
			if m.ID != ref.Model {
				continue
			}
			if m.API != "" {
				sp.api = m.API
			}
			if m.ContextWindow > 0 {
				sp.contextWindow = m.ContextWindow
			}
			if m.MaxTokens > 0 {
				sp.maxTokens = m.MaxTokens
			}
			sp.reasoning, sp.cost = m.Reasoning, m.Cost
			if m.Compat != nil {
				sp.compat = *m.Compat
			}
			if len(m.Headers) > 0 {
				h := map[string]string{}
				for k, v := range sp.headers {
					h[k] = v
				}
				for k, v := range m.Headers {
					h[k] = v
				}
				sp.headers = h
			}
		}
	}
	if sp.api == "" {
		sp.api = APIOpenAICompletions
	}
	if sp.baseURL == "" {
		return sp, &llm.Error{Kind: llm.KindConfig, Provider: ref.Provider, Model: ref.Model,
			Message: "model provider " + ref.Provider + " has no baseUrl", Fix: "set models.providers." + ref.Provider + ".baseUrl"}
	}
	key, _ := r.key(cfg, agentID, ref.Provider, pc.APIKey)
	sp.apiKey = key
	if key == "" && ref.Provider != "ollama" && !isLoopback(sp.baseURL) {
		return sp, &llm.Error{Kind: llm.KindConfig, Provider: ref.Provider, Model: ref.Model,
			Message: "no API key for model provider " + ref.Provider, Fix: keyFix(ref.Provider)}
	}
	return sp, nil
}

func providerConfig(cfg profiles.Config, id string) (profiles.ModelProviderConfig, bool) {
	if pc, ok := cfg.Models.Providers[id]; ok {
		return pc, true
	}
	for k, pc := range cfg.Models.Providers {
		if NormalizeProvider(k) == id {
			return pc, true
		}
	}
	return profiles.ModelProviderConfig{}, false
}

func isLoopback(base string) bool {
	for _, p := range []string{"http://127.", "http://localhost", "http://[::1]"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// EnvVar is the environment variable a built-in provider's key is read
// from ("" when it has none).
func EnvVar(provider string) string { return builtins[provider].env }

func keyFix(provider string) string {
	if env := EnvVar(provider); env != "" {
		return fmt.Sprintf("set %s, or models.providers.%s.apiKey, or run the original's `clawdbot models auth` to write agents/<id>/agent/auth-profiles.json", env, provider)
	}
	return fmt.Sprintf("set models.providers.%s.apiKey", provider)
}

var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`) })

// Key sources, as models status names them (never the key itself).
const (
	SourceConfig      = "config"
	SourceEnv         = "env"
	SourceAuthProfile = "auth-profiles"
)

// key finds provider's key as the original's resolveApiKeyForProvider:
// the agent's auth-profiles.json first (in rotation order), then
// models.providers.<id>.apiKey (a literal, or the name of a set
// environment variable), then the built-in's environment variable.
func (r *Resolver) key(cfg profiles.Config, agentID, provider, configured string) (key, source string) {
	if rot := r.rotation(agentID, provider); rot != nil {
		return rot.current().key, SourceAuthProfile
	}
	if configured != "" {
		if envName().MatchString(configured) {
			if v := r.o.Getenv(configured); v != "" {
				return v, SourceEnv + ":" + configured
			}
		}
		return configured, SourceConfig
	}
	if env := EnvVar(provider); env != "" {
		if v := strings.TrimSpace(r.o.Getenv(env)); v != "" {
			return v, SourceEnv + ":" + env
		}
	}
	return "", ""
}

// AuthProfilesPath is where the original keeps an agent's model
// credentials (doc/messaging.md §3.1).
func AuthProfilesPath(stateDir, agentID string) string {
	if agentID == "" {
		agentID = "main"
	}
	return filepath.Join(stateDir, "agents", agentID, "agent", "auth-profiles.json")
}

// KeyStatus says whether provider has a key and where it comes from,
// without the key (for models status).
func (r *Resolver) KeyStatus(agentID, provider string) (present bool, source string) {
	cfg := r.o.Config()
	pc, _ := providerConfig(cfg, provider)
	k, src := r.key(cfg, agentID, provider, pc.APIKey)
	return k != "", src
}
