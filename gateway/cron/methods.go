package cron

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// HeartbeatControl is the heartbeat runner as its methods see it.
type HeartbeatControl interface {
	Heartbeat
	// Last is the last heartbeat event (nil before the first).
	Last() *wire.HeartbeatEvent
	// SetEnabled turns heartbeats on or off for the whole process
	// (set-heartbeats; not persisted, as in the original).
	SetEnabled(on bool)
}

// MethodDeps are what the methods need.
type MethodDeps struct {
	// Service is the process-wide scheduler (New).
	Service *Service
	// Heartbeats is the heartbeat runner (nil: wake only queues, and
	// last-heartbeat answers null).
	Heartbeats HeartbeatControl
	// Events is the system-event queue wake writes to.
	Events SystemEvents
}

// Register adds cron.status/list/add/update/remove/run/runs, wake,
// last-heartbeat and set-heartbeats to reg. cron.run waits for the run,
// so it is async (other requests of the connection go on meanwhile).
func Register(reg *rpc.Registry, d MethodDeps) {
	h := &handlers{d: d}
	reg.Handle("cron.status", h.status)
	reg.Handle("cron.list", h.list)
	reg.Handle("cron.add", h.add)
	reg.Handle("cron.update", h.update)
	reg.Handle("cron.remove", h.remove)
	reg.HandleAsync("cron.run", h.run)
	reg.Handle("cron.runs", h.runs)
	reg.Handle("wake", h.wake)
	reg.Handle("last-heartbeat", h.lastHeartbeat)
	reg.Handle("set-heartbeats", h.setHeartbeats)
}

type handlers struct{ d MethodDeps }

// failed maps a service error to the wire: the original lets it throw,
// which its dispatcher answers as UNAVAILABLE with the message.
func failed(err error) *wire.ErrorShape { return rpc.Unavailable(err.Error()) }

func (h *handlers) status(*rpc.Call) (any, *wire.ErrorShape) {
	r, err := h.d.Service.Status()
	if err != nil {
		return nil, failed(err)
	}
	return r, nil
}

func (h *handlers) list(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.CronListParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	jobs, err := h.d.Service.List(p.IncludeDisabled != nil && *p.IncludeDisabled)
	if err != nil {
		return nil, failed(err)
	}
	return wire.CronListResult{Jobs: jobs}, nil
}

func (h *handlers) add(c *rpc.Call) (any, *wire.ErrorShape) {
	in, err := DecodeAdd(c.Params)
	if err != nil {
		return nil, rpc.Invalid("invalid cron.add params: " + err.Error())
	}
	j, err := h.d.Service.Add(in)
	if err != nil {
		return nil, failed(err)
	}
	return j, nil
}

// idParams reads {id|jobId, ...rest} with the allowed extra keys; the
// original's schemas are a union of an id and a jobId variant.
func idParams(method string, raw json.RawMessage, extra ...string) (string, map[string]json.RawMessage, *wire.ErrorShape) {
	var m map[string]json.RawMessage
	if len(strings.TrimSpace(string(raw))) == 0 {
		m = map[string]json.RawMessage{}
	} else if json.Unmarshal(raw, &m) != nil || m == nil {
		return "", nil, rpc.Invalid("invalid " + method + " params: must be object")
	}
	allowed := map[string]bool{"id": true, "jobId": true}
	for _, k := range extra {
		allowed[k] = true
	}
	for k := range m {
		if !allowed[k] {
			return "", nil, rpc.Invalid(fmt.Sprintf("invalid %s params: unexpected property %q", method, k))
		}
	}
	if _, a := m["id"]; a {
		if _, b := m["jobId"]; b {
			return "", nil, rpc.Invalid("invalid " + method + " params: give id or jobId, not both")
		}
	}
	var id wire.CronJobIDParams
	b, _ := json.Marshal(map[string]json.RawMessage{"id": m["id"], "jobId": m["jobId"]})
	_ = json.Unmarshal(b, &id)
	v := cmpOr(id.ID, id.JobID)
	if strings.TrimSpace(v) == "" {
		return "", nil, rpc.Invalid("invalid " + method + " params: missing id")
	}
	return v, m, nil
}

