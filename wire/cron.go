package wire

// Cron jobs, their run log and the cron/wake/heartbeat methods' results,
// in the shapes of the original's cron protocol schema. The same types
// are the records of <state>/cron/jobs.json, so a file either
// implementation wrote reads in the other. The original's schedule and
// payload are unions keyed by kind; here each is one flat struct whose
// unused fields stay absent, which encodes to the same JSON.

// Cron schedule kinds, session targets, wake modes, payload kinds and run
// statuses.
const (
	CronAt    = "at"
	CronEvery = "every"
	CronExpr  = "cron"

	CronTargetMain     = "main"
	CronTargetIsolated = "isolated"

	WakeNow           = "now"
	WakeNextHeartbeat = "next-heartbeat"

	CronPayloadSystemEvent = "systemEvent"
	CronPayloadAgentTurn   = "agentTurn"

	CronStatusOK      = "ok"
	CronStatusError   = "error"
	CronStatusSkipped = "skipped"
)

// CronSchedule is when a job runs: kind "at" (atMs, once), "every"
// (everyMs, optionally anchored at anchorMs) or "cron" (a cron
// expression in tz, the host's zone when empty).
type CronSchedule struct {
	Kind     string `json:"kind"`
	AtMs     *int64 `json:"atMs,omitempty"`
	EveryMs  *int64 `json:"everyMs,omitempty"`
	AnchorMs *int64 `json:"anchorMs,omitempty"`
	Expr     string `json:"expr,omitempty"`
	TZ       string `json:"tz,omitempty"`
}

// CronPayload is what a job does: kind "systemEvent" queues text for the
// main session; kind "agentTurn" runs message as an isolated agent turn,
// optionally delivered (deliver, channel, to, bestEffortDeliver).
type CronPayload struct {
	Kind              string `json:"kind"`
	Text              string `json:"text,omitempty"`
	Message           string `json:"message,omitempty"`
	Model             string `json:"model,omitempty"`
	Thinking          string `json:"thinking,omitempty"`
	TimeoutSeconds    *int64 `json:"timeoutSeconds,omitempty"`
	Deliver           *bool  `json:"deliver,omitempty"`
	Channel           string `json:"channel,omitempty"`
	To                string `json:"to,omitempty"`
	BestEffortDeliver *bool  `json:"bestEffortDeliver,omitempty"`
}

// CronIsolation is how an isolated job's result is posted to the main
// session ("Cron: <summary>").
type CronIsolation struct {
	PostToMainPrefix   string `json:"postToMainPrefix,omitempty"`
	PostToMainMode     string `json:"postToMainMode,omitempty"` // summary|full
	PostToMainMaxChars *int64 `json:"postToMainMaxChars,omitempty"`
}

// CronJobState is the scheduler's bookkeeping of a job.
type CronJobState struct {
	NextRunAtMs    *int64 `json:"nextRunAtMs,omitempty"`
	RunningAtMs    *int64 `json:"runningAtMs,omitempty"`
	LastRunAtMs    *int64 `json:"lastRunAtMs,omitempty"`
	LastStatus     string `json:"lastStatus,omitempty"`
	LastError      string `json:"lastError,omitempty"`
	LastDurationMs *int64 `json:"lastDurationMs,omitempty"`
}

// CronJob is one job: the result of cron.add and cron.update, an element
// of cron.list and of jobs.json.
type CronJob struct {
	ID             string         `json:"id"`
	AgentID        string         `json:"agentId,omitempty"`
	Name           string         `json:"name"`
	Description    string         `json:"description,omitempty"`
	Enabled        bool           `json:"enabled"`
	DeleteAfterRun *bool          `json:"deleteAfterRun,omitempty"`
	CreatedAtMs    int64          `json:"createdAtMs"`
	UpdatedAtMs    int64          `json:"updatedAtMs"`
	Schedule       CronSchedule   `json:"schedule"`
	SessionTarget  string         `json:"sessionTarget"`
	WakeMode       string         `json:"wakeMode"`
	Payload        CronPayload    `json:"payload"`
	Isolation      *CronIsolation `json:"isolation,omitempty"`
	State          CronJobState   `json:"state"`
}

// CronStore is the jobs.json document.
type CronStore struct {
	Version int       `json:"version"`
	Jobs    []CronJob `json:"jobs"`
}

// CronStatusResult is the result of cron.status; nextWakeAtMs is null
// when nothing is scheduled or the scheduler is disabled.
type CronStatusResult struct {
	Enabled      bool   `json:"enabled"`
	StorePath    string `json:"storePath"`
	Jobs         int    `json:"jobs"`
	NextWakeAtMs *int64 `json:"nextWakeAtMs"`
}

// CronListResult is the result of cron.list.
type CronListResult struct {
	Jobs []CronJob `json:"jobs"`
}

// CronRemoveResult is the result of cron.remove.
type CronRemoveResult struct {
	OK      bool `json:"ok"`
	Removed bool `json:"removed"`
}

// CronRunResult is the result of cron.run; reason "not-due" when a
// mode "due" run found the job not due.
type CronRunResult struct {
	OK     bool   `json:"ok"`
	Ran    bool   `json:"ran"`
	Reason string `json:"reason,omitempty"`
}

// CronRunLogEntry is one line of <state>/cron/runs/<jobId>.jsonl and an
// element of cron.runs.
type CronRunLogEntry struct {
	TS          int64  `json:"ts"`
	JobID       string `json:"jobId"`
	Action      string `json:"action"` // finished
	Status      string `json:"status,omitempty"`
	Error       string `json:"error,omitempty"`
	Summary     string `json:"summary,omitempty"`
	RunAtMs     *int64 `json:"runAtMs,omitempty"`
	DurationMs  *int64 `json:"durationMs,omitempty"`
	NextRunAtMs *int64 `json:"nextRunAtMs,omitempty"`
}

// CronRunsResult is the result of cron.runs.
type CronRunsResult struct {
	Entries []CronRunLogEntry `json:"entries"`
}

// CronEvent is the payload of the cron event: action added, updated,
// removed, started or finished.
type CronEvent struct {
	JobID       string `json:"jobId"`
	Action      string `json:"action"`
	RunAtMs     *int64 `json:"runAtMs,omitempty"`
	DurationMs  *int64 `json:"durationMs,omitempty"`
	Status      string `json:"status,omitempty"`
	Error       string `json:"error,omitempty"`
	Summary     string `json:"summary,omitempty"`
	NextRunAtMs *int64 `json:"nextRunAtMs,omitempty"`
}

// CronJobIDParams are the id part of cron.update/remove/run/runs: the
// original accepts id or jobId.
type CronJobIDParams struct {
	ID    string `json:"id,omitempty"`
	JobID string `json:"jobId,omitempty"`
}

// SetHeartbeatsResult is the result of set-heartbeats.
type SetHeartbeatsResult struct {
	OK      bool `json:"ok"`
	Enabled bool `json:"enabled"`
}
