package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// stopWords are the messages that abort a session's chat runs
// (doc/messaging.md §1.5 step 5), compared trimmed and lowercased.
var stopWords = map[string]bool{"/stop": true, "stop": true, "esc": true, "abort": true, "wait": true, "exit": true, "interrupt": true}

// IsStopCommand reports whether message is a stop command.
func IsStopCommand(message string) bool {
	return stopWords[strings.ToLower(strings.TrimSpace(message))]
}

// ResetGreeting is the user text of the turn /new and /reset run.
const ResetGreeting = "A new session was started via /new or /reset. Say hi briefly (1-2 sentences) and ask what the user wants to do next. If the runtime model differs from default_model in the system prompt, mention the default model in the greeting. Do not mention internal steps, files, tools, or reasoning."

// Thinking levels and their aliases (doc/messaging.md §4.2).
func normalizeThinking(s string) (string, bool) {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case llm.ThinkingOff, llm.ThinkingMinimal, llm.ThinkingLow, llm.ThinkingMedium, llm.ThinkingHigh, llm.ThinkingXHigh:
		return l, true
	case "on":
		return llm.ThinkingLow, true
	case "think":
		return llm.ThinkingMinimal, true
	case "max", "ultra":
		return llm.ThinkingHigh, true
	}
	return "", false
}

const thinkingHelp = "Invalid thinking level. Use one of: off, minimal, low, medium, high, xhigh."

func normalizeVerbose(s string) (string, bool) {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case "on", "full", "off":
		return l, true
	}
	return "", false
}

// chatSend is chat.send: stop words, dedupe replay, in_flight, the
// started ack, then the dispatch (directives, queue modes, the run).
func (h *handlers) chatSend(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ChatSendParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	images, e := parseAttachments(p.Attachments)
	if e != nil {
		return nil, e
	}
	r := h.r
	sess, err := r.d.Sessions.Resolve(p.SessionKey)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	if sess.SendPolicy == "deny" {
		return nil, rpc.Invalid("send blocked by session policy")
	}
	if IsStopCommand(p.Message) {
		ids := r.abort(sess.Key, "", true, "stop")
		r.queue(sess.Key).clear()
		return wire.ChatAbortResult{OK: true, Aborted: len(ids) > 0, RunIDs: ids}, nil
	}
	key := "chat:" + p.IdempotencyKey
	if hit, ok := r.d.Dedupe.Load(key); ok {
		return hit.Payload, hit.Err
	}
	r.mu.Lock()
	if r.chatInflight[p.IdempotencyKey] {
		r.mu.Unlock()
		return wire.ChatSendResult{RunID: p.IdempotencyKey, Status: wire.RunInFlight}, nil
	}
	r.chatInflight[p.IdempotencyKey] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.chatInflight, p.IdempotencyKey)
		r.mu.Unlock()
	}()
	c.Respond(wire.ChatSendResult{RunID: p.IdempotencyKey, Status: wire.RunStarted}, nil)
	res, rerr := h.dispatchChat(sess, p, images)
	r.d.Dedupe.Store(key, res, rerr)
	return rpc.NoReply, nil
}

// dispatchChat is the auto-reply path of one chat message; it returns
// what the dedupe cache keeps for the message.
func (h *handlers) dispatchChat(sess Session, p wire.ChatSendParams, images []llm.Content) (any, *wire.ErrorShape) {
	r := h.r
	runID := p.IdempotencyKey
	ok := wire.ChatSendResult{RunID: runID, Status: wire.RunOK}
	cfg := r.d.Config()
	msg := strings.TrimSpace(p.Message)
	turn := Turn{RunID: runID, Chat: true, Channel: "webchat", MessageID: runID, Images: images}
	if p.Thinking != "" && !strings.HasPrefix(msg, "/") {
		if lvl, valid := normalizeThinking(p.Thinking); valid {
			turn.Thinking = lvl
		}
	}
	if p.TimeoutMs != nil && *p.TimeoutMs > 0 {
		// The original's expiry: timeoutMs + 60 s, clamped to 2 min..24 h.
		exp := min(max(time.Duration(*p.TimeoutMs)*time.Millisecond+time.Minute, 2*time.Minute), 24*time.Hour)
		turn.Timeout = min(exp, time.Duration(cfg.TimeoutSeconds)*time.Second)
	}

	body := p.Message
	if strings.HasPrefix(msg, "/") {
		cmd, rest, _ := strings.Cut(msg, " ")
		rest = strings.TrimSpace(rest)
		lc := strings.ToLower(cmd)
		for _, trig := range cfg.ResetTriggers {
			if lc == strings.ToLower(trig) {
				s, err := r.d.Sessions.Reset(sess.Key)
				if err != nil {
					return h.chatFailed(sess, runID, err)
				}
				sess = s
				body = ResetGreeting
				if rest != "" {
					body = rest
				}
				goto run
			}
		}
		text, handled, inline := h.directive(&sess, lc, rest, &turn)
		if handled && inline == "" {
			h.replyWithoutRun(sess, runID, text)
			return ok, nil
		}
		if handled {
			body = inline
		}
	}
	// Queue modes: a message for a busy session waits (collect,
	// followup), joins the running turn (steer) or replaces it (interrupt).
	if r.lanes.Busy("session:"+sess.Key) || r.pending(sess.Key) {
		mode := firstNonEmpty(normalizeQueueMode(sess.QueueMode), cfg.QueueMode)
		text := withMessageID(body, runID)
		switch mode {
		case QueueSteer:
			if ar := r.sessionActive(sess.Key); ar != nil {
				ar.mu.Lock()
				ar.steer = append(ar.steer, text)
				ar.mu.Unlock()
				h.replyWithoutRun(sess, runID, "")
				return ok, nil
			}
			mode = QueueFollowup
			fallthrough
		case QueueCollect, QueueFollowup:
			t := turn
			r.queue(sess.Key).push(queuedMessage{text: text, mode: mode, turn: t})
			h.replyWithoutRun(sess, runID, "")
			return ok, nil
		case QueueInterrupt:
			r.queue(sess.Key).clear()
			r.abort(sess.Key, "", false, "interrupt")
		}
	}
run:
	turn.Session = sess
	turn.Message = withMessageID(body, runID)
	out := r.Run(context.Background(), turn)
	if out.Err != nil {
		return wire.AgentFinal{RunID: runID, Status: wire.RunError, Summary: out.Err.Message}, out.Err
	}
	return ok, nil
}

