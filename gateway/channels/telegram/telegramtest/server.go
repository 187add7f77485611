// Package telegramtest is a fake Telegram Bot API server on loopback for
// tests. It is a fake because the real api.telegram.org cannot be reached
// from here (no test leaves loopback); it speaks the real wire format
// (POST /bot<token>/<method>, JSON or multipart bodies, {ok,result} and
// {ok:false,error_code,description} answers), so the channel under test runs
// its real telego client against it through channels.telegram.apiRoot.
//
// It serves getMe, getUpdates (a real long poll honouring offset and
// timeout, fed by Push*), sendMessage (recorded; the 4096-char limit and,
// when asked, the real "can't parse entities" rejection of HTML),
// sendChatAction, sendPhoto/sendDocument/sendVideo/sendAudio/sendAnimation
// (media by URL or upload), getFile and /file/bot<token>/<path> downloads,
// setMessageReaction, setMyCommands,
// deleteWebhook/setWebhook/getWebhookInfo, and failure modes: a 409 conflict
// on getUpdates, 429 flood control, 5xx answers and dropped connections.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is a bot token of the shape telego accepts (^\d+:[\w-]{35}$).
const Token = "123456789:AAHfakefakefakefakefakefakefakefake"

// BotID and BotUsername are the identity getMe reports.
const (
	BotID       int64 = 123456789
	BotUsername       = "clawdfake_bot"
)

// ConflictDescription is the real API's text for a second poller.
const ConflictDescription = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

// ParseEntitiesDescription is the real API's text for HTML it cannot parse.
const ParseEntitiesDescription = "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"

// Request is one recorded API call.
type Request struct {
	Method string
	// Params holds the JSON body, or the multipart text fields.
	Params map[string]any
	// Files holds the multipart uploads: field name → file name and size.
	Files map[string]File
	At    time.Time
}

// File is one multipart upload.
type File struct {
	Name string
	Size int
}

