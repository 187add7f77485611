package gateway

import "github.com/clawdbot/clawdbot/gateway/agent"

// chatSystemEvents gives a chat turn of the main session the system
// events queued for it (the queue of gateway/system holds the main
// session's only, where the original's wake, system-event and hooks put
// them), formatted as the original's "System:" lines; other sessions get
// none. cfg is the agent config reader the runner uses.
func chatSystemEvents(s *Server, cfg func() agent.Config) func(sessionKey string) []string {
	return func(sessionKey string) []string {
		c := cfg()
		if sessionKey != c.MainSessionKey(c.DefaultAgentID()) {
			return nil
		}
		return s.f.cron.events.Drain("")
	}
}
