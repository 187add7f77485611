package gateway

import (
	"net/http"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
)

// newHTTPAPI builds the HTTP API (/v1/chat/completions, /v1/responses,
// hooks) of runtime rt from its config and auth. The process-wide deps
// (the agent runtime, the system-event queue, the failed-bearer limiter)
// come from features.httpAPI; a config the original refuses to start with
// (hooks.enabled without hooks.token, hooks.path "/") fails the runtime.
func (s *Server) newHTTPAPI(rt *runtime) (*httpapi.Handler, error) {
	cfg, err := httpapi.ParseConfig(rt.cfg, httpapi.Auth{Mode: rt.auth.Mode, Token: rt.auth.Token, Password: rt.auth.Password})
	if err != nil {
		return nil, err
	}
	d := s.f.httpAPI
	d.ClientIP = func(r *http.Request) string {
		ip, _ := s.clientAddr(r, rt)
		return ip
	}
	d.Now = s.now
	d.Log = filelog.Subsystem(s.opts.Logger, "gateway/http")
	return httpapi.New(cfg, d), nil
}
