package httpapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/internal/faillimit"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

// Limiter bounds failed bearers per client address with the same rule as
// the WebSocket handshake's (gateway/internal/faillimit): after MaxFails
// failures within FailWindow the address gets 429 until the window passes.
type Limiter = faillimit.Limiter

// Limits of the Limiter.
const (
	MaxFails   = faillimit.MaxFails
	FailWindow = faillimit.Window
)

// NewLimiter returns an empty limiter (now nil: time.Now).
func NewLimiter(now func() time.Time) *Limiter { return faillimit.New(now) }

// secretEqual compares a presented secret with the configured one in
// constant time (hashing first hides the length too).
func secretEqual(got, want string) bool {
	if want == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// bearer is the token of "Authorization: Bearer <t>" ("" if none).
func bearer(r *http.Request) string {
	raw := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(raw) < 7 || !strings.EqualFold(raw[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(raw[7:])
}

// authorized checks the /v1 bearer against the gateway auth: the token in
// token mode, the password in password mode; mode none lets every
// request in (doc/protocol.md §7).
func (h *Handler) authorized(r *http.Request) bool {
	a := h.cfg.Auth
	switch a.Mode {
	case "none":
		return true
	case "password":
		return secretEqual(bearer(r), a.Password)
	default:
		return secretEqual(bearer(r), a.Token)
	}
}

// apiError is the OpenAI error body {error:{message,type,code}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
}

// Error types and codes of the /v1 endpoints.
const (
	typeUnauthorized = "unauthorized"
	typeInvalid      = "invalid_request_error"
	typeNotFound     = "not_found_error"
	typeRateLimit    = "rate_limit_error"
	typeAPI          = "api_error"
	typeUnavailable  = "service_unavailable"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":{"message":"internal error","type":"api_error"}}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeAPIError(w http.ResponseWriter, status int, typ, code, msg string) {
	writeJSON(w, status, apiError{Error: apiErrorBody{Message: msg, Type: typ, Code: code}})
}

// gate runs the checks every /v1 request passes first: the bearer (before
// anything else, rate-limited per address), then the method, then the
// agent runtime's presence. It reports whether the request may go on.
func (h *Handler) gate(w http.ResponseWriter, r *http.Request) bool {
	ip := h.d.ClientIP(r)
	if h.d.Limiter.Blocked(ip) {
		w.Header().Set("Retry-After", strconv.Itoa(int(FailWindow/time.Second)))
		writeAPIError(w, http.StatusTooManyRequests, typeRateLimit, "rate_limited",
			"Too many failed authentication attempts; retry later")
		return false
	}
	if !h.authorized(r) {
		h.d.Limiter.Fail(ip)
		writeAPIError(w, http.StatusUnauthorized, typeUnauthorized, "invalid_api_key", "Unauthorized")
		return false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		hookText(w, http.StatusMethodNotAllowed, "Method Not Allowed") // the original's bytes, no newline
		return false
	}
	if h.d.Agent == nil {
		writeAPIError(w, http.StatusServiceUnavailable, typeUnavailable, "agent_unavailable",
			"the agent runtime is not available on this gateway")
		return false
	}
	return true
}

// errTooLarge is a body over its cap.
var errTooLarge = errors.New("payload too large")

// readBody reads at most limit bytes of r's body. A body over the cap is
// errTooLarge before anything more is read when Content-Length says so;
// otherwise as soon as the cap is passed.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return b, err
}

// readJSON reads and decodes a /v1 body into v, answering the error
// itself (413, 400) when it fails.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	b, err := readBody(w, r, limit)
	switch {
	case errors.Is(err, errTooLarge):
		writeAPIError(w, http.StatusRequestEntityTooLarge, typeInvalid, "payload_too_large",
			"payload too large (limit "+strconv.FormatInt(limit, 10)+" bytes)")
		return false
	case err != nil:
		writeAPIError(w, http.StatusBadRequest, typeInvalid, "invalid_body", "could not read the body: "+err.Error())
		return false
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		writeAPIError(w, http.StatusBadRequest, typeInvalid, "invalid_json", "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// sse writes server-sent events and flushes each one at once, so a delta
// leaves the process as soon as it arrives. A write error (the client went
// away) is remembered and later writes are skipped.
type sse struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
	err error
}

func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &sse{w: w, rc: http.NewResponseController(w), buf: make([]byte, 0, 512)}
	s.flush()
	return s
}

// event writes one frame: "event: <name>\n" when name is set, then
// "data: <json>\n\n".
func (s *sse) event(name string, v any) {
	if s.err != nil {
		return
	}
	s.buf = s.buf[:0]
	if name != "" {
		s.buf = append(s.buf, "event: "...)
		s.buf = append(s.buf, name...)
		s.buf = append(s.buf, '\n')
	}
	s.buf = append(s.buf, "data: "...)
	b, err := json.Marshal(v)
	if err != nil {
		s.err = err
		return
	}
	s.buf = append(s.buf, b...)
	s.buf = append(s.buf, '\n', '\n')
	s.write()
}

func (s *sse) done() {
	if s.err != nil {
		return
	}
	s.buf = append(s.buf[:0], "data: [DONE]\n\n"...)
	s.write()
}

func (s *sse) write() {
	if _, err := s.w.Write(s.buf); err != nil {
		s.err = err
		return
	}
	s.flush()
}

func (s *sse) flush() {
	if err := s.rc.Flush(); err != nil && s.err == nil {
		s.err = err
	}
}

// agentFromModel is the agent id a model name selects: clawdbot:<id>,
// clawdbot/<id> or agent:<id> (case-insensitive), "" otherwise.
func agentFromModel(model string) string {
	m := strings.TrimSpace(model)
	lower := strings.ToLower(m)
	var id string
	switch {
	case strings.HasPrefix(lower, "clawdbot:"), strings.HasPrefix(lower, "clawdbot/"):
		id = lower[len("clawdbot:"):]
	case strings.HasPrefix(lower, "agent:"):
		id = lower[len("agent:"):]
	default:
		return ""
	}
	if !validAgentID(id) {
		return ""
	}
	return id
}

// validAgentID: [a-z0-9][a-z0-9_-]{0,63}.
func validAgentID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '_' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

// normalizeAgentID is the original's normalizeAgentId, the one rule in
// gateway/sessionstore (a copy here once mapped each bad character to "-"
// without collapsing runs, so cron and sessions could disagree on an id).
func normalizeAgentID(id string) string { return sessionstore.NormalizeAgentID(id) }

// target resolves the agent and session of a /v1 request (doc/messaging.md
// §6.1): the x-clawdbot-agent-id (or x-clawdbot-agent) header, else the
// model name, else main; the x-clawdbot-session-key header verbatim, else
// agent:<id>:<prefix>-user:<user>, else agent:<id>:<prefix>:<uuid>. An
// unknown agent is a 404, answered here.
func (h *Handler) target(w http.ResponseWriter, r *http.Request, model, user, prefix string) (agentID, sessionKey string, ok bool) {
	raw := cmpOr(strings.TrimSpace(r.Header.Get("X-Clawdbot-Agent-Id")), strings.TrimSpace(r.Header.Get("X-Clawdbot-Agent")))
	if raw != "" {
		agentID = normalizeAgentID(raw)
	} else if id := agentFromModel(model); id != "" {
		agentID = id
	} else {
		agentID = "main"
	}
	if !h.d.Agent.KnownAgent(agentID) {
		writeAPIError(w, http.StatusNotFound, typeNotFound, "agent_not_found",
			"unknown agent \""+agentID+"\": add it to agents.list or use model \"clawdbot:<agentId>\" of a configured agent")
		return "", "", false
	}
	if k := strings.TrimSpace(r.Header.Get("X-Clawdbot-Session-Key")); k != "" {
		return agentID, k, true
	}
	if u := strings.TrimSpace(user); u != "" {
		return agentID, "agent:" + agentID + ":" + prefix + "-user:" + u, true
	}
	return agentID, "agent:" + agentID + ":" + prefix + ":" + h.d.NewID(), true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// History markers of the original's buildHistoryContext.
const (
	historyMarker = "[Chat messages since your last reply - for context]"
	currentMarker = "[Current message - respond to this]"
)

// entry is one conversation message of a request body.
type entry struct {
	role, sender, body string
}

// buildPrompt turns a request's conversation into the turn's message as
// the original does: the last user or tool entry is the current message;
// earlier entries become a history block before it.
func buildPrompt(entries []entry) string {
	if len(entries) == 0 {
		return ""
	}
	cur := -1
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].role == "user" || entries[i].role == "tool" {
			cur = i
			break
		}
	}
	if cur < 0 {
		cur = len(entries) - 1
	}
	if cur == 0 {
		return entries[0].body
	}
	var b strings.Builder
	b.WriteString(historyMarker)
	for _, e := range entries[:cur] {
		b.WriteString("\n" + e.sender + ": " + e.body)
	}
	b.WriteString("\n\n" + currentMarker + "\n" + entries[cur].sender + ": " + entries[cur].body)
	return b.String()
}

// replyText is the non-empty payload texts joined by blank lines ("" for
// none).
func replyText(texts []string) string {
	var parts []string
	for _, t := range texts {
		if t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n\n")
}

// joinTexts is the reply of a run: the non-empty payload texts joined by
// blank lines, or the original's placeholder.
func joinTexts(texts []string) string {
	if s := replyText(texts); s != "" {
		return s
	}
	return "No response from Clawdbot."
}
