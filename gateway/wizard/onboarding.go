package wizard

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/internal/statefile"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// Options are wizard.start's params.
type Options struct {
	Mode      string // "local" (default) or "remote"
	Workspace string
}

// Setup is what the onboarding flow reads and writes.
type Setup interface {
	// Snapshot is the current config file.
	Snapshot() (*profiles.Snapshot, error)
	// Patch merges a JSON merge patch into the config file (validated,
	// comments kept, .bak written).
	Patch(patch []byte) *wire.ErrorShape
	// StateDir holds agents/<id>/agent/auth-profiles.json and sessions.
	StateDir() string
	// DefaultWorkspace is the profile's workspace when the config has none.
	DefaultWorkspace() string
	// Getenv reads the provider key variables.
	Getenv(string) string
}

// provider is a model provider the flow offers.
type provider struct {
	id, label, env, model, placeholder string
}

var providers = []provider{
	{"openai", "OpenAI", "OPENAI_API_KEY", "openai/gpt-4o", "sk-..."},
	{"anthropic", "Anthropic", "ANTHROPIC_API_KEY", "anthropic/claude-sonnet-4-5", "sk-ant-..."},
	{"openrouter", "OpenRouter", "OPENROUTER_API_KEY", "openrouter/anthropic/claude-sonnet-4.5", "sk-or-..."},
	{"ollama", "Ollama (local, no key)", "", "ollama/llama3.2", ""},
}

// channel is a channel the flow can enable with its bot token(s).
type channel struct {
	id, label string
	fields    []struct{ key, label string }
}

var channels = []channel{
	{"telegram", "Telegram", []struct{ key, label string }{{"botToken", "Telegram bot token (from @BotFather)"}}},
	{"discord", "Discord", []struct{ key, label string }{{"token", "Discord bot token"}}},
	{"slack", "Slack", []struct{ key, label string }{{"botToken", "Slack bot token (xoxb-...)"}, {"appToken", "Slack app token (xapp-...)"}}},
}

