package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/client"
)

func init() {
	Register(&Command{Path: "tui", Summary: "open a terminal chat connected to the gateway", Run: runTUI,
		Exits: []ExitCode{
			{ExitOK, "closed by the user (ctrl+d, ctrl+c twice, /exit)"},
			{ExitFailure, "not a terminal, or the terminal failed"},
			{Code: ExitUsage},
		}})
}

// tuiCallTimeout bounds each request the chat makes.
const tuiCallTimeout = client.DefaultCallTimeout

type tuiFlags struct {
	Conn         clientFlags
	Session      string
	Thinking     string
	Message      string
	TimeoutMs    int
	HistoryLimit int
	Deliver      bool
}

// runTUI is the original's `clawdbot tui`: a chat on one session of the
// gateway, kept connected by client.Reconnecting. It speaks the Control
// UI's methods (doc/messaging.md §1.16): chat.history on open and after
// every switch, chat.send with chat events streaming the reply (§1.5,
// §2.2), chat.abort on Esc (§1.7), sessions.list for the picker (ctrl+p)
// and the footer's model and tokens, agents.list for the agent names.
func runTUI(env *Env, args []string) int {
	var f tuiFlags
	fs := env.FlagSet("tui", "tui [flags]")
	fs.StringVar(&f.Conn.URL, "url", "", "gateway WebSocket URL (default: gateway.remote.url in remote mode, else the profile's ws://127.0.0.1:<port>)")
	fs.StringVar(&f.Conn.Token, "token", "", "gateway token (default: CLAWDBOT_GATEWAY_TOKEN, then gateway.auth.token)")
	fs.StringVar(&f.Conn.Password, "password", "", "gateway password (default: CLAWDBOT_GATEWAY_PASSWORD, then gateway.auth.password)")
	fs.StringVar(&f.Session, "session", "", `session key (default: the agent's "main", or "global" when the scope is global)`)
	fs.BoolVar(&f.Deliver, "deliver", false, "deliver assistant replies to the session's channel")
	fs.StringVar(&f.Thinking, "thinking", "", "thinking level override")
	fs.StringVar(&f.Message, "message", "", "send this message after connecting")
	fs.IntVar(&f.TimeoutMs, "timeout-ms", 0, "agent timeout in ms (default agents.defaults.timeoutSeconds)")
	fs.IntVar(&f.HistoryLimit, "history-limit", 200, "history entries to load (1-1000)")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	if f.HistoryLimit < 1 || f.HistoryLimit > 1000 {
		return env.Usagef("tui", "tui: invalid --history-limit %d (use 1-1000)", f.HistoryLimit)
	}
	if fs.Changed("timeout-ms") && f.TimeoutMs <= 0 {
		return env.Usagef("tui", "tui: invalid --timeout-ms %d (use a positive number of ms, or leave it out)", f.TimeoutMs)
	}
	if !isTerminal(env.Stdin) || !isTerminal(env.Stdout) {
		return env.Fail(ExitFailure, CodeFailed, "tui: needs a terminal on stdin and stdout",
			"for scripts use '"+env.Hint(`clawdbot agent --agent main --message "..."`)+"'")
	}
	t, err := resolveGatewayTarget(env, f.Conn)
	if err != nil {
		return env.Errorf("%v", err)
	}
	ac := loadAgentConfig(env, t.Profile)

	ctx, cancel := context.WithCancel(env.Context)
	defer cancel()
	rc := &client.Reconnecting{}
	m := newTUIModel(rc, t.URL, f, ac)
	p := tea.NewProgram(m, tea.WithInput(env.Stdin), tea.WithOutput(env.Stdout), tea.WithContext(ctx),
		tea.WithEnvironment(env.Environ()))

	opts := t.Opts
	// The original's TUI connects as a UI client (gateway-client / ui).
	opts.ClientID, opts.Mode, opts.DisplayName = "gateway-client", "ui", "clawdbot-tui"
	opts.InstanceID = wire.NewID()
	opts.Scopes = client.CLIScopes
	opts.OnEvent = func(ev client.Event) { p.Send(tuiEventMsg{ev}) }
	opts.OnGap = func(expected, received int64) { p.Send(tuiGapMsg{expected, received}) }
	rc.Opts = opts
	rc.OnConnect = func(c *client.Conn) { p.Send(tuiConnectedMsg{c.Hello()}) }
	rc.OnError = func(err error) { p.Send(tuiDisconnectedMsg{err}) }
	go func() { _ = rc.Run(ctx) }()

	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return env.Errorf("tui: %v", err)
	}
	return ExitOK
}

