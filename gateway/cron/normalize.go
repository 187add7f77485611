package cron

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// AddInput is a normalised cron.add request.
type AddInput struct {
	Name           string              `json:"name"`
	AgentID        *string             `json:"agentId"`
	Description    string              `json:"description"`
	Enabled        *bool               `json:"enabled"`
	DeleteAfterRun *bool               `json:"deleteAfterRun"`
	Schedule       *wire.CronSchedule  `json:"schedule"`
	SessionTarget  string              `json:"sessionTarget"`
	WakeMode       string              `json:"wakeMode"`
	Payload        *wire.CronPayload   `json:"payload"`
	Isolation      *wire.CronIsolation `json:"isolation"`
}

// Patch is a normalised cron.update patch; nil fields are kept.
type Patch struct {
	Name           *string             `json:"name"`
	AgentID        *json.RawMessage    `json:"agentId"`
	Description    *string             `json:"description"`
	Enabled        *bool               `json:"enabled"`
	DeleteAfterRun *bool               `json:"deleteAfterRun"`
	Schedule       *wire.CronSchedule  `json:"schedule"`
	SessionTarget  string              `json:"sessionTarget"`
	WakeMode       string              `json:"wakeMode"`
	Payload        *wire.CronPayload   `json:"payload"`
	Isolation      *wire.CronIsolation `json:"isolation"`
	State          *wire.CronJobState  `json:"state"`
}

// DecodeAdd normalises raw cron.add params as the original does before it
// validates them (a {data} or {job} wrapper, agentId trimmed, enabled
// given as "true"/"false", the schedule kind inferred, at/atMs given as an
// ISO time, payload.provider, wakeMode next-heartbeat and the
// sessionTarget of the payload kind by default) and checks the result.
func DecodeAdd(raw json.RawMessage) (AddInput, error) {
	var in AddInput
	m, err := normalizeJob(raw, true)
	if err != nil {
		return in, err
	}
	if err := strictDecode(m, &in); err != nil {
		return in, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return in, errors.New("name is required (a non-empty string)")
	}
	if in.Schedule == nil {
		return in, errors.New("schedule is required")
	}
	if err := ValidateSchedule(*in.Schedule); err != nil {
		return in, err
	}
	if in.Payload == nil {
		return in, errors.New("payload is required")
	}
	if err := validatePayload(*in.Payload, false); err != nil {
		return in, err
	}
	if err := validateModes(in.SessionTarget, in.WakeMode, true); err != nil {
		return in, err
	}
	return in, validateIsolation(in.Isolation)
}

// DecodePatch normalises a cron.update patch (as DecodeAdd, without the
// defaults) and checks it.
func DecodePatch(raw json.RawMessage) (Patch, error) {
	var p Patch
	m, err := normalizeJob(raw, false)
	if err != nil {
		return p, err
	}
	if err := strictDecode(m, &p); err != nil {
		return p, err
	}
	if v, ok := m["agentId"]; ok && v == nil {
		// encoding/json decodes null into a nil pointer, which would read
		// as "keep"; the original clears the agent on "agentId": null.
		null := json.RawMessage("null")
		p.AgentID = &null
	}
	if p.Name != nil && strings.TrimSpace(*p.Name) == "" {
		return p, errors.New("patch.name must be a non-empty string")
	}
	if p.Schedule != nil {
		if err := ValidateSchedule(*p.Schedule); err != nil {
			return p, err
		}
	}
	if p.Payload != nil {
		if err := validatePayload(*p.Payload, true); err != nil {
			return p, err
		}
	}
	if err := validateModes(p.SessionTarget, p.WakeMode, false); err != nil {
		return p, err
	}
	return p, validateIsolation(p.Isolation)
}

func strictDecode(m map[string]any, dst any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "unknown field "); i >= 0 {
			return fmt.Errorf("unexpected property %s", msg[i+len("unknown field "):])
		}
		if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) {
			return fmt.Errorf("%s must be %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return err
	}
	return nil
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "bool":
		return "a boolean"
	case k == "string":
		return "a string"
	}
	return "an object"
}

func validatePayload(p wire.CronPayload, patch bool) error {
	switch p.Kind {
	case wire.CronPayloadSystemEvent:
		if p.Message != "" || p.Model != "" || p.Thinking != "" || p.TimeoutSeconds != nil || p.Deliver != nil ||
			p.Channel != "" || p.To != "" || p.BestEffortDeliver != nil {
			return errors.New(`payload kind "systemEvent" takes only text`)
		}
		if !patch && strings.TrimSpace(p.Text) == "" {
			return errors.New(`payload kind "systemEvent" requires text`)
		}
	case wire.CronPayloadAgentTurn:
		if p.Text != "" {
			return errors.New(`payload kind "agentTurn" takes message, not text`)
		}
		if !patch && strings.TrimSpace(p.Message) == "" {
			return errors.New(`payload kind "agentTurn" requires message`)
		}
		if p.TimeoutSeconds != nil && *p.TimeoutSeconds < 1 {
			return errors.New("payload.timeoutSeconds must be >= 1")
		}
	default:
		return fmt.Errorf("payload.kind must be systemEvent or agentTurn (got %q)", p.Kind)
	}
	return nil
}