func withMessageID(text, id string) string { return text + "\n[message_id: " + id + "]" }

// chatFailed is the exception path: an error chat event and the error
// kept for replays.
func (h *handlers) chatFailed(sess Session, runID string, err error) (any, *wire.ErrorShape) {
	msg := "Error: " + err.Error()
	h.r.d.Broadcast.Broadcast(wire.EventChat, wire.ChatEvent{RunID: runID, SessionKey: sess.Key, Seq: h.r.recordSeq(runID) + 1,
		State: wire.ChatError, ErrorMessage: msg}, rpc.Delivery{})
	return wire.AgentFinal{RunID: runID, Status: wire.RunError, Summary: msg}, rpc.Unavailable(msg)
}

// replyWithoutRun answers a chat message that started no run: the text
// (if any) goes into the transcript as an injected assistant message and
// a final chat event is broadcast, without message when there is none.
func (h *handlers) replyWithoutRun(sess Session, runID, text string) {
	r := h.r
	ev := wire.ChatEvent{RunID: runID, SessionKey: sess.Key, Seq: r.recordSeq(runID) + 1, State: wire.ChatFinal}
	if text != "" {
		now := r.now()
		if _, err := r.d.Sessions.Append(sess, injected(text, now)); err != nil {
			r.log.Warn("append reply", "sessionKey", sess.Key, "err", err)
		}
		ev.Message = chatMessage(text, now)
	}
	r.d.Broadcast.Broadcast(wire.EventChat, ev, rpc.Delivery{})
}

func injected(text string, now time.Time) llm.Message {
	return llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text(text)}, StopReason: llm.StopInjected,
		Usage: &llm.Usage{}, Timestamp: now.UnixMilli()}
}

