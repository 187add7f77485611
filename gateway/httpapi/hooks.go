package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hookReply is the hooks' JSON body {ok, error?, mode?, runId?}.
type hookReply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Mode  string `json:"mode,omitempty"`
	RunID string `json:"runId,omitempty"`
}

func hookText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// hookToken is the token a hook request carries: Authorization: Bearer,
// else X-Clawdbot-Token, else ?token= (doc/protocol.md §7).
func hookToken(r *http.Request) string {
	if t := bearer(r); t != "" {
		return t
	}
	if t := strings.TrimSpace(r.Header.Get("X-Clawdbot-Token")); t != "" {
		return t
	}
	return strings.TrimSpace(r.URL.Query().Get("token"))
}

// serveHooks answers POST <hooks.path>/<sub> (doc/messaging.md §6.3): the
// token first (constant-time, rate-limited per address), then the
// method, the sub-path, the body, and wake / agent / the mappings.
func (h *Handler) serveHooks(w http.ResponseWriter, r *http.Request) {
	ip := h.d.ClientIP(r)
	if h.d.Limiter.Blocked(ip) {
		w.Header().Set("Retry-After", strconv.Itoa(int(FailWindow/time.Second)))
		hookText(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	if !secretEqual(hookToken(r), h.cfg.Hooks.Token) {
		h.d.Limiter.Fail(ip)
		hookText(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		hookText(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	sub := strings.TrimLeft(strings.TrimPrefix(r.URL.Path, h.cfg.Hooks.Path), "/")
	if sub == "" {
		hookText(w, http.StatusNotFound, "Not Found")
		return
	}
	b, err := readBody(w, r, h.cfg.Hooks.MaxBodyBytes)
	if errors.Is(err, errTooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, hookReply{Error: "payload too large"})
		return
	} else if err != nil {
		writeJSON(w, http.StatusBadRequest, hookReply{Error: err.Error()})
		return
	}
	var body any = map[string]any{}
	if b = bytes.TrimSpace(b); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			writeJSON(w, http.StatusBadRequest, hookReply{Error: "SyntaxError: " + err.Error()})
			return
		}
	}
	payload, _ := body.(map[string]any)
	if payload == nil {
		payload = map[string]any{}
	}
	switch sub {
	case "wake":
		text, _ := payload["text"].(string)
		text = strings.TrimSpace(text)
		if text == "" {
			writeJSON(w, http.StatusBadRequest, hookReply{Error: "text required"})
			return
		}
		h.wake(w, text, wakeMode(payload["mode"]))
	case "agent":
		a, msg := agentAction(payload)
		if msg != "" {
			writeJSON(w, http.StatusBadRequest, hookReply{Error: msg})
			return
		}
		h.dispatchAgent(w, a)
	default:
		h.serveMapping(w, r, sub, payload)
	}
}

func wakeMode(v any) string {
	if v == "next-heartbeat" {
		return "next-heartbeat"
	}
	return "now"
}

// wake queues text for the main session and, for mode now, asks for a
// heartbeat.
func (h *Handler) wake(w http.ResponseWriter, text, mode string) {
	if h.d.System == nil || h.d.Agent == nil {
		writeJSON(w, http.StatusServiceUnavailable, hookReply{Error: "the system event queue is not available on this gateway"})
		return
	}
	h.d.System.EnqueueSystemEvent(h.d.Agent.MainSessionKey(), text)
	if mode == "now" {
		h.d.System.RequestHeartbeat("hook:wake")
	}
	writeJSON(w, http.StatusOK, hookReply{OK: true, Mode: mode})
}

// hookAgent is a normalized /hooks/agent request (or an agent mapping).
type hookAgent struct {
	message, name, wakeMode, sessionKey string
	deliver                             bool
	channel, to, model, thinking        string
	timeoutSeconds                      int
}

func optString(p map[string]any, k string) string {
	s, _ := p[k].(string)
	return strings.TrimSpace(s)
}

// agentAction normalizes a /hooks/agent body as the original's
// normalizeAgentPayload; the second result is the 400 message.
func agentAction(p map[string]any) (hookAgent, string) {
	a := hookAgent{message: optString(p, "message"), name: optString(p, "name"), wakeMode: wakeMode(p["wakeMode"]),
		sessionKey: optString(p, "sessionKey"), to: optString(p, "to"), thinking: optString(p, "thinking")}
	if a.message == "" {
		return a, "message required"
	}
	if a.name == "" {
		a.name = "Hook"
	}
	ch, ok := hookChannel(p["channel"])
	if !ok {
		return a, channelError
	}
	a.channel = ch
	if v, present := p["model"]; present {
		s, _ := v.(string)
		if a.model = strings.TrimSpace(s); a.model == "" {
			return a, "model required"
		}
	}
	a.deliver = p["deliver"] != false
	if f, ok := p["timeoutSeconds"].(float64); ok && f > 0 && !math.IsInf(f, 0) {
		a.timeoutSeconds = int(math.Floor(f))
	}
	return a, ""
}

// channelError: no channel plugins run in this gateway, so "last" is the
// only channel a hook may name (the original lists last + the loaded
// plugin ids).
const channelError = "channel must be last"

func hookChannel(v any) (string, bool) {
	if v == nil {
		return "last", true
	}
	s, ok := v.(string)
	if !ok || strings.ToLower(strings.TrimSpace(s)) != "last" {
		return "", false
	}
	return "last", true
}

// errNoDelivery: a hook asked for delivery to an explicit target, and this
// gateway has no channels to deliver through.
const errNoDelivery = "delivery to a channel target is not available: this gateway runs no channels; send deliver:false (the summary is still posted to the main session)"

// dispatchAgent starts an isolated agent turn for a and answers 202 with
// its run id, which is the id its agent events carry. When the run ends
// its summary is queued into the main session ("Hook <name>: <summary>",
// "Hook <name> (error): …"), with a heartbeat for wakeMode now.
//
// Delivery: with deliver true (the default) and the "last" channel the
// reply goes where the main session last talked; no channel runs in this
// gateway, so there is no such route and only the main-session summary
// is made, as the original does when the last route is unset. A request
// that names a target (to) with delivery on is refused with 400.
func (h *Handler) dispatchAgent(w http.ResponseWriter, a hookAgent) {
	if h.d.Agent == nil {
		writeJSON(w, http.StatusServiceUnavailable, hookReply{Error: "the agent runtime is not available on this gateway"})
		return
	}
	if a.deliver && a.to != "" {
		writeJSON(w, http.StatusBadRequest, hookReply{Error: errNoDelivery})
		return
	}
	runID := h.d.NewID()
	key := a.sessionKey
	if key == "" {
		key = "hook:" + h.d.NewID()
	}
	turn := Turn{RunID: runID, AgentID: "main", SessionKey: key, Message: a.message, Channel: "hook", Lane: "cron",
		Model: a.model, Thinking: a.thinking, Timeout: time.Duration(a.timeoutSeconds) * time.Second}
	go h.runHook(turn, a)
	writeJSON(w, http.StatusAccepted, hookReply{OK: true, RunID: runID})
}

func (h *Handler) runHook(t Turn, a hookAgent) {
	out := h.d.Agent.Run(context.Background(), t)
	var line string
	switch {
	case out.Err != "":
		line = fmt.Sprintf("Hook %s (error): %s", a.name, out.Err)
	case out.Aborted:
		line = fmt.Sprintf("Hook %s (aborted): %s", a.name, strings.TrimSpace(strings.Join(out.Texts, "\n\n")))
	default:
		line = fmt.Sprintf("Hook %s: %s", a.name, cmpOr(strings.TrimSpace(strings.Join(out.Texts, "\n\n")), "ok"))
	}
	if h.d.System == nil {
		h.d.Log.Warn("hook run ended with no system event queue to post to", "runId", t.RunID)
		return
	}
	h.d.System.EnqueueSystemEvent(h.d.Agent.MainSessionKey(), strings.TrimSpace(line))
	if a.wakeMode == "now" {
		h.d.System.RequestHeartbeat("hook:" + t.RunID)
	}
}

// serveMapping resolves sub through hooks.mappings; no match is a 404.
func (h *Handler) serveMapping(w http.ResponseWriter, r *http.Request, sub string, payload map[string]any) {
	ctx := templateContext{payload: payload, headers: map[string]any{}, query: map[string]any{}, path: sub, now: h.d.Now()}
	for k, v := range r.Header {
		ctx.headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			ctx.query[k] = v[len(v)-1]
		}
	}
	for _, m := range h.cfg.Hooks.Mappings {
		if !m.matches(sub, payload) {
			continue
		}
		if m.Transform != "" {
			h.d.Log.Warn("hook mapping has a transform module, which this gateway cannot run", "mapping", m.ID, "module", m.Transform)
			writeJSON(w, http.StatusInternalServerError, hookReply{Error: "hook mapping failed: mapping " + m.ID +
				" uses a transform module (" + m.Transform + "), which this gateway cannot run; remove transform and use templates"})
			return
		}
		if m.Action == "wake" {
			text := strings.TrimSpace(render(m.TextTemplate, ctx))
			if text == "" {
				writeJSON(w, http.StatusBadRequest, hookReply{Error: "hook mapping requires text"})
				return
			}
			h.wake(w, text, m.WakeMode)
			return
		}
		a := hookAgent{message: render(m.MessageTemplate, ctx), name: cmpOr(renderOpt(m.Name, ctx), "Hook"), wakeMode: wakeMode(m.WakeMode),
			sessionKey: renderOpt(m.SessionKey, ctx), to: renderOpt(m.To, ctx), model: renderOpt(m.Model, ctx),
			thinking: renderOpt(m.Thinking, ctx), timeoutSeconds: m.TimeoutSeconds, deliver: m.Deliver == nil || *m.Deliver}
		if strings.TrimSpace(a.message) == "" {
			writeJSON(w, http.StatusBadRequest, hookReply{Error: "hook mapping requires message"})
			return
		}
		var ch any
		if m.Channel != "" {
			ch = m.Channel
		}
		c, ok := hookChannel(ch)
		if !ok {
			writeJSON(w, http.StatusBadRequest, hookReply{Error: channelError})
			return
		}
		a.channel = c
		h.dispatchAgent(w, a)
		return
	}
	hookText(w, http.StatusNotFound, "Not Found")
}

func (m Mapping) matches(sub string, payload map[string]any) bool {
	if m.MatchPath != "" && m.MatchPath != normalizeMatchPath(sub) {
		return false
	}
	if m.MatchSource != "" {
		src, _ := payload["source"].(string)
		if src != m.MatchSource {
			return false
		}
	}
	return true
}

// templateContext is what a mapping template reads.
type templateContext struct {
	payload, headers, query map[string]any
	path                    string
	now                     time.Time
}

var (
	templateExpr = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{\s*([^}]+)\s*\}\}`) })
	pathPart     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([^.\[\]]+)|(\[(\d+)\])`) })
)

