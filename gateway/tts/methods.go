package tts

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// cleanupDelay is how long a converted audio file stays on disk for the
// client to fetch (the original's 5 minutes).
const cleanupDelay = 5 * time.Minute

// Deps are what the tts methods need.
type Deps struct {
	// Config returns the resolved config document (messages.tts is read
	// from it on every call, so edits apply without a restart).
	Config func() json.RawMessage
	// StateDir holds the default prefs file (settings/tts.json).
	StateDir string
	// Getenv reads OPENAI_API_KEY, OPENAI_TTS_BASE_URL, CLAWDBOT_TTS_PREFS
	// (os.Getenv when nil).
	Getenv func(string) string
	// TempDir is where converted audio goes (os.TempDir() when "").
	TempDir string
	// Now names the audio files (time.Now when nil).
	Now func() time.Time
	// AfterFunc schedules the removal of converted audio (time.AfterFunc
	// when nil).
	AfterFunc func(time.Duration, func())
}

// Register adds tts.status, tts.providers, tts.enable, tts.disable,
// tts.setProvider and tts.convert (async: it waits on the speech API).
func Register(reg *rpc.Registry, d Deps) {
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AfterFunc == nil {
		d.AfterFunc = func(t time.Duration, f func()) { time.AfterFunc(t, f) }
	}
	reg.Handle("tts.status", d.status)
	reg.Handle("tts.providers", d.providers)
	reg.Handle("tts.enable", func(*rpc.Call) (any, *wire.ErrorShape) { return d.setEnabled(true) })
	reg.Handle("tts.disable", func(*rpc.Call) (any, *wire.ErrorShape) { return d.setEnabled(false) })
	reg.Handle("tts.setProvider", d.setProvider)
	reg.HandleAsync("tts.convert", d.convert)
}

func (d Deps) resolve() (Config, string) {
	var doc json.RawMessage
	if d.Config != nil {
		doc = d.Config()
	}
	c := ResolveConfig(doc, d.Getenv)
	return c, prefsPath(c, d.StateDir, d.Getenv)
}

// activeProvider is the original's getTtsProvider: the prefs' choice,
// else the configured one, else the first provider with a key, else edge.
func activeProvider(c Config, p prefs) string {
	switch {
	case p.provider() != "":
		return p.provider()
	case c.ProviderFromFile:
		return c.Provider
	case c.OpenAIKey != "":
		return OpenAI
	case c.ElevenLabsKey != "":
		return ElevenLabs
	}
	return Edge
}

// order is the active provider, then the others in the original's order.
func order(primary string) []string {
	out := []string{primary}
	for _, p := range Providers {
		if p != primary {
			out = append(out, p)
		}
	}
	return out
}

func (d Deps) status(*rpc.Call) (any, *wire.ErrorShape) {
	c, path := d.resolve()
	p := readPrefs(path)
	auto := cmp.Or(p.auto(), c.Auto)
	active := activeProvider(c, p)
	fallbacks := []string{}
	for _, cand := range order(active)[1:] {
		if c.runnable(cand) {
			fallbacks = append(fallbacks, cand)
		}
	}
	res := wire.TTSStatusResult{
		Enabled: auto != "off", Auto: auto, Provider: active, FallbackProviders: fallbacks, PrefsPath: path,
		HasOpenAIKey: c.OpenAIKey != "", HasElevenLabsKey: c.ElevenLabsKey != "",
		// This gateway has no Edge TTS client: never report it usable.
		EdgeEnabled: false,
	}
	if len(fallbacks) > 0 {
		res.FallbackProvider = &fallbacks[0]
	}
	return res, nil
}

func (d Deps) providers(*rpc.Call) (any, *wire.ErrorShape) {
	c, path := d.resolve()
	return wire.TTSProvidersResult{
		Providers: []wire.TTSProvider{
			{ID: OpenAI, Name: "OpenAI", Configured: c.runnable(OpenAI), Models: slices.Clone(OpenAIModels), Voices: slices.Clone(OpenAIVoices)},
			// Listed as the original does, never configured here: this
			// gateway has no ElevenLabs or Edge client.
			{ID: ElevenLabs, Name: "ElevenLabs", Configured: false, Models: slices.Clone(ElevenLabsModels)},
			{ID: Edge, Name: "Edge TTS", Configured: false, Models: []string{}},
		},
		Active: activeProvider(c, readPrefs(path)),
	}, nil
}

// setEnabled is tts.enable/disable: auto "always"/"off" in the prefs (the
// legacy enabled key is dropped, as the original's setTtsAutoMode).
func (d Deps) setEnabled(on bool) (any, *wire.ErrorShape) {
	_, path := d.resolve()
	mode := "off"
	if on {
		mode = "always"
	}
	if err := updatePrefs(path, func(t map[string]any) { delete(t, "enabled"); t["auto"] = mode }); err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return wire.TTSEnabledResult{Enabled: on}, nil
}

