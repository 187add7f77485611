package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

// Limits of a tool call.
const (
	// DefaultCallTimeout bounds one tool call unless the tool picks its
	// own (Timeouter).
	DefaultCallTimeout = 120 * time.Second
	// DefaultMaxOutputChars caps the text a tool result hands back to the
	// model (the rest is cut with a note): a tool must not blow the
	// context window in one call.
	DefaultMaxOutputChars = 200_000
)

// SessionStore is the session store as the session tools read it;
// *sessionstore.Store is one.
type SessionStore interface {
	List(agentIDs []string) (rows []sessionstore.Keyed, path string)
	Get(key string) (sessionstore.Entry, bool)
	SessionMessages(key string, limit int) ([]llm.Message, error)
}

// TurnRunner runs a turn in another session for sessions_send;
// *agent.Runner is one.
type TurnRunner interface {
	Run(ctx context.Context, t agent.Turn) agent.Outcome
}

// Options are what New needs. Every field is optional: a tool whose
// dependency is missing is not registered.
type Options struct {
	// Workspace is the default workspace dir (agents.defaults.workspace
	// and agents.list[].workspace override it per agent).
	Workspace string
	// Config returns the parsed clawdbot.json (profiles.Snapshot.Parsed)
	// at call time; nil: an empty config.
	Config func() map[string]any
	// Store is the session store (sessions_list, sessions_history,
	// session_status).
	Store SessionStore
	// Sessions is the runner's session store (sessions_send resolves its
	// target with it).
	Sessions agent.Sessions
	// Runner runs sessions_send's turns.
	Runner TurnRunner
	// Cron is the gateway's scheduler (the cron tool).
	Cron Scheduler
	// Messenger is the channels' send path (the message tool).
	Messenger Messenger
	// Extra are tools from other packages (exec, process), registered
	// after the core tools.
	Extra []Tool
	// CallTimeout overrides DefaultCallTimeout; MaxOutputChars overrides
	// DefaultMaxOutputChars.
	CallTimeout    time.Duration
	MaxOutputChars int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives tool failures (nil: discard).
	Log *slog.Logger
}

// Registry is the tool set of the agent runtime. It implements
// agent.Tools; it is safe for concurrent use.
type Registry struct {
	o Options

	mu    sync.RWMutex
	tools map[string]*entry
	order []string
}

type entry struct {
	tool   Tool
	spec   llm.Tool
	schema *schema
}

var _ agent.Tools = (*Registry)(nil)

// New returns the registry with the core tools whose dependencies o
// provides, then o.Extra.
func New(o Options) *Registry {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.MaxOutputChars == 0 {
		o.MaxOutputChars = DefaultMaxOutputChars
	}
	r := &Registry{o: o, tools: map[string]*entry{}}
	for _, t := range coreTools(o) {
		r.Register(t)
	}
	for _, t := range o.Extra {
		r.Register(t)
	}
	return r
}

// Register adds t (replacing a tool of the same name). A schema that does
// not compile panics: it is a programming error, found by any test.
func (r *Registry) Register(t Tool) {
	spec := t.Spec()
	sc, err := compileSchema(spec.Parameters)
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %q: %v", spec.Name, err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.tools[spec.Name]; !ok {
		r.order = append(r.order, spec.Name)
	}
	r.tools[spec.Name] = &entry{tool: t, spec: spec, schema: sc}
}

// Names are the registered tool names in registration order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

func (r *Registry) doc() map[string]any {
	if r.o.Config == nil {
		return nil
	}
	return r.o.Config()
}

// Specs are the tools the policy allows in session s, in registration
// order (agent.Tools).
func (r *Registry) Specs(s agent.Session) []llm.Tool {
	doc := r.doc()
	pol := PolicyFor(doc, s.AgentID)
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []llm.Tool
	for _, name := range r.order {
		if pol.Allows(name) && available(r.tools[name].tool, doc, s) {
			out = append(out, r.tools[name].spec)
		}
	}
	return out
}

