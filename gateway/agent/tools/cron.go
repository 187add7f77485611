//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim

package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// Scheduler is the gateway's cron service as the cron tool reaches it: one
// of the gateway methods cron.status, cron.list, cron.add, cron.update,
// cron.remove, cron.run, cron.runs or wake, called with its params. It
// answers the method's result payload, or an error whose text is the
// method's error message — what the original's tool gets back from the
// gateway it calls. The core adapts gateway/cron to it, so the tool and
// the cron.* methods share one scheduler and one set of validations.
type Scheduler interface {
	CallCron(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error)
}

// The cron tool's limits, the original's (cron-tool.js).
const (
	// cronDefaultTimeout is how long the tool waits for the scheduler
	// (timeoutMs overrides it); a run that takes longer goes on.
	cronDefaultTimeout = 10 * time.Second
	// cronMaxTimeout bounds timeoutMs, which the model chooses.
	cronMaxTimeout = 5 * time.Minute

	reminderContextMessagesMax   = 10
	reminderContextPerMessageMax = 220
	reminderContextTotalMax      = 700
	reminderContextMarker        = "\n\nRecent context:\n"
)

const cronDescription = "Manage Gateway cron jobs (status/list/add/update/remove/run/runs) and send wake events. Use `jobId` as the canonical identifier; `id` is accepted for compatibility. Use `contextMessages` (0-10) to add previous messages as context to the job text."

// cronSchema is the original's flattened schema: job and patch are any
// object, checked per action at run time (the gateway's schemas have
// nested unions that providers do not all accept).
const cronSchema = `{"type":"object","properties":{` +
	`"action":{"type":"string","enum":["status","list","add","update","remove","run","runs","wake"]},` +
	`"gatewayUrl":{"type":"string"},"gatewayToken":{"type":"string"},"timeoutMs":{"type":"number"},` +
	`"includeDisabled":{"type":"boolean"},` +
	`"job":{"type":"object","properties":{},"additionalProperties":true},` +
	`"jobId":{"type":"string"},"id":{"type":"string"},` +
	`"patch":{"type":"object","properties":{},"additionalProperties":true},` +
	`"text":{"type":"string"},"mode":{"type":"string","enum":["now","next-heartbeat"]},` +
	`"contextMessages":{"type":"number","minimum":0,"maximum":10}` +
	`},"required":["action"]}`

// cronArgs are the tool's arguments. job and patch stay raw: the
// scheduler validates them as cron.add and cron.update do.
type cronArgs struct {
	Action          string          `json:"action"`
	GatewayURL      string          `json:"gatewayUrl"`
	GatewayToken    string          `json:"gatewayToken"`
	TimeoutMs       *float64        `json:"timeoutMs"`
	IncludeDisabled bool            `json:"includeDisabled"`
	Job             json.RawMessage `json:"job"`
	JobID           string          `json:"jobId"`
	ID              string          `json:"id"`
	Patch           json.RawMessage `json:"patch"`
	Text            string          `json:"text"`
	Mode            string          `json:"mode"`
	ContextMessages *float64        `json:"contextMessages"`
}

// cronTool is the original's cron tool (tools/cron-tool.js) over sched;
// store, when set, gives add's contextMessages the session's recent
// messages.
func cronTool(sched Scheduler, store SessionStore) Tool {
	return cronToolImpl{sched: sched, store: store}
}

type cronToolImpl struct {
	sched Scheduler
	store SessionStore
}

func (cronToolImpl) Spec() llm.Tool {
	return llm.Tool{Name: "cron", Description: cronDescription, Parameters: schemaJSON(cronSchema)}
}

// CallTimeout is zero: the tool bounds its wait itself (timeoutMs).
func (cronToolImpl) CallTimeout(*Call) time.Duration { return 0 }

func (t cronToolImpl) Run(ctx context.Context, c *Call) (agent.ToolResult, error) {
	var a cronArgs
	if err := c.Decode(&a); err != nil {
		return agent.ToolResult{}, err
	}
	// The original can call another gateway; this tool is wired to this
	// gateway's scheduler, so a remote target would be silently ignored.
	if strings.TrimSpace(a.GatewayURL) != "" || strings.TrimSpace(a.GatewayToken) != "" {
		return agent.ToolResult{}, errors.New("gatewayUrl/gatewayToken are not supported: the cron tool manages this gateway's scheduler; omit them")
	}
	timeout := cronTimeout(a.TimeoutMs)
	call := func(method string, params any) (agent.ToolResult, error) {
		raw, err := json.Marshal(params)
		if err != nil {
			return agent.ToolResult{}, err
		}
		res, err := t.callWithin(ctx, timeout, method, raw)
		if err != nil {
			return agent.ToolResult{}, err
		}
		return JSONResult(res), nil
	}
	id := cmpTrim(a.JobID, a.ID)
	needID := func() error { return errors.New("jobId required (id accepted for backward compatibility)") }
	switch strings.TrimSpace(a.Action) {
	case "status":
		return call("cron.status", map[string]any{})
	case "list":
		return call("cron.list", map[string]any{"includeDisabled": a.IncludeDisabled})
	case "add":
		job, ok := t.addJob(c, a)
		if !ok {
			return agent.ToolResult{}, errors.New("job required")
		}
		return call("cron.add", job)
	case "update":
		if id == "" {
			return agent.ToolResult{}, needID()
		}
		patch, ok := object(a.Patch)
		if !ok {
			return agent.ToolResult{}, errors.New("patch required")
		}
		return call("cron.update", map[string]any{"id": id, "patch": patch})
	case "remove", "run", "runs":
		if id == "" {
			return agent.ToolResult{}, needID()
		}
		return call("cron."+strings.TrimSpace(a.Action), map[string]any{"id": id})
	case "wake":
		text := strings.TrimSpace(a.Text)
		if text == "" {
			return agent.ToolResult{}, errors.New("text required")
		}
		mode := a.Mode
		if mode != "now" {
			mode = "next-heartbeat"
		}
		return call("wake", map[string]any{"mode": mode, "text": text})
	case "":
		return agent.ToolResult{}, errors.New("action required")
	default:
		return agent.ToolResult{}, fmt.Errorf("Unknown action: %s", a.Action)
	}
}

