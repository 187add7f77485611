package profiles

import "encoding/json"

// ModelsConfig is models.* (doc/messaging.md §4.2): the owner's model
// providers, merged into (or replacing) the built-in ones.
type ModelsConfig struct {
	Mode      string                         `json:"mode,omitempty"` // "merge" (default) | "replace"
	Providers map[string]ModelProviderConfig `json:"providers,omitempty"`
}

// ModelProviderConfig is models.providers.<id>: one upstream and the
// models it serves.
type ModelProviderConfig struct {
	BaseURL string `json:"baseUrl,omitempty"`
	// APIKey is the key itself, or the name of an environment variable
	// holding it (as pi's models.json allows).
	APIKey string `json:"apiKey,omitempty"`
	// Auth is api-key | aws-sdk | oauth | token.
	Auth string `json:"auth,omitempty"`
	// AuthHeader sends the key as "Authorization: Bearer" even on APIs
	// whose native header is another (anthropic-messages: x-api-key).
	AuthHeader *bool             `json:"authHeader,omitempty"`
	API        string            `json:"api,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Models     []ModelDefinition `json:"models,omitempty"`
}

// ModelDefinition is one entry of models.providers.<id>.models.
type ModelDefinition struct {
	ID            string            `json:"id,omitempty"`
	Name          string            `json:"name,omitempty"`
	API           string            `json:"api,omitempty"`
	Reasoning     bool              `json:"reasoning,omitempty"`
	Input         []string          `json:"input,omitempty"` // "text", "image"
	Cost          *ModelCost        `json:"cost,omitempty"`
	ContextWindow int               `json:"contextWindow,omitempty"`
	MaxTokens     int               `json:"maxTokens,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Compat        *ModelCompat      `json:"compat,omitempty"`
}

// ModelCost is a model's price per million tokens.
type ModelCost struct {
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	CacheRead  float64 `json:"cacheRead"`
	CacheWrite float64 `json:"cacheWrite"`
}

// ModelCompat says which OpenAI-compatible request features an upstream
// accepts.
type ModelCompat struct {
	SupportsStore           *bool  `json:"supportsStore,omitempty"`
	SupportsDeveloperRole   *bool  `json:"supportsDeveloperRole,omitempty"`
	SupportsReasoningEffort *bool  `json:"supportsReasoningEffort,omitempty"`
	MaxTokensField          string `json:"maxTokensField,omitempty"` // max_completion_tokens | max_tokens
}

// AgentModelConfig is agents.defaults.model: the primary model
// ("provider/model") and the fallbacks tried after it.
type AgentModelConfig struct {
	Primary   string   `json:"primary,omitempty"`
	Fallbacks []string `json:"fallbacks,omitempty"`
}

// AgentModelEntry is one value of agents.defaults.models, whose keys are
// "provider/model": the allowlist and its aliases.
type AgentModelEntry struct {
	Alias  string          `json:"alias,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
}