// Call runs one toolCall block (agent.Tools). Every failure — an unknown
// or denied tool, arguments that are not valid JSON or do not match the
// schema, a tool error, a timeout — comes back as a result with IsError
// set, for the model to read; only a run's own abort is returned as an
// error.
func (r *Registry) Call(ctx context.Context, s agent.Session, call llm.Content) (agent.ToolResult, error) {
	doc := r.doc()
	name := NormalizeName(call.Name)
	r.mu.RLock()
	e := r.tools[name]
	r.mu.RUnlock()
	if e == nil || !PolicyFor(doc, s.AgentID).Allows(name) || !available(e.tool, doc, s) {
		return errResult(fmt.Sprintf("Tool %s not found", call.Name)), nil
	}
	args, err := e.schema.validate(call.Name, call.Arguments)
	if err != nil {
		return errResult(err.Error()), nil
	}
	c := &Call{ID: call.ID, Name: name, Args: args, Session: s, Workspace: workspaceFor(doc, s.AgentID, r.o.Workspace), Doc: doc,
		update: agent.ToolUpdates(ctx)}
	timeout := r.o.CallTimeout
	if t, ok := e.tool.(Timeouter); ok {
		timeout = t.CallTimeout(c)
	}
	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeoutCause(ctx, timeout, errCallTimeout)
		defer cancel()
	}
	res, err := safeRun(cctx, e.tool, c)
	if ctx.Err() != nil {
		// The run was aborted or timed out: the runner records which.
		return agent.ToolResult{Content: []llm.Content{llm.Text("Aborted")}, IsError: true}, nil
	}
	if err == nil && cctx.Err() != nil && errors.Is(context.Cause(cctx), errCallTimeout) {
		err = errCallTimeout
	}
	if err != nil {
		if errors.Is(err, errCallTimeout) || errors.Is(context.Cause(cctx), errCallTimeout) {
			err = fmt.Errorf("tool %s timed out after %s", name, timeout)
		}
		r.o.Log.Warn("tool failed", "tool", name, "err", err)
		return errResult(err.Error()), nil
	}
	capOutput(&res, r.o.MaxOutputChars)
	return res, nil
}

func available(t Tool, doc map[string]any, s agent.Session) bool {
	c, ok := t.(Conditional)
	return !ok || c.Available(doc, s)
}

// safeRun runs t, turning a panic into an error: a broken tool must not
// take the gateway down with it.
func safeRun(ctx context.Context, t Tool, c *Call) (res agent.ToolResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = agent.ToolResult{}, fmt.Errorf("tool %s failed: %v", c.Name, p)
		}
	}()
	return t.Run(ctx, c)
}

var errCallTimeout = errors.New("tool call timed out")

func errResult(msg string) agent.ToolResult {
	return agent.ToolResult{Content: []llm.Content{llm.Text(msg)}, Details: json.RawMessage(`{}`), IsError: true}
}

// capOutput cuts the text blocks of res to max characters in all.
func capOutput(res *agent.ToolResult, max int) {
	left := max
	for i, c := range res.Content {
		if c.Type != llm.ContentText {
			continue
		}
		if len(c.Text) <= left {
			left -= len(c.Text)
			continue
		}
		cut := left
		for cut > 0 && !utf8.RuneStart(c.Text[cut]) {
			cut--
		}
		res.Content[i].Text = c.Text[:cut] + fmt.Sprintf("\n\n[output truncated: %d of %d characters shown]", cut, len(c.Text))
		left = 0
	}
}

// workspaceFor is the workspace dir of agentID as the runner picks it:
// agents.list[].workspace, agents.defaults.workspace, then def.
func workspaceFor(doc map[string]any, agentID, def string) string {
	ws := def
	if w := str(obj(obj(doc, "agents"), "defaults"), "workspace"); w != "" {
		ws = w
	}
	if a := agentEntry(doc, agentID); a != nil {
		if w := str(a, "workspace"); w != "" {
			ws = w
		}
	}
	ws = expandHome(ws)
	if abs, err := filepath.Abs(cmp.Or(ws, ".")); err == nil {
		ws = abs
	}
	return ws
}

// sortedKeys is a helper for stable output.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The real store and runner are what the core passes.
var (
	_ SessionStore = (*sessionstore.Store)(nil)
	_ TurnRunner   = (*agent.Runner)(nil)
)