// tuiCaller is what the chat needs of the connection (client.Reconnecting).
type tuiCaller interface {
	Call(ctx context.Context, method string, params, result any, opts ...client.CallOption) error
}

// Messages of the chat's event loop.
type (
	tuiConnectedMsg    struct{ hello wire.HelloOk }
	tuiDisconnectedMsg struct{ err error }
	tuiEventMsg        struct{ ev client.Event }
	tuiGapMsg          struct{ expected, received int64 }
	tuiHistoryMsg      struct {
		key    string
		cutoff int // first line id created after the request
		res    tuiHistory
		err    error
		info   *tuiSessionInfo
	}
	tuiInfoMsg   struct{ info *tuiSessionInfo }
	tuiAgentsMsg struct{ names map[string]string }
	tuiSentMsg   struct {
		runID string
		err   error
	}
	tuiAbortedMsg struct{ err error }
	tuiPickerMsg  struct {
		rows []tuiSessionRow
		err  error
	}
)

type tuiHistory struct {
	SessionID     string            `json:"sessionId"`
	ThinkingLevel string            `json:"thinkingLevel"`
	Messages      []json.RawMessage `json:"messages"`
}

type tuiSessionRow struct {
	Key           string `json:"key"`
	DisplayName   string `json:"displayName"`
	DerivedTitle  string `json:"derivedTitle"`
	Model         string `json:"model"`
	ModelProvider string `json:"modelProvider"`
	TotalTokens   *int64 `json:"totalTokens"`
	ContextTokens *int64 `json:"contextTokens"`
	ThinkingLevel string `json:"thinkingLevel"`
}

type tuiSessionsList struct {
	Defaults struct {
		Model         string `json:"model"`
		ModelProvider string `json:"modelProvider"`
		ContextTokens *int64 `json:"contextTokens"`
	} `json:"defaults"`
	Sessions []tuiSessionRow `json:"sessions"`
}

// tuiSessionInfo is what the footer shows of the current session.
type tuiSessionInfo struct {
	Model         string // provider/model
	TotalTokens   *int64
	ContextTokens *int64
	ThinkingLevel string
	DisplayName   string
}

type tuiLineKind int

const (
	lineSystem tuiLineKind = iota
	lineUser
	lineAssistant
)

type tuiLine struct {
	kind  tuiLineKind
	text  string
	runID string // assistant lines of a live run
	id    int    // order of creation: lines newer than a history request survive its answer
}

type tuiModel struct {
	gw    tuiCaller
	url   string
	flags tuiFlags
	ac    agentConfig

	width, height int
	input         textinput.Model
	lines         []tuiLine
	nextLineID    int

	connected  bool
	connStatus string
	activity   string

	agentID    string
	sessionKey string
	agentNames map[string]string
	info       tuiSessionInfo
	activeRun  string
	finalized  map[string]bool
	autoSent   bool
	everUp     bool
	lastCtrlC  time.Time
	picker     *tuiPicker
}

type tuiPicker struct {
	rows   []tuiSessionRow
	cursor int
}

func newTUIModel(gw tuiCaller, url string, f tuiFlags, ac agentConfig) *tuiModel {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "message (Enter sends, Esc aborts, ctrl+p sessions, ctrl+d quits)"
	in.Focus()
	m := &tuiModel{gw: gw, url: url, flags: f, ac: ac, input: in, width: 80, height: 24,
		connStatus: "connecting", activity: "idle", agentID: ac.DefaultAgent,
		agentNames: map[string]string{}, finalized: map[string]bool{}}
	m.sessionKey = m.resolveSessionKey(f.Session)
	return m
}

// resolveSessionKey is the original's: "global" under the global scope;
// empty → the agent's main key; agent:… and global/unknown as given;
// anything else is a key below the current agent.
func (m *tuiModel) resolveSessionKey(raw string) string {
	raw = strings.TrimSpace(raw)
	switch {
	case m.ac.Scope == "global":
		return "global"
	case raw == "":
		return "agent:" + m.agentID + ":" + m.ac.MainKey
	case raw == "global" || raw == "unknown" || strings.HasPrefix(raw, "agent:"):
		return raw
	}
	return "agent:" + m.agentID + ":" + raw
}

// sessionLabel is the key without its agent:<id>: prefix.
func sessionLabel(key string) string {
	if rest, ok := strings.CutPrefix(key, "agent:"); ok {
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			return rest[i+1:]
		}
	}
	return key
}