// Onboarding is the flow: what `clawdbot setup` writes (gateway.mode, the
// gateway token, the workspace and the sessions dir), plus the choices the
// terminal setup leaves to config editing: the model provider with its key
// (stored where the original keeps it, the agent's auth-profiles.json)
// and default model, and channels with their tokens. Nothing is written
// until every question is answered; a cancelled wizard changes nothing.
func Onboarding(o Options, st Setup) Flow {
	return func(_ context.Context, p *Prompter) error {
		snap, err := st.Snapshot()
		if err != nil {
			return err
		}
		if snap.Exists && !snap.Valid {
			return fmt.Errorf("%s is invalid; fix it (clawdbot config validate) and start the wizard again", snap.Path)
		}
		cfg := snap.Config
		if cfg == nil {
			cfg = &profiles.Config{}
		}
		if err := p.Note("Clawdbot setup", "This sets up "+snap.Path+": the workspace, a model provider, the gateway token and channels. Nothing is written before the last step."); err != nil {
			return err
		}
		if o.Mode == "remote" {
			return remote(p, st)
		}
		patch := map[string]any{}
		gateway := map[string]any{}
		if cfg.Gateway.Mode == "" {
			gateway["mode"] = "local"
		}
		if !snap.Exists {
			gateway["bind"] = "loopback"
		}

		// Workspace.
		ws := strings.TrimSpace(o.Workspace)
		if ws == "" {
			ws = strings.TrimSpace(cfg.Agents.Defaults.Workspace)
		}
		if ws == "" {
			ws = st.DefaultWorkspace()
		}
		ws, err = p.Text("Agent workspace directory", ws, "~/clawd", false, func(s string) string {
			if strings.TrimSpace(s) == "" {
				return "A workspace directory is required."
			}
			return ""
		})
		if err != nil {
			return err
		}
		ws = strings.TrimSpace(ws)
		defaults := map[string]any{}
		if ws != cfg.Agents.Defaults.Workspace {
			defaults["workspace"] = ws
		}

		// Model provider, key and default model.
		opts := []Option{}
		for _, pr := range providers {
			hint := ""
			if pr.env != "" {
				hint = "key: " + pr.env
				if st.Getenv(pr.env) != "" {
					hint = pr.env + " is set"
				}
			}
			opts = append(opts, Option{Value: pr.id, Label: pr.label, Hint: hint})
		}
		opts = append(opts, Option{Value: "skip", Label: "Skip for now"})
		choice, err := p.Select("Model provider", opts, "openai")
		if err != nil {
			return err
		}
		var key, keyProvider string
		for _, pr := range providers {
			if choice != pr.id {
				continue
			}
			if pr.env != "" {
				have := st.Getenv(pr.env) != ""
				msg := pr.label + " API key"
				if have {
					msg += " (leave empty to use " + pr.env + " from the environment)"
				}
				key, err = p.Text(msg, "", pr.placeholder, true, func(s string) string {
					if strings.TrimSpace(s) == "" && !have {
						return "An API key is required (or go back and choose Skip)."
					}
					return ""
				})
				if err != nil {
					return err
				}
				key, keyProvider = strings.TrimSpace(key), pr.id
			}
			model, err := p.Text("Default model (provider/model)", pr.model, pr.model, false, func(s string) string {
				if !strings.Contains(strings.TrimSpace(s), "/") {
					return "Use the form provider/model, e.g. " + pr.model + "."
				}
				return ""
			})
			if err != nil {
				return err
			}
			defaults["model"] = map[string]any{"primary": strings.TrimSpace(model)}
		}
		if len(defaults) > 0 {
			patch["agents"] = map[string]any{"defaults": defaults}
		}

		// Gateway token.
		auth := map[string]any{}
		tokenNote := ""
		switch {
		case cfg.Gateway.Auth.Mode == "password":
			tokenNote = "Gateway auth: password mode, unchanged."
		case cfg.Gateway.Auth.Token != "":
			keep, err := p.Confirm("Keep the existing gateway token?", true)
			if err != nil {
				return err
			}
			if keep {
				tokenNote = "Gateway token: unchanged."
				break
			}
			fallthrough
		default:
			tok, err := profiles.NewGatewayToken()
			if err != nil {
				return err
			}
			if cfg.Gateway.Auth.Mode == "" {
				auth["mode"] = "token"
			}
			auth["token"] = tok
			tokenNote = "Gateway token: a new one is in gateway.auth.token; clients need it to connect."
		}
		if len(auth) > 0 {
			gateway["auth"] = auth
		}
		if len(gateway) > 0 {
			patch["gateway"] = gateway
		}

		// Channels.
		chOpts := []Option{}
		for _, ch := range channels {
			chOpts = append(chOpts, Option{Value: ch.id, Label: ch.label})
		}
		picked, err := p.MultiSelect("Channels to enable (none is fine: the Control UI and apps work without)", chOpts, []any{})
		if err != nil {
			return err
		}
		chPatch := map[string]any{}
		for _, v := range picked {
			for _, ch := range channels {
				if v != ch.id {
					continue
				}
				entry := map[string]any{"enabled": true}
				for _, f := range ch.fields {
					tok, err := p.Text(f.label, "", "", true, func(s string) string {
						if strings.TrimSpace(s) == "" {
							return "A token is required to enable " + ch.label + "."
						}
						return ""
					})
					if err != nil {
						return err
					}
					entry[f.key] = strings.TrimSpace(tok)
				}
				chPatch[ch.id] = entry
			}
		}
		if len(chPatch) > 0 {
			patch["channels"] = chPatch
		}

		// Write.
		var done []string
		if len(patch) > 0 {
			b, _ := json.Marshal(patch)
			if e := st.Patch(b); e != nil {
				return fmt.Errorf("config not written: %s", e.Message)
			}
			done = append(done, "Updated "+snap.Path)
		}
		if key != "" {
			path, err := writeAuthProfile(st.StateDir(), keyProvider, key)
			if err != nil {
				return fmt.Errorf("API key not stored: %v", err)
			}
			done = append(done, "Stored the "+keyProvider+" API key in "+path)
		}
		for _, dir := range []string{st.StateDir(), expandHome(ws), filepath.Join(st.StateDir(), "agents", "main", "sessions")} {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("cannot create %s: %v", dir, err)
			}
		}
		done = append(done, "Workspace: "+ws, tokenNote)
		if len(chPatch) > 0 {
			done = append(done, "Channels enabled in the config; this gateway does not run channels yet.")
		}
		return p.Note("Done", strings.Join(done, "\n"))
	}
}

// remote points this install at another gateway (gateway.mode remote).
func remote(p *Prompter, st Setup) error {
	url, err := p.Text("Remote gateway URL", "", "ws://host:18789", false, func(s string) string {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "ws://") && !strings.HasPrefix(s, "wss://") {
			return "The URL starts with ws:// or wss://."
		}
		return ""
	})
	if err != nil {
		return err
	}
	tok, err := p.Text("Remote gateway token (empty for none)", "", "", true, nil)
	if err != nil {
		return err
	}
	rem := map[string]any{"url": strings.TrimSpace(url)}
	if t := strings.TrimSpace(tok); t != "" {
		rem["token"] = t
	}
	b, _ := json.Marshal(map[string]any{"gateway": map[string]any{"mode": "remote", "remote": rem}})
	if e := st.Patch(b); e != nil {
		return fmt.Errorf("config not written: %s", e.Message)
	}
	return p.Note("Done", "gateway.mode is remote; clients of this install use "+rem["url"].(string)+".")
}

// writeAuthProfile stores key as "<provider>:default" in the main agent's
// auth-profiles.json, the original's format ({version:1, profiles:{id:
// {type:"api_key", provider, key}}}), keeping every other entry.
func writeAuthProfile(stateDir, provider, key string) (string, error) {
	path := filepath.Join(stateDir, "agents", "main", "agent", "auth-profiles.json")
	doc := map[string]any{}
	if err := statefile.Read(path, &doc); err != nil {
		return "", err
	}
	if _, ok := doc["version"]; !ok {
		doc["version"] = 1
	}
	profs, _ := doc["profiles"].(map[string]any)
	if profs == nil {
		profs = map[string]any{}
	}
	profs[provider+":default"] = map[string]any{"type": "api_key", "provider": provider, "key": key}
	doc["profiles"] = profs
	return path, statefile.Write(path, doc)
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}