func validateModes(target, wake string, required bool) error {
	if target != "" || required {
		if target != wire.CronTargetMain && target != wire.CronTargetIsolated {
			return fmt.Errorf("sessionTarget must be main or isolated (got %q)", target)
		}
	}
	if wake != "" || required {
		if wake != wire.WakeNow && wake != wire.WakeNextHeartbeat {
			return fmt.Errorf("wakeMode must be now or next-heartbeat (got %q)", wake)
		}
	}
	return nil
}

func validateIsolation(iso *wire.CronIsolation) error {
	if iso == nil {
		return nil
	}
	if m := iso.PostToMainMode; m != "" && m != "summary" && m != "full" {
		return fmt.Errorf("isolation.postToMainMode must be summary or full (got %q)", m)
	}
	if iso.PostToMainMaxChars != nil && *iso.PostToMainMaxChars < 0 {
		return errors.New("isolation.postToMainMaxChars must be >= 0")
	}
	return nil
}

// normalizeJob is the original's normalizeCronJobInput over a decoded
// object.
func normalizeJob(raw json.RawMessage, defaults bool) (map[string]any, error) {
	var m map[string]any
	if len(bytes.TrimSpace(raw)) == 0 {
		m = map[string]any{}
	} else if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New("params must be an object")
	}
	if d, ok := m["data"].(map[string]any); ok {
		m = d
	} else if d, ok := m["job"].(map[string]any); ok {
		m = d
	}
	if v, ok := m["agentId"]; ok {
		if s, ok := v.(string); ok {
			if s = strings.TrimSpace(s); s != "" {
				m["agentId"] = NormalizeAgentID(s)
			} else {
				delete(m, "agentId")
			}
		}
	}
	if s, ok := m["enabled"].(string); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			m["enabled"] = true
		case "false":
			m["enabled"] = false
		}
	}
	if s, ok := m["schedule"].(map[string]any); ok {
		coerceSchedule(s)
	}
	if p, ok := m["payload"].(map[string]any); ok {
		ch, _ := p["channel"].(string)
		prov, _ := p["provider"].(string)
		if next := strings.ToLower(strings.TrimSpace(cmpOr(ch, prov))); next != "" {
			p["channel"] = next
		}
		delete(p, "provider")
	}
	if defaults {
		if w, _ := m["wakeMode"].(string); w == "" {
			m["wakeMode"] = wire.WakeNextHeartbeat
		}
		if t, _ := m["sessionTarget"].(string); t == "" {
			if p, ok := m["payload"].(map[string]any); ok {
				switch p["kind"] {
				case wire.CronPayloadSystemEvent:
					m["sessionTarget"] = wire.CronTargetMain
				case wire.CronPayloadAgentTurn:
					m["sessionTarget"] = wire.CronTargetIsolated
				}
			}
		}
	}
	return m, nil
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

func coerceSchedule(s map[string]any) {
	var parsed *int64
	if v, ok := s["atMs"].(string); ok {
		parsed = ParseAbsoluteTime(v)
	} else if v, ok := s["at"].(string); ok {
		parsed = ParseAbsoluteTime(v)
	}
	if k, _ := s["kind"].(string); k == "" {
		_, atNum := s["atMs"].(float64)
		_, atStr := s["atMs"].(string)
		_, at := s["at"].(string)
		_, every := s["everyMs"].(float64)
		_, expr := s["expr"].(string)
		switch {
		case atNum || atStr || at:
			s["kind"] = wire.CronAt
		case every:
			s["kind"] = wire.CronEvery
		case expr:
			s["kind"] = wire.CronExpr
		}
	}
	if _, num := s["atMs"].(float64); !num && parsed != nil {
		s["atMs"] = *parsed
	}
	delete(s, "at")
}

var (
	isoTZ       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(Z|[+-]\d{2}:?\d{2})$`) })
	isoDate     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`) })
	isoDateTime = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T`) })
	digits      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d+$`) })
)

// ParseAbsoluteTime is the original's parseAbsoluteTimeMs: ms since the
// epoch as digits, or an ISO date/time (UTC when it names no zone).
func ParseAbsoluteTime(in string) *int64 {
	raw := strings.TrimSpace(in)
	if raw == "" {
		return nil
	}
	if digits().MatchString(raw) {
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil && n > 0 {
			return &n
		}
	}
	switch {
	case isoTZ().MatchString(raw):
	case isoDate().MatchString(raw):
		raw += "T00:00:00Z"
	case isoDateTime().MatchString(raw):
		raw += "Z"
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z0700"} {
		if t, err := time.Parse(layout, raw); err == nil {
			ms := t.UnixMilli()
			return &ms
		}
	}
	return nil
}

// NormalizeAgentID is the original's normalizeAgentId, the one rule in
// gateway/sessionstore (a copy here once mapped each bad character to "-"
// without collapsing runs, so cron and sessions could disagree on an id).
func NormalizeAgentID(s string) string { return sessionstore.NormalizeAgentID(s) }