func (h *handlers) update(c *rpc.Call) (any, *wire.ErrorShape) {
	id, m, e := idParams("cron.update", c.Params, "patch")
	if e != nil {
		return nil, e
	}
	if len(m["patch"]) == 0 {
		return nil, rpc.Invalid("invalid cron.update params: must have required property 'patch'")
	}
	p, err := DecodePatch(m["patch"])
	if err != nil {
		return nil, rpc.Invalid("invalid cron.update params: patch: " + err.Error())
	}
	j, err := h.d.Service.Update(id, p)
	if err != nil {
		return nil, failed(err)
	}
	return j, nil
}

func (h *handlers) remove(c *rpc.Call) (any, *wire.ErrorShape) {
	id, _, e := idParams("cron.remove", c.Params)
	if e != nil {
		return nil, e
	}
	r, err := h.d.Service.Remove(id)
	if err != nil {
		return nil, failed(err)
	}
	return r, nil
}

func (h *handlers) run(c *rpc.Call) (any, *wire.ErrorShape) {
	id, m, e := idParams("cron.run", c.Params, "mode")
	if e != nil {
		return nil, e
	}
	var mode string
	if raw, ok := m["mode"]; ok {
		if json.Unmarshal(raw, &mode) != nil || mode != "due" && mode != "force" {
			return nil, rpc.Invalid(`invalid cron.run params: mode must be "due" or "force"`)
		}
	}
	r, err := h.d.Service.Run(id, mode)
	if err != nil {
		return nil, failed(err)
	}
	return r, nil
}

func (h *handlers) runs(c *rpc.Call) (any, *wire.ErrorShape) {
	id, m, e := idParams("cron.runs", c.Params, "limit")
	if e != nil {
		return nil, e
	}
	limit := 0
	if raw, ok := m["limit"]; ok {
		if json.Unmarshal(raw, &limit) != nil || limit < 1 || limit > 5000 {
			return nil, rpc.Invalid("invalid cron.runs params: limit must be an integer 1..5000")
		}
	}
	return wire.CronRunsResult{Entries: ReadRunLog(RunLogPath(h.d.Service.StorePath(), id), id, limit)}, nil
}

// wake queues text for the main session; mode "now" asks for a heartbeat
// at once, "next-heartbeat" leaves it for the next scheduled one.
func (h *handlers) wake(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.WakeParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	text := strings.TrimSpace(p.Text)
	if text == "" {
		return wire.OKResult{OK: false}, nil
	}
	if h.d.Events != nil {
		h.d.Events.Enqueue("", text)
	}
	if p.Mode == wire.WakeNow && h.d.Heartbeats != nil {
		h.d.Heartbeats.RequestNow("wake")
	}
	return wire.OKResult{OK: true}, nil
}

func (h *handlers) lastHeartbeat(*rpc.Call) (any, *wire.ErrorShape) {
	if h.d.Heartbeats != nil {
		if e := h.d.Heartbeats.Last(); e != nil {
			return e, nil
		}
	}
	return wire.NullPayload, nil // the original's null before the first heartbeat
}

func (h *handlers) setHeartbeats(c *rpc.Call) (any, *wire.ErrorShape) {
	var p struct {
		Enabled *bool `json:"enabled"`
	}
	if json.Unmarshal(c.Params, &p) != nil || p.Enabled == nil {
		return nil, rpc.Invalid("invalid set-heartbeats params: enabled (boolean) required")
	}
	if h.d.Heartbeats != nil {
		h.d.Heartbeats.SetEnabled(*p.Enabled)
	}
	return wire.SetHeartbeatsResult{OK: true, Enabled: *p.Enabled}, nil
}
