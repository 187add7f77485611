package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/httpapi"
	"github.com/clawdbot/clawdbot/profiles"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hooks profiles.HooksConfig
		err   string
		path  string
		n     int
	}{
		{"off", profiles.HooksConfig{}, "", "", 0},
		{"no token", profiles.HooksConfig{Enabled: true}, "hooks.enabled requires hooks.token", "", 0},
		{"root path", profiles.HooksConfig{Enabled: true, Token: "t", Path: "/"}, "hooks.path may not be '/'", "", 0},
		{"v1 path", profiles.HooksConfig{Enabled: true, Token: "t", Path: "/v1"}, "overlaps the /v1 endpoints", "", 0},
		{"defaults", profiles.HooksConfig{Enabled: true, Token: "t"}, "", "/hooks", 0},
		{"trimmed", profiles.HooksConfig{Enabled: true, Token: "t", Path: "in//"}, "", "/in", 0},
		{"mappings and preset", profiles.HooksConfig{Enabled: true, Token: "t", Presets: []string{"gmail"},
			Mappings: json.RawMessage(`[{"match":{"path":"/a/"},"messageTemplate":"x"}]`)}, "", "/hooks", 2},
		{"bad mappings", profiles.HooksConfig{Enabled: true, Token: "t", Mappings: json.RawMessage(`{}`)}, "hooks.mappings", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &profiles.Config{Hooks: tc.hooks}
			c.Gateway.HTTP.Endpoints.ChatCompletions.Enabled = true
			got, err := httpapi.ParseConfig(c, httpapi.Auth{Mode: "token", Token: "g"})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got.Hooks.Path != tc.path || len(got.Hooks.Mappings) != tc.n || !got.ChatCompletions || got.Responses ||
				got.ChatMaxBodyBytes != httpapi.DefaultChatMaxBodyBytes {
				t.Fatalf("%+v %v", got, err)
			}
			if tc.n == 2 && (got.Hooks.Mappings[0].MatchPath != "a" || got.Hooks.Mappings[0].ID != "mapping-1" || got.Hooks.Mappings[1].ID != "gmail") {
				t.Fatalf("mappings %+v", got.Hooks.Mappings)
			}
		})
	}
}
