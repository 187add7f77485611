// Package tts is text to speech for the gateway's clients: tts.status,
// tts.providers, tts.enable/disable, tts.setProvider (the user's choices in
// the original's prefs file, <state>/settings/tts.json) and tts.convert,
// which speaks through the OpenAI speech API (openai-go) when an OpenAI key
// is configured. The original's other two providers, ElevenLabs and Edge
// TTS, are listed so its UIs render, but this gateway does not run them: a
// conversion falls back to OpenAI, and without a key it is a clear
// "no TTS provider configured" error, never a fake success.
package tts

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// Provider ids, in the original's fallback order.
const (
	OpenAI     = "openai"
	ElevenLabs = "elevenlabs"
	Edge       = "edge"
)

// Providers is the original's provider list (and fallback order).
var Providers = []string{OpenAI, ElevenLabs, Edge}

// OpenAIModels and OpenAIVoices are what the original accepts for
// api.openai.com (a custom OPENAI_TTS_BASE_URL accepts anything).
var (
	OpenAIModels = []string{"gpt-4o-mini-tts", "tts-1", "tts-1-hd"}
	OpenAIVoices = []string{"alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"}
)

// ElevenLabsModels is the model list tts.providers shows for ElevenLabs.
var ElevenLabsModels = []string{"eleven_multilingual_v2", "eleven_turbo_v2_5", "eleven_monolingual_v1"}

// Defaults of messages.tts, the original's.
const (
	DefaultOpenAIModel   = "gpt-4o-mini-tts"
	DefaultOpenAIVoice   = "alloy"
	DefaultMaxTextLength = 4000
	DefaultTimeoutMs     = 30000
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
)

// Config is messages.tts of the config, resolved with the defaults.
type Config struct {
	Auto             string // off | always | inbound | tagged
	Provider         string
	ProviderFromFile bool // provider set in the config (not the default)
	OpenAIKey        string
	OpenAIModel      string
	OpenAIVoice      string
	ElevenLabsKey    string
	EdgeEnabled      bool
	PrefsPath        string
	MaxTextLength    int
	TimeoutMs        int
}

// rawConfig is the part of clawdbot.json this package reads.
type rawConfig struct {
	Messages struct {
		TTS struct {
			Auto     string `json:"auto"`
			Enabled  bool   `json:"enabled"`
			Provider string `json:"provider"`
			OpenAI   struct {
				APIKey string  `json:"apiKey"`
				Model  *string `json:"model"`
				Voice  *string `json:"voice"`
			} `json:"openai"`
			ElevenLabs struct {
				APIKey string `json:"apiKey"`
			} `json:"elevenlabs"`
			Edge struct {
				Enabled *bool `json:"enabled"`
			} `json:"edge"`
			PrefsPath     string `json:"prefsPath"`
			MaxTextLength *int   `json:"maxTextLength"`
			TimeoutMs     *int   `json:"timeoutMs"`
		} `json:"tts"`
	} `json:"messages"`
}

// normalizeAuto is the original's normalizeTtsAutoMode ("" when invalid).
func normalizeAuto(v string) string {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case "off", "always", "inbound", "tagged":
		return s
	}
	return ""
}

// ResolveConfig reads messages.tts from the resolved config document
// (a broken section reads as defaults, as a config the loader accepted
// cannot have one).
func ResolveConfig(doc json.RawMessage, getenv func(string) string) Config {
	var raw rawConfig
	_ = json.Unmarshal(doc, &raw)
	t := raw.Messages.TTS
	c := Config{
		Auto: normalizeAuto(t.Auto), Provider: t.Provider, ProviderFromFile: t.Provider != "",
		OpenAIKey: t.OpenAI.APIKey, OpenAIModel: DefaultOpenAIModel, OpenAIVoice: DefaultOpenAIVoice,
		ElevenLabsKey: t.ElevenLabs.APIKey, EdgeEnabled: true,
		MaxTextLength: DefaultMaxTextLength, TimeoutMs: DefaultTimeoutMs,
	}
	if c.Auto == "" {
		c.Auto = "off"
		if t.Enabled {
			c.Auto = "always"
		}
	}
	if c.Provider == "" {
		c.Provider = Edge
	}
	if t.OpenAI.Model != nil {
		c.OpenAIModel = *t.OpenAI.Model
	}
	if t.OpenAI.Voice != nil {
		c.OpenAIVoice = *t.OpenAI.Voice
	}
	if t.Edge.Enabled != nil {
		c.EdgeEnabled = *t.Edge.Enabled
	}
	if t.MaxTextLength != nil {
		c.MaxTextLength = *t.MaxTextLength
	}
	if t.TimeoutMs != nil {
		c.TimeoutMs = *t.TimeoutMs
	}
	if c.OpenAIKey == "" {
		c.OpenAIKey = getenv("OPENAI_API_KEY")
	}
	if c.ElevenLabsKey == "" {
		c.ElevenLabsKey = cmp.Or(getenv("ELEVENLABS_API_KEY"), getenv("XI_API_KEY"))
	}
	c.PrefsPath = strings.TrimSpace(t.PrefsPath)
	return c
}

// prefsPath is the original's resolveTtsPrefsPath: messages.tts.prefsPath,
// else CLAWDBOT_TTS_PREFS, else <state>/settings/tts.json.
func prefsPath(c Config, stateDir string, getenv func(string) string) string {
	if c.PrefsPath != "" {
		return userPath(c.PrefsPath)
	}
	if p := strings.TrimSpace(getenv("CLAWDBOT_TTS_PREFS")); p != "" {
		return userPath(p)
	}
	if stateDir == "" {
		return "" // no state dir (an in-memory test gateway): prefs are not stored
	}
	return filepath.Join(stateDir, "settings", "tts.json")
}

// userPath expands a leading ~ and makes p absolute.
func userPath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// runnable reports whether this gateway can speak through provider now:
// only OpenAI, with a key.
func (c Config) runnable(provider string) bool { return provider == OpenAI && c.OpenAIKey != "" }