func (m *tuiModel) Init() tea.Cmd { return textinput.Blink }

func (m *tuiModel) system(format string, args ...any) {
	m.addLine(tuiLine{kind: lineSystem, text: fmt.Sprintf(format, args...)})
}

func (m *tuiModel) addLine(l tuiLine) {
	l.id = m.nextLineID
	m.nextLineID++
	m.lines = append(m.lines, l)
}

func (m *tuiModel) call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), tuiCallTimeout)
	defer cancel()
	return m.gw.Call(ctx, method, params, result)
}

func (m *tuiModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.input.SetWidth(max(10, msg.Width-4))
		return m, nil
	case tuiConnectedMsg:
		m.connected = true
		m.connStatus = "gateway connected"
		if m.everUp {
			m.connStatus = "gateway reconnected"
		}
		m.everUp = true
		if sd := msg.hello.Snapshot.SessionDefaults; sd != nil && m.flags.Session == "" {
			// The gateway knows its default agent, main key and scope
			// better than our reading of the config.
			m.ac.MainKey = cmp.Or(sd.MainKey, m.ac.MainKey)
			m.ac.Scope = cmp.Or(sd.Scope, m.ac.Scope)
			m.agentID = cmp.Or(sd.DefaultAgentID, m.agentID)
			m.sessionKey = m.resolveSessionKey("")
		}
		return m, tea.Batch(m.loadAgents(), m.loadHistory())
	case tuiDisconnectedMsg:
		if m.connected || m.everUp {
			m.connStatus = "gateway disconnected: " + msg.err.Error()
		} else {
			m.connStatus = "connecting: " + msg.err.Error()
		}
		m.connected = false
		m.activity = "idle"
		return m, nil
	case tuiGapMsg:
		m.connStatus = fmt.Sprintf("event gap: expected %d, got %d", msg.expected, msg.received)
		return m, nil
	case tuiAgentsMsg:
		m.agentNames = msg.names
		return m, nil
	case tuiHistoryMsg:
		return m, m.applyHistory(msg)
	case tuiInfoMsg:
		if msg.info != nil {
			m.info = *msg.info
		}
		return m, nil
	case tuiSentMsg:
		if msg.err != nil {
			m.system("send failed: %v", msg.err)
			if m.activeRun == msg.runID {
				m.activeRun = ""
			}
			m.activity = "error"
		} else if m.activeRun == msg.runID && m.activity == "sending" {
			m.activity = "waiting"
		}
		return m, nil
	case tuiAbortedMsg:
		if msg.err != nil {
			m.system("abort failed: %v", msg.err)
			m.activity = "abort failed"
		} else {
			m.activity = "aborted"
		}
		return m, nil
	case tuiPickerMsg:
		if msg.err != nil {
			m.system("sessions list failed: %v", msg.err)
			return m, nil
		}
		m.picker = &tuiPicker{rows: msg.rows}
		for i, r := range msg.rows {
			if r.Key == m.sessionKey {
				m.picker.cursor = i
			}
		}
		return m, nil
	case tuiEventMsg:
		return m, m.onEvent(msg.ev)
	case tea.KeyPressMsg:
		return m.onKey(msg)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

func (m *tuiModel) onKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.picker != nil {
		switch k.String() {
		case "esc":
			m.picker = nil
		case "up", "ctrl+k":
			m.picker.cursor = max(0, m.picker.cursor-1)
		case "down", "ctrl+j":
			m.picker.cursor = min(len(m.picker.rows)-1, m.picker.cursor+1)
		case "enter":
			if len(m.picker.rows) > 0 {
				key := m.picker.rows[m.picker.cursor].Key
				m.picker = nil
				return m, m.setSession(key)
			}
			m.picker = nil
		case "ctrl+c", "ctrl+d":
			m.picker = nil
		}
		return m, nil
	}
	switch k.String() {
	case "esc":
		return m, m.abortActive()
	case "ctrl+d":
		return m, tea.Quit
	case "ctrl+c":
		if strings.TrimSpace(m.input.Value()) != "" {
			m.input.SetValue("")
			m.activity = "cleared input"
			return m, nil
		}
		if time.Since(m.lastCtrlC) < time.Second {
			return m, tea.Quit
		}
		m.lastCtrlC = time.Now()
		m.activity = "press ctrl+c again to exit"
		return m, nil
	case "ctrl+p":
		return m, m.openPicker()
	case "enter":
		text := strings.TrimSpace(m.input.Value())
		m.input.SetValue("")
		if text == "" {
			return m, nil
		}
		return m, m.submit(text)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	return m, cmd
}

// submit handles the chat's own commands and sends everything else, slash
// directives such as /new or /status included, to the gateway.
func (m *tuiModel) submit(text string) tea.Cmd {
	word, arg, _ := strings.Cut(text, " ")
	switch word {
	case "/exit", "/quit":
		return tea.Quit
	case "/abort":
		return m.abortActive()
	case "/sessions":
		return m.openPicker()
	case "/session":
		if strings.TrimSpace(arg) == "" {
			return m.openPicker()
		}
		return m.setSession(m.resolveSessionKey(arg))
	}
	return m.send(text)
}

func (m *tuiModel) send(text string) tea.Cmd {
	m.addLine(tuiLine{kind: lineUser, text: text})
	runID := wire.NewID()
	m.activeRun = runID
	m.activity = "sending"
	deliver := m.flags.Deliver
	params := wire.ChatSendParams{SessionKey: m.sessionKey, Message: text, Thinking: m.flags.Thinking,
		Deliver: &deliver, IdempotencyKey: runID}
	if m.flags.TimeoutMs > 0 {
		ms := int64(m.flags.TimeoutMs)
		params.TimeoutMs = &ms
	}
	return func() tea.Msg {
		return tuiSentMsg{runID: runID, err: m.call("chat.send", params, nil)}
	}
}

func (m *tuiModel) abortActive() tea.Cmd {
	if m.activeRun == "" {
		m.system("no active run")
		return nil
	}
	params := wire.ChatAbortParams{SessionKey: m.sessionKey, RunID: m.activeRun}
	return func() tea.Msg { return tuiAbortedMsg{err: m.call("chat.abort", params, nil)} }
}

func (m *tuiModel) openPicker() tea.Cmd {
	params := map[string]any{"includeGlobal": false, "includeUnknown": false, "includeDerivedTitles": true}
	return func() tea.Msg {
		var res tuiSessionsList
		err := m.call("sessions.list", params, &res)
		return tuiPickerMsg{rows: res.Sessions, err: err}
	}
}

func (m *tuiModel) setSession(key string) tea.Cmd {
	if rest, ok := strings.CutPrefix(key, "agent:"); ok {
		if id, _, ok := strings.Cut(rest, ":"); ok {
			m.agentID = id
		}
	}
	m.sessionKey = key
	m.activeRun = ""
	m.info = tuiSessionInfo{}
	m.finalized = map[string]bool{}
	return m.loadHistory()
}

func (m *tuiModel) loadAgents() tea.Cmd {
	return func() tea.Msg {
		var res struct {
			Agents []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"agents"`
		}
		names := map[string]string{}
		if m.call("agents.list", struct{}{}, &res) == nil {
			for _, a := range res.Agents {
				if a.Name != "" {
					names[a.ID] = a.Name
				}
			}
		}
		return tuiAgentsMsg{names}
	}
}

// loadHistory asks for the session's transcript and then its row of
// sessions.list (model and tokens for the footer), as the original does.
func (m *tuiModel) loadHistory() tea.Cmd {
	key, limit, cutoff := m.sessionKey, int64(m.flags.HistoryLimit), m.nextLineID
	return func() tea.Msg {
		var h tuiHistory
		err := m.call("chat.history", wire.ChatHistoryParams{SessionKey: key, Limit: &limit}, &h)
		return tuiHistoryMsg{key: key, cutoff: cutoff, res: h, err: err, info: m.fetchInfo(key)}
	}
}

func (m *tuiModel) refreshInfo() tea.Cmd {
	key := m.sessionKey
	return func() tea.Msg { return tuiInfoMsg{m.fetchInfo(key)} }
}

func (m *tuiModel) fetchInfo(key string) *tuiSessionInfo {
	var res tuiSessionsList
	if m.call("sessions.list", map[string]any{"includeGlobal": false, "includeUnknown": false}, &res) != nil {
		return nil
	}
	info := &tuiSessionInfo{ContextTokens: res.Defaults.ContextTokens}
	model, provider := res.Defaults.Model, res.Defaults.ModelProvider
	for _, r := range res.Sessions {
		if r.Key == key || sessionLabel(r.Key) == key {
			model, provider = cmp.Or(r.Model, model), cmp.Or(r.ModelProvider, provider)
			info.TotalTokens = r.TotalTokens
			if r.ContextTokens != nil {
				info.ContextTokens = r.ContextTokens
			}
			info.ThinkingLevel, info.DisplayName = r.ThinkingLevel, r.DisplayName
		}
	}
	info.Model = model
	if provider != "" && model != "" {
		info.Model = provider + "/" + model
	}
	return info
}

func (m *tuiModel) applyHistory(msg tuiHistoryMsg) tea.Cmd {
	if msg.key != m.sessionKey {
		return nil // a switch happened since
	}
	if msg.info != nil {
		m.info = *msg.info
	}
	if msg.err != nil {
		m.system("history failed: %v", msg.err)
	} else {
		// What was typed or streamed while the history was on its way
		// stays, below it.
		var newer []tuiLine
		for _, l := range m.lines {
			if l.id >= msg.cutoff {
				newer = append(newer, l)
			}
		}
		m.lines = m.lines[:0]
		m.system("session %s", msg.key)
		if msg.res.ThinkingLevel != "" && m.info.ThinkingLevel == "" {
			m.info.ThinkingLevel = msg.res.ThinkingLevel
		}
		for _, raw := range msg.res.Messages {
			var mm struct {
				Role       string `json:"role"`
				ToolName   string `json:"toolName"`
				StopReason string `json:"stopReason"`
			}
			if json.Unmarshal(raw, &mm) != nil {
				continue
			}
			text := messageText(raw)
			switch {
			case mm.Role == "user" && text != "":
				m.addLine(tuiLine{kind: lineUser, text: text})
			case mm.Role == "assistant" && mm.StopReason == "injected" && text != "":
				m.addLine(tuiLine{kind: lineSystem, text: text})
			case mm.Role == "assistant" && text != "":
				m.addLine(tuiLine{kind: lineAssistant, text: text})
			case mm.Role == "toolResult":
				m.system("tool %s: %s", cmp.Or(mm.ToolName, "tool"), firstLine(text))
			}
		}
		m.lines = append(m.lines, newer...)
	}
	if !m.autoSent && strings.TrimSpace(m.flags.Message) != "" {
		m.autoSent = true
		return m.send(strings.TrimSpace(m.flags.Message))
	}
	return nil
}

// messageText is the text of a transcript or chat-event message: a string
// content, or its text parts joined.
func messageText(raw json.RawMessage) string {
	var m struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &m) != nil || len(m.Content) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return strings.TrimSpace(s)
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(m.Content, &parts)
	var texts []string
	for _, p := range parts {
		if p.Type == "text" && strings.TrimSpace(p.Text) != "" {
			texts = append(texts, strings.TrimSpace(p.Text))
		}
	}
	return strings.Join(texts, "\n")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// onEvent follows the chat events of the current session (doc/messaging.md
// §2.2) and the lifecycle of the active run (§2.1), as the original's TUI
// does: a delta replaces the run's streamed text (it carries the whole
// text so far), a final settles it, aborted and error end the run.
func (m *tuiModel) onEvent(ev client.Event) tea.Cmd {
	switch ev.Event {
	case wire.EventChat:
		var e struct {
			RunID        string          `json:"runId"`
			SessionKey   string          `json:"sessionKey"`
			State        string          `json:"state"`
			Message      json.RawMessage `json:"message"`
			ErrorMessage string          `json:"errorMessage"`
		}
		if json.Unmarshal(ev.Payload, &e) != nil || e.SessionKey != m.sessionKey {
			return nil
		}
		if m.finalized[e.RunID] && (e.State == "delta" || e.State == "final") {
			return nil
		}
		if m.activeRun == "" && e.State == "delta" {
			m.activeRun = e.RunID
		}
		switch e.State {
		case "delta":
			if text := messageText(e.Message); text != "" {
				m.setAssistant(e.RunID, text)
				m.activity = "streaming"
			}
		case "final":
			text := messageText(e.Message)
			var stop struct {
				StopReason string `json:"stopReason"`
			}
			_ = json.Unmarshal(e.Message, &stop)
			if stop.StopReason == "injected" && text != "" {
				m.system("%s", text)
			} else if text != "" {
				m.setAssistant(e.RunID, text)
			}
			m.settle(e.RunID)
			m.activity = "idle"
			if stop.StopReason == "error" {
				m.activity = "error"
			}
			return m.refreshInfo()
		case "aborted":
			m.system("run aborted")
			m.settle(e.RunID)
			m.activity = "aborted"
			return m.refreshInfo()
		case "error":
			m.system("run error: %s", cmp.Or(e.ErrorMessage, "unknown"))
			m.settle(e.RunID)
			m.activity = "error"
			return m.refreshInfo()
		}
	case wire.EventAgent:
		var e struct {
			RunID  string `json:"runId"`
			Stream string `json:"stream"`
			Data   struct {
				Phase string `json:"phase"`
			} `json:"data"`
		}
		if json.Unmarshal(ev.Payload, &e) != nil || e.RunID != m.activeRun || e.Stream != "lifecycle" {
			return nil
		}
		switch e.Data.Phase {
		case "start":
			m.activity = "running"
		case "error":
			m.activity = "error"
		}
	}
	return nil
}

// setAssistant shows text as the run's reply, in place while it streams.
func (m *tuiModel) setAssistant(runID, text string) {
	for i := len(m.lines) - 1; i >= 0; i-- {
		if m.lines[i].kind == lineAssistant && m.lines[i].runID == runID {
			m.lines[i].text = text
			return
		}
	}
	m.addLine(tuiLine{kind: lineAssistant, text: text, runID: runID})
}

// settle ends a run: later deltas and finals of it are ignored.
func (m *tuiModel) settle(runID string) {
	m.finalized[runID] = true
	if m.activeRun == runID {
		m.activeRun = ""
	}
	if len(m.finalized) > 200 {
		m.finalized = map[string]bool{runID: true}
	}
}

func (m *tuiModel) header() string {
	agent := m.agentID
	if n := m.agentNames[agent]; n != "" {
		agent += " (" + n + ")"
	}
	return fmt.Sprintf("clawdbot tui - %s - agent %s - session %s", m.url, agent, sessionLabel(m.sessionKey))
}

// footer is the status line: agent, session, model, levels, tokens.
func (m *tuiModel) footer() string {
	agent := m.agentID
	if n := m.agentNames[agent]; n != "" {
		agent += " (" + n + ")"
	}
	session := sessionLabel(m.sessionKey)
	if m.info.DisplayName != "" {
		session += " (" + m.info.DisplayName + ")"
	}
	parts := []string{"agent " + agent, "session " + session, cmp.Or(m.info.Model, "unknown")}
	if th := m.info.ThinkingLevel; th != "" && th != "off" {
		parts = append(parts, "think "+th)
	}
	if m.info.ContextTokens != nil {
		used := "?"
		if m.info.TotalTokens != nil {
			used = formatTokenCount(*m.info.TotalTokens)
		}
		parts = append(parts, "tokens "+used+"/"+formatTokenCount(*m.info.ContextTokens))
	}
	return strings.Join(parts, " | ")
}

func formatTokenCount(n int64) string {
	if n >= 1000 {
		return fmt.Sprintf("%dk", (n+500)/1000)
	}
	return fmt.Sprint(n)
}

func (m *tuiModel) View() tea.View {
	w := max(20, m.width)
	bodyHeight := max(1, m.height-4)
	var body []string
	if m.picker != nil {
		body = append(body, "sessions (Enter opens, Esc closes):")
		for i, r := range m.picker.rows {
			mark := "  "
			if i == m.picker.cursor {
				mark = "> "
			}
			title := ""
			if t := cmp.Or(r.DisplayName, r.DerivedTitle); t != "" {
				title = "  " + t
			}
			body = append(body, ansi.Truncate(mark+r.Key+title, w, "…"))
		}
	} else {
		for _, l := range m.lines {
			prefix := ""
			switch l.kind {
			case lineUser:
				prefix = "you: "
			case lineAssistant:
				prefix = "assistant: "
			case lineSystem:
				prefix = "· "
			}
			body = append(body, strings.Split(ansi.Wrap(prefix+l.text, w, ""), "\n")...)
		}
	}
	if len(body) > bodyHeight {
		body = body[len(body)-bodyHeight:]
	}
	rows := append([]string{ansi.Truncate(m.header(), w, "…")}, body...)
	for len(rows) < bodyHeight+1 {
		rows = append(rows, "")
	}
	status := m.connStatus
	if m.activity != "" {
		status += " | " + m.activity
	}
	rows = append(rows, ansi.Truncate(status, w, "…"), ansi.Truncate(m.footer(), w, "…"), m.input.View())
	v := tea.NewView(strings.Join(rows, "\n"))
	v.AltScreen = true
	v.WindowTitle = "clawdbot tui - session " + sessionLabel(m.sessionKey)
	return v
}