// cronTimeout is the wait for timeoutMs: the original's floor of 1 ms and
// default of 10 s, and a cap of 5 min since the model picks it.
func cronTimeout(timeoutMs *float64) time.Duration {
	if timeoutMs == nil {
		return cronDefaultTimeout
	}
	ms := min(max(*timeoutMs, 1), float64(cronMaxTimeout/time.Millisecond))
	return time.Duration(ms) * time.Millisecond
}

// callWithin calls the scheduler and waits at most timeout; a call still
// running then (cron.run of a long job) finishes in the background, as it
// does on the original's gateway when its client gives up.
func (t cronToolImpl) callWithin(ctx context.Context, timeout time.Duration, method string, params json.RawMessage) (json.RawMessage, error) {
	type answer struct {
		res json.RawMessage
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		// The call runs outside the registry's recover: a panic in the
		// scheduler must come back as an error, not end the process.
		defer func() {
			if p := recover(); p != nil {
				ch <- answer{err: fmt.Errorf("%s failed: %v", method, p)}
			}
		}()
		res, err := t.sched.CallCron(context.WithoutCancel(ctx), method, params)
		ch <- answer{res, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-ch:
		return a.res, a.err
	case <-timer.C:
		return nil, fmt.Errorf("gateway timeout after %dms", timeout.Milliseconds())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// addJob is the job cron.add receives: unwrapped from data/job as the
// original's normalizeCronJobCreate does, the session's agent filled in
// when the model gave none, and a systemEvent's text followed by the
// session's recent messages when contextMessages asks for them.
// False: the model gave no job object.
func (t cronToolImpl) addJob(c *Call, a cronArgs) (map[string]any, bool) {
	job, ok := object(a.Job)
	if !ok {
		return nil, false
	}
	if inner, ok := job["data"].(map[string]any); ok {
		job = inner
	} else if inner, ok := job["job"].(map[string]any); ok {
		job = inner
	}
	if s, ok := job["agentId"].(string); ok && strings.TrimSpace(s) == "" {
		delete(job, "agentId")
	}
	if _, has := job["agentId"]; !has && c.Session.AgentID != "" {
		job["agentId"] = c.Session.AgentID
	}
	n := 0
	if a.ContextMessages != nil {
		n = int(*a.ContextMessages)
	}
	payload, _ := job["payload"].(map[string]any)
	if text, _ := payload["text"].(string); payload["kind"] == "systemEvent" && strings.TrimSpace(text) != "" {
		if lines := t.reminderContext(c.Session.Key, n); len(lines) > 0 {
			base := text
			if i := strings.Index(text, reminderContextMarker); i >= 0 {
				base = strings.TrimSpace(text[:i])
			}
			payload["text"] = base + reminderContextMarker + strings.Join(lines, "\n")
		}
	}
	return job, true
}

// reminderContext are up to n (at most 10) of the session's last user and
// assistant messages as "- User: …" lines, each cut to 220 characters and
// all together to 700, as the original's buildReminderContextLines. A
// history that cannot be read gives no context, never an error.
func (t cronToolImpl) reminderContext(key string, n int) []string {
	n = min(n, reminderContextMessagesMax)
	if n <= 0 || t.store == nil || key == "" {
		return nil
	}
	msgs, err := t.store.SessionMessages(key, n)
	if err != nil {
		return nil
	}
	type entry struct{ role, text string }
	var recent []entry
	for _, m := range msgs {
		if m.Role != llm.RoleUser && m.Role != llm.RoleAssistant {
			continue
		}
		var chunks []string
		for _, b := range m.Content {
			if b.Type == llm.ContentText && strings.TrimSpace(b.Text) != "" {
				chunks = append(chunks, b.Text)
			}
		}
		if text := strings.Join(strings.Fields(strings.Join(chunks, " ")), " "); text != "" {
			recent = append(recent, entry{m.Role, text})
		}
	}
	if len(recent) > n {
		recent = recent[len(recent)-n:]
	}
	var lines []string
	total := 0
	for _, e := range recent {
		label := "Assistant"
		if e.role == llm.RoleUser {
			label = "User"
		}
		line := "- " + label + ": " + truncateUTF16(e.text, reminderContextPerMessageMax)
		total += utf16Len(line)
		if total > reminderContextTotalMax {
			break
		}
		lines = append(lines, line)
	}
	return lines
}

// object is raw as a JSON object (false: absent, null or not an object).
func object(raw json.RawMessage) (map[string]any, bool) {
	var m map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

// cmpTrim is the first of vs that is not blank, trimmed.
func cmpTrim(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// utf16Len is s's length as JavaScript counts it, the unit of the
// original's limits.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUTF16 is the original's truncateText: s when it fits in max
// UTF-16 units, else its first max-3 units (never half a surrogate pair),
// end-trimmed, and "...".
func truncateUTF16(s string, max int) string {
	if utf16Len(s) <= max {
		return s
	}
	limit, n := max-3, 0
	var b strings.Builder
	for _, r := range s {
		w := utf16.RuneLen(r)
		if n+w > limit {
			break
		}
		b.WriteRune(r)
		n += w
	}
	return strings.TrimRightFunc(b.String(), unicode.IsSpace) + "..."
}