// recordSeq is the last per-run seq of runID (0 when it never ran).
func (r *Runner) recordSeq(runID string) int64 {
	r.mu.Lock()
	rec := r.records[runID]
	r.mu.Unlock()
	if rec == nil {
		return 0
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.seq
}

// directive handles /status, /model, /think, /verbose and /queue. A
// directive alone changes the session and answers text; followed by a
// message (/think high explain …) it applies to this turn only and the
// message is run (inline).
func (h *handlers) directive(sess *Session, cmd, rest string, turn *Turn) (text string, handled bool, inline string) {
	r := h.r
	set := func(u SessionUpdate) error { return r.d.Sessions.Update(sess.Key, u) }
	arg, tail, _ := strings.Cut(rest, " ")
	tail = strings.TrimSpace(tail)
	switch cmd {
	case "/status":
		return h.status(*sess), true, ""
	case "/model":
		if rest == "" {
			cur := sess.ModelOverride
			if cur == "" {
				cur = firstNonEmpty(r.d.Config().DefaultModel, "default")
			}
			return "Current model: " + cur + ".", true, ""
		}
		v := arg
		if v == "default" || v == "reset" {
			v = ""
		}
		if v != "" && r.d.Models != nil {
			if _, err := r.d.Models.Resolve(sess.AgentID, v); err != nil {
				return "Model not available: " + err.Error(), true, ""
			}
		}
		if err := set(SessionUpdate{ModelOverride: &v}); err != nil {
			return "Failed to set model: " + err.Error(), true, ""
		}
		sess.ModelOverride = v
		if v == "" {
			return "Model reset to default.", true, ""
		}
		return "Model set to " + v + ".", true, ""
	case "/think", "/thinking", "/t":
		if rest == "" {
			return "Current thinking level: " + firstNonEmpty(sess.ThinkingLevel, r.d.Config().ThinkingDefault, "off") + ".", true, ""
		}
		lvl, ok := normalizeThinking(arg)
		if !ok {
			return thinkingHelp, true, ""
		}
		if tail != "" {
			turn.Thinking = lvl
			return "", true, tail
		}
		if err := set(SessionUpdate{ThinkingLevel: &lvl}); err != nil {
			return "Failed to set thinking level: " + err.Error(), true, ""
		}
		return "Thinking level set to " + lvl + ".", true, ""
	case "/verbose", "/v":
		if rest == "" {
			return "Current verbose level: " + firstNonEmpty(sess.VerboseLevel, r.d.Config().VerboseDefault, "off") + ".", true, ""
		}
		lvl, ok := normalizeVerbose(arg)
		if !ok {
			return "Invalid verbose level. Use one of: on, full, off.", true, ""
		}
		if tail != "" {
			turn.Verbose = lvl
			return "", true, tail
		}
		if err := set(SessionUpdate{VerboseLevel: &lvl}); err != nil {
			return "Failed to set verbose level: " + err.Error(), true, ""
		}
		return "Verbose logging set to " + lvl + ".", true, ""
	case "/queue":
		if rest == "" {
			return "Current queue mode: " + firstNonEmpty(normalizeQueueMode(sess.QueueMode), r.d.Config().QueueMode) + ".", true, ""
		}
		m := normalizeQueueMode(arg)
		if arg == "default" || arg == "reset" {
			m = ""
		} else if m == "" {
			return "Invalid queue mode. Use one of: collect, followup, steer, interrupt.", true, ""
		}
		if err := set(SessionUpdate{QueueMode: &m}); err != nil {
			return "Failed to set queue mode: " + err.Error(), true, ""
		}
		return "Queue mode set to " + firstNonEmpty(m, r.d.Config().QueueMode) + ".", true, ""
	}
	return "", false, ""
}

// status is the /status reply.
func (h *handlers) status(s Session) string {
	cfg := h.r.d.Config()
	model := firstNonEmpty(s.ModelOverride, joinModel(s.ModelProvider, s.Model), cfg.DefaultModel, "default")
	lines := []string{
		"Session: " + s.Key + " (" + s.SessionID + ")",
		"Model: " + model,
		fmt.Sprintf("Tokens: %d in / %d out (context %d)", s.InputTokens, s.OutputTokens, s.ContextTokens),
		"Thinking: " + firstNonEmpty(s.ThinkingLevel, cfg.ThinkingDefault, "off") +
			" · Verbose: " + firstNonEmpty(s.VerboseLevel, cfg.VerboseDefault, "off") +
			" · Queue: " + firstNonEmpty(normalizeQueueMode(s.QueueMode), cfg.QueueMode),
	}
	return strings.Join(lines, "\n")
}

func joinModel(provider, model string) string {
	if model == "" {
		return ""
	}
	if provider == "" {
		return model
	}
	return provider + "/" + model
}

// chatAbort is chat.abort: only chat.send runs; the aborted event goes
// out before the res.
func (h *handlers) chatAbort(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ChatAbortParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	r := h.r
	key, _ := r.d.Sessions.Canonical(p.SessionKey)
	if p.RunID != "" {
		ar := r.activeRunOf(p.RunID)
		if ar == nil || !ar.chat {
			return wire.ChatAbortResult{OK: true, Aborted: false, RunIDs: []string{}}, nil
		}
		if ar.sessionKey != key {
			return nil, rpc.Invalid("runId does not match sessionKey")
		}
	}
	ids := r.abort(key, p.RunID, true, "rpc")
	return wire.ChatAbortResult{OK: true, Aborted: len(ids) > 0, RunIDs: ids}, nil
}

// chatInject is chat.inject: an assistant note in the transcript and a
// final chat event (before the res).
func (h *handlers) chatInject(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ChatInjectParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	r := h.r
	sess, found, err := r.d.Sessions.Lookup(p.SessionKey)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	if !found {
		return nil, rpc.Invalid("session not found")
	}
	text := p.Message
	if l := strings.TrimSpace(p.Label); l != "" {
		text = "[" + l + "]\n\n" + p.Message
	}
	now := r.now()
	id, err := r.d.Sessions.Append(sess, injected(text, now))
	switch {
	case errors.Is(err, ErrNoTranscript):
		return nil, rpc.Invalid("transcript file not found")
	case errors.Is(err, ErrSessionNotFound):
		return nil, rpc.Invalid("session not found")
	case err != nil:
		return nil, rpc.Unavailable("failed to write transcript: " + err.Error())
	}
	r.d.Broadcast.Broadcast(wire.EventChat, wire.ChatEvent{RunID: "inject-" + id, SessionKey: sess.Key, Seq: 0,
		State: wire.ChatFinal, Message: chatMessage(text, now)}, rpc.Delivery{})
	return wire.ChatInjectResult{OK: true, MessageID: id}, nil
}