func (d Deps) setProvider(c *rpc.Call) (any, *wire.ErrorShape) {
	var p struct {
		Provider any `json:"provider"`
	}
	_ = json.Unmarshal(c.Params, &p)
	s, _ := p.Provider.(string)
	s = strings.TrimSpace(s)
	if !slices.Contains(Providers, s) {
		return nil, rpc.Invalid("Invalid provider. Use openai, elevenlabs, or edge.")
	}
	_, path := d.resolve()
	if err := updatePrefs(path, func(t map[string]any) { t["provider"] = s }); err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return wire.TTSProviderResult{Provider: s}, nil
}

// ErrNoProvider is the answer of tts.convert when this gateway cannot
// speak at all.
const ErrNoProvider = "no TTS provider configured: set messages.tts.openai.apiKey or OPENAI_API_KEY (this gateway speaks through the OpenAI speech API only)"

// convert speaks text through OpenAI (the only provider this gateway
// runs) and answers the audio file's path; the file is removed after five
// minutes.
func (d Deps) convert(c *rpc.Call) (any, *wire.ErrorShape) {
	var p struct {
		Text    any `json:"text"`
		Channel any `json:"channel"`
	}
	_ = json.Unmarshal(c.Params, &p)
	text, _ := p.Text.(string)
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, rpc.Invalid("tts.convert requires text")
	}
	cfg, _ := d.resolve()
	if n := len([]rune(text)); n > cfg.MaxTextLength {
		return nil, rpc.Unavailable(fmt.Sprintf("Text too long (%d chars, max %d)", n, cfg.MaxTextLength))
	}
	channel, _ := p.Channel.(string)
	format, ext, voiceOK := "mp3", ".mp3", false
	if strings.EqualFold(strings.TrimSpace(channel), "telegram") {
		format, ext, voiceOK = "opus", ".opus", true
	}
	// The original walks its providers from the active one; of them this
	// gateway runs OpenAI only, so that is the one attempt (whichever
	// provider the prefs name), and its error is the answer.
	if cfg.OpenAIKey == "" {
		return nil, rpc.Unavailable(ErrNoProvider)
	}
	audio, err := d.openAISpeech(cfg, text, format)
	if err != nil {
		return nil, rpc.Unavailable("TTS conversion failed: openai: " + err.Error())
	}
	file, err := d.save(audio, ext)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return wire.TTSConvertResult{AudioPath: file, Provider: OpenAI, OutputFormat: format, VoiceCompatible: voiceOK}, nil
}

// speechError is a refusal worded as the original's (capitalised: UIs show
// the same text for both gateways).
type speechError string

func (e speechError) Error() string { return string(e) }

// openAISpeech is one POST /audio/speech through openai-go. The base URL
// is OPENAI_TTS_BASE_URL or api.openai.com (never OPENAI_BASE_URL, as the
// original); on api.openai.com model and voice must be known ones.
func (d Deps) openAISpeech(cfg Config, text, format string) ([]byte, error) {
	base := strings.TrimRight(cmp.Or(strings.TrimSpace(d.Getenv("OPENAI_TTS_BASE_URL")), DefaultOpenAIBaseURL), "/")
	if base == DefaultOpenAIBaseURL {
		if !slices.Contains(OpenAIModels, cfg.OpenAIModel) {
			return nil, speechError("Invalid model: " + cfg.OpenAIModel)
		}
		if !slices.Contains(OpenAIVoices, cfg.OpenAIVoice) {
			return nil, speechError("Invalid voice: " + cfg.OpenAIVoice)
		}
	}
	timeout := time.Duration(cfg.TimeoutMs) * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := openai.NewClient(option.WithAPIKey(cfg.OpenAIKey), option.WithBaseURL(base+"/"), option.WithMaxRetries(0))
	res, err := client.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{
		Model: cfg.OpenAIModel, Input: text,
		Voice:          openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String(cfg.OpenAIVoice)},
		ResponseFormat: openai.AudioSpeechNewParamsResponseFormat(format),
	})
	if err != nil {
		var apiErr *openai.Error
		switch {
		case errors.As(err, &apiErr):
			return nil, fmt.Errorf("OpenAI TTS API error (%d)", apiErr.StatusCode)
		case ctx.Err() != nil:
			return nil, errors.New("request timed out")
		}
		return nil, err
	}
	defer res.Body.Close()
	audio, err := io.ReadAll(res.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errors.New("request timed out")
		}
		return nil, err
	}
	return audio, nil
}

// save writes the audio to <tmp>/tts-*/voice-<ms><ext> and schedules the
// directory's removal.
func (d Deps) save(audio []byte, ext string) (string, error) {
	dir, err := os.MkdirTemp(d.TempDir, "tts-")
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, fmt.Sprintf("voice-%d%s", d.Now().UnixMilli(), ext))
	if err := os.WriteFile(file, audio, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	d.AfterFunc(cleanupDelay, func() { _ = os.RemoveAll(dir) })
	return file, nil
}
