package telegram

import (
	"testing"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

func TestLoaded(t *testing.T) {
	cases := []struct {
		name, root, env string
		want            bool
	}{
		{"fresh", `{}`, "", false},
		{"env token", `{}`, "1:x", true},
		{"section with a key", `{"channels":{"telegram":{"dmPolicy":"open"}}}`, "", true},
		{"empty section", `{"channels":{"telegram":{}}}`, "", false},
		{"entry enables", `{"plugins":{"entries":{"telegram":{"enabled":true}}}}`, "", true},
		{"entry disables", `{"plugins":{"entries":{"telegram":{"enabled":false}}},"channels":{"telegram":{"botToken":"x"}}}`, "", false},
		{"plugins off", `{"plugins":{"enabled":false}}`, "1:x", false},
		{"denied", `{"plugins":{"deny":["telegram"]},"channels":{"telegram":{"botToken":"x"}}}`, "", false},
		{"not allowed", `{"plugins":{"allow":["whatsapp"]},"channels":{"telegram":{"botToken":"x"}}}`, "", false},
		{"allowed", `{"plugins":{"allow":["telegram"]},"channels":{"telegram":{"botToken":"x"}}}`, "", true},
	}
	for _, c := range cases {
		got := New().Loaded(channels.LoadContext{Root: []byte(c.root), Getenv: func(k string) string {
			if k == TokenEnv {
				return c.env
			}
			return ""
		}})
		if got != c.want {
			t.Errorf("%s: Loaded = %v, want %v", c.name, got, c.want)
		}
	}
}