// Str returns a parameter as a string (numbers are formatted).
func (r Request) Str(key string) string {
	switch v := r.Params[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Server is the fake Bot API. Its zero value is not usable; call New.
type Server struct {
	*httptest.Server

	mu          sync.Mutex
	updates     []json.RawMessage // pending, in update_id order
	updateIDs   []int64
	nextUpdate  int64
	nextMessage int64
	wake        chan struct{}
	requests    []Request
	recorded    chan struct{}

	rejectHTML bool
	conflict   bool
	failures   map[string][]int // method ("*" any) → queued statuses; 0 = drop the connection
	rateLimits map[string][]int // method → queued retry_after values of 429 answers
	files      map[string]fakeFile
	webhookURL string
	webhookKey string
	maxPoll    time.Duration
}

// New starts a fake on 127.0.0.1 and closes it when the test ends.
func New(t testing.TB) *Server {
	s := &Server{nextUpdate: 1000, nextMessage: 1, wake: make(chan struct{}), recorded: make(chan struct{}), failures: map[string][]int{}, rateLimits: map[string][]int{}, files: map[string]fakeFile{}, maxPoll: 5 * time.Second}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIRoot is the value for channels.telegram.apiRoot.
func (s *Server) APIRoot() string { return s.URL }

// SetRejectHTML makes sendMessage answer parse_mode HTML with the real
// 400 "can't parse entities".
func (s *Server) SetRejectHTML(on bool) { s.mu.Lock(); s.rejectHTML = on; s.mu.Unlock() }

// SetConflict makes getUpdates answer 409 as when another poller runs.
func (s *Server) SetConflict(on bool) { s.mu.Lock(); s.conflict = on; s.mu.Unlock() }

// SetMaxPoll caps how long one getUpdates waits, whatever timeout it asks
// for, so a test's shutdown does not wait out a 30 s long poll.
func (s *Server) SetMaxPoll(d time.Duration) { s.mu.Lock(); s.maxPoll = d; s.mu.Unlock() }

// FailNext queues failures for method ("*" for any): each status answers
// one call (a 5xx with an HTML body as a proxy would send); 0 drops the
// connection without an answer.
func (s *Server) FailNext(method string, statuses ...int) {
	s.mu.Lock()
	s.failures[method] = append(s.failures[method], statuses...)
	s.mu.Unlock()
}

// RateLimitNext makes the next calls of method answer the real 429
// "Too Many Requests: retry after N" with parameters.retry_after N, one
// per value given.
func (s *Server) RateLimitNext(method string, retryAfter ...int) {
	s.mu.Lock()
	s.rateLimits[method] = append(s.rateLimits[method], retryAfter...)
	s.mu.Unlock()
}

type fakeFile struct {
	path string
	data []byte
}

// AddFile makes fileID downloadable: getFile answers filePath and
// /file/bot<token>/<filePath> serves data.
func (s *Server) AddFile(fileID, filePath string, data []byte) {
	s.mu.Lock()
	s.files[fileID] = fakeFile{path: filePath, data: data}
	s.mu.Unlock()
}

// PushPhotoDM queues a private photo message with a caption; fileID
// should be registered with AddFile for the download to succeed.
func (s *Server) PushPhotoDM(p Sender, fileID, caption string) int64 {
	chat := map[string]any{"id": p.ID, "type": "private", "first_name": p.user()["first_name"]}
	m := s.message(chat, p, "", nil)
	delete(m, "text")
	m["caption"] = caption
	m["photo"] = []map[string]any{{"file_id": fileID, "file_unique_id": "u" + fileID, "width": 90, "height": 90}}
	return s.PushUpdate(map[string]any{"message": m})
}

// PushUpdate queues a raw update; update_id is assigned and returned.
func (s *Server) PushUpdate(update map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpdate
	s.nextUpdate++
	update["update_id"] = id
	b, _ := json.Marshal(update)
	s.updates = append(s.updates, b)
	s.updateIDs = append(s.updateIDs, id)
	close(s.wake)
	s.wake = make(chan struct{})
	return id
}

// Sender is who writes a pushed message.
type Sender struct {
	ID        int64
	Username  string
	FirstName string
	LastName  string
}

func (p Sender) user() map[string]any {
	u := map[string]any{"id": p.ID, "is_bot": false, "first_name": p.FirstName}
	if p.FirstName == "" {
		u["first_name"] = "User"
	}
	if p.Username != "" {
		u["username"] = p.Username
	}
	if p.LastName != "" {
		u["last_name"] = p.LastName
	}
	return u
}

// PushDM queues a private-chat text message from p (chat id = user id).
func (s *Server) PushDM(p Sender, text string) int64 {
	chat := map[string]any{"id": p.ID, "type": "private", "first_name": p.user()["first_name"]}
	return s.PushUpdate(map[string]any{"message": s.message(chat, p, text, nil)})
}

// PushGroup queues a group message; mention adds a real mention entity for
// the bot's username at the start of the text ("@<bot> " is prepended).
func (s *Server) PushGroup(chatID int64, p Sender, text string, mention bool) int64 {
	chat := map[string]any{"id": chatID, "type": "supergroup", "title": "Test group"}
	var entities []map[string]any
	if mention {
		at := "@" + BotUsername
		text = at + " " + text
		entities = append(entities, map[string]any{"type": "mention", "offset": 0, "length": len(at)})
	}
	return s.PushUpdate(map[string]any{"message": s.message(chat, p, text, entities)})
}

// PushReplyToBot queues a group message replying to the bot's message id.
func (s *Server) PushReplyToBot(chatID int64, p Sender, text string, botMessageID int64) int64 {
	chat := map[string]any{"id": chatID, "type": "supergroup", "title": "Test group"}
	msg := s.message(chat, p, text, nil)
	msg["reply_to_message"] = map[string]any{
		"message_id": botMessageID, "date": time.Now().Unix(), "chat": chat, "text": "earlier",
		"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "Fake", "username": BotUsername},
	}
	return s.PushUpdate(map[string]any{"message": msg})
}

func (s *Server) message(chat map[string]any, p Sender, text string, entities []map[string]any) map[string]any {
	s.mu.Lock()
	id := s.nextMessage
	s.nextMessage++
	s.mu.Unlock()
	m := map[string]any{"message_id": id, "date": time.Now().Unix(), "chat": chat, "from": p.user(), "text": text}
	if entities != nil {
		m["entities"] = entities
	}
	return m
}

// Requests returns the recorded calls of method ("" for all).
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// WaitRequests waits until method has been called at least n times and
// returns those calls; it fails the test after timeout.
func (s *Server) WaitRequests(t testing.TB, method string, n int, timeout time.Duration) []Request {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.recorded
		s.mu.Unlock()
		if got := s.Requests(method); len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("telegramtest: %d %s call(s) after %v, want %d", len(s.Requests(method)), method, timeout, n)
			return nil
		}
	}
}

// Webhook returns what setWebhook last set (URL and secret_token).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookKey
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	close(s.recorded)
	s.recorded = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) takeFailure(method string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{method, "*"} {
		if q := s.failures[key]; len(q) > 0 {
			s.failures[key] = q[1:]
			return q[0], true
		}
	}
	return 0, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.serveFile(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeErr(w, http.StatusNotFound, "Not Found")
		return
	}
	if token != Token {
		writeErr(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	req, err := parseRequest(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	req.Method = method
	req.At = time.Now()
	if status, fail := s.takeFailure(method); fail {
		s.record(req)
		if status == 0 {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status))
		return
	}
	s.mu.Lock()
	var limited []int
	if q := s.rateLimits[method]; len(q) > 0 {
		limited, s.rateLimits[method] = q[:1], q[1:]
	}
	s.mu.Unlock()
	if limited != nil {
		s.record(req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": 429,
			"description": fmt.Sprintf("Too Many Requests: retry after %d", limited[0]),
			"parameters":  map[string]any{"retry_after": limited[0]}})
		return
	}
	if method == "getUpdates" {
		s.getUpdates(w, r, req)
		return
	}
	s.record(req)
	switch method {
	case "getMe":
		writeOK(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "Fake", "username": BotUsername,
			"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false})
	case "sendMessage":
		s.sendMessage(w, req)
	case "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendAnimation", "sendVoice":
		field := strings.ToLower(strings.TrimPrefix(method, "send"))
		if req.Params[field] == nil && req.Files[field].Name == "" {
			writeErr(w, http.StatusBadRequest, "Bad Request: there is no "+field+" in the request")
			return
		}
		writeOK(w, s.sentMessage(req, map[string]any{"caption": req.Str("caption")}))
	case "sendChatAction", "setMessageReaction", "setMyCommands", "deleteWebhook":
		if method == "deleteWebhook" {
			s.mu.Lock()
			s.webhookURL, s.webhookKey = "", ""
			s.mu.Unlock()
		}
		writeOK(w, true)
	case "setWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookKey = req.Str("url"), req.Str("secret_token")
		s.mu.Unlock()
		writeOK(w, true)
	case "getFile":
		s.mu.Lock()
		f, ok := s.files[req.Str("file_id")]
		s.mu.Unlock()
		if !ok {
			writeErr(w, http.StatusBadRequest, "Bad Request: invalid file_id")
			return
		}
		writeOK(w, map[string]any{"file_id": req.Str("file_id"), "file_unique_id": "u" + req.Str("file_id"), "file_size": len(f.data), "file_path": f.path})
	case "getWebhookInfo":
		url, _ := s.Webhook()
		writeOK(w, map[string]any{"url": url, "has_custom_certificate": false, "pending_update_count": 0})
	default:
		writeErr(w, http.StatusNotFound, "Not Found: method not found")
	}
}

func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	if token != Token {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.path == filePath {
			_, _ = w.Write(f.data)
			return
		}
	}
	http.NotFound(w, nil)
}

func (s *Server) sendMessage(w http.ResponseWriter, req Request) {
	text := req.Str("text")
	s.mu.Lock()
	reject := s.rejectHTML
	s.mu.Unlock()
	switch {
	case strings.TrimSpace(text) == "":
		writeErr(w, http.StatusBadRequest, "Bad Request: message text is empty")
	case len([]rune(text)) > 4096:
		writeErr(w, http.StatusBadRequest, "Bad Request: message is too long")
	case reject && strings.EqualFold(req.Str("parse_mode"), "HTML"):
		writeErr(w, http.StatusBadRequest, ParseEntitiesDescription)
	default:
		writeOK(w, s.sentMessage(req, map[string]any{"text": text}))
	}
}

func (s *Server) sentMessage(req Request, extra map[string]any) map[string]any {
	s.mu.Lock()
	id := s.nextMessage
	s.nextMessage++
	s.mu.Unlock()
	chatID := req.Str("chat_id")
	var chat any = chatID
	if n, err := strconv.ParseInt(chatID, 10, 64); err == nil {
		typ := "private"
		if n < 0 {
			typ = "supergroup"
		}
		chat = map[string]any{"id": n, "type": typ}
	} else {
		chat = map[string]any{"id": -1001, "type": "channel", "username": strings.TrimPrefix(chatID, "@")}
	}
	m := map[string]any{"message_id": id, "date": time.Now().Unix(), "chat": chat,
		"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "Fake", "username": BotUsername}}
	for k, v := range extra {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, req Request) {
	s.record(req)
	s.mu.Lock()
	conflict := s.conflict
	maxPoll := s.maxPoll
	s.mu.Unlock()
	if conflict {
		writeErr(w, http.StatusConflict, ConflictDescription)
		return
	}
	offset, _ := strconv.ParseInt(req.Str("offset"), 10, 64)
	timeout, _ := strconv.ParseFloat(req.Str("timeout"), 64)
	wait := min(time.Duration(timeout*float64(time.Second)), maxPoll)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		// Like the real API, asking for offset N confirms every update below N.
		for len(s.updateIDs) > 0 && s.updateIDs[0] < offset {
			s.updateIDs, s.updates = s.updateIDs[1:], s.updates[1:]
		}
		pending := append([]json.RawMessage(nil), s.updates...)
		wake := s.wake
		s.mu.Unlock()
		if len(pending) > 0 || wait <= 0 {
			writeOK(w, pending)
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			writeOK(w, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func parseRequest(r *http.Request) (Request, error) {
	req := Request{Params: map[string]any{}, Files: map[string]File{}}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return req, err
			}
			b, err := io.ReadAll(io.LimitReader(part, 64<<20))
			if err != nil {
				return req, err
			}
			if part.FileName() != "" {
				req.Files[part.FormName()] = File{Name: part.FileName(), Size: len(b)}
			} else {
				req.Params[part.FormName()] = string(b)
			}
		}
	default:
		b, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			return req, err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			if err := dec.Decode(&req.Params); err != nil {
				return req, err
			}
		}
	}
	return req, nil
}

func writeOK(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func writeErr(w http.ResponseWriter, status int, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": status, "description": description})
}