// render fills a mapping template as the original's renderTemplate:
// {{expr}} is path, now (RFC 3339 UTC with milliseconds), headers.<name>,
// query.<name>, payload.<path> or <path> (into the payload); a path has
// dotted keys and [n] indices. Missing values are empty, strings are
// themselves, numbers and booleans their JSON text, objects and arrays
// their JSON.
func render(tmpl string, ctx templateContext) string {
	if tmpl == "" {
		return ""
	}
	return templateExpr().ReplaceAllStringFunc(tmpl, func(m string) string {
		expr := strings.TrimSpace(templateExpr().FindStringSubmatch(m)[1])
		v := resolveExpr(expr, ctx)
		switch v := v.(type) {
		case nil:
			return ""
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(v)
		}
		b, _ := json.Marshal(v)
		return string(b)
	})
}

func renderOpt(tmpl string, ctx templateContext) string {
	if tmpl == "" {
		return ""
	}
	return strings.TrimSpace(render(tmpl, ctx))
}

func resolveExpr(expr string, ctx templateContext) any {
	switch {
	case expr == "path":
		return ctx.path
	case expr == "now":
		return ctx.now.UTC().Format("2006-01-02T15:04:05.000Z")
	case strings.HasPrefix(expr, "headers."):
		return getPath(ctx.headers, expr[len("headers."):])
	case strings.HasPrefix(expr, "query."):
		return getPath(ctx.query, expr[len("query."):])
	case strings.HasPrefix(expr, "payload."):
		return getPath(ctx.payload, expr[len("payload."):])
	}
	return getPath(ctx.payload, expr)
}

func getPath(root any, expr string) any {
	if expr == "" {
		return nil
	}
	cur := root
	for _, m := range pathPart().FindAllStringSubmatch(expr, -1) {
		if cur == nil {
			return nil
		}
		if m[1] != "" {
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = obj[m[1]]
			continue
		}
		i, _ := strconv.Atoi(m[3])
		arr, ok := cur.([]any)
		if !ok || i >= len(arr) {
			return nil
		}
		cur = arr[i]
	}
	return cur
}
