//go:build !windows

package cli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// The TUI runs on a real pseudo-terminal, talking to the replay gateway
// (the original's recorded frames). A terminal emulator (x/vt) reads
// what it draws, so the assertions are about the screen a person sees,
// and keys go in as the bytes a terminal sends.

type tuiHarness struct {
	t    *testing.T
	g    *replayGateway
	emu  *vt.SafeEmulator
	in   io.Writer
	done chan struct{} // closed when Main returned
	code int
}

const tuiCols, tuiRows = 110, 30

func startTUI(t *testing.T, g *replayGateway, args ...string) *tuiHarness {
	t.Helper()
	h := startTUIAt(t, g.URL(), args...)
	h.g = g
	return h
}

func startTUIAt(t *testing.T, url string, args ...string) *tuiHarness {
	t.Helper()
	ptmx, tty := openPTY(t)
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: tuiRows, Cols: tuiCols}); err != nil {
		t.Fatal(err)
	}
	emu := vt.NewSafeEmulator(tuiCols, tuiRows)
	go func() { _, _ = io.Copy(emu, ptmx) }()
	// The emulator's answers to the program's terminal queries.
	go func() { _, _ = io.Copy(ptmx, emu) }()
	env, _, errb := callTestEnv(t, nil)
	env.Stdin, env.Stdout = tty, tty
	env.Environ = func() []string { return []string{"TERM=xterm-256color"} }
	h := &tuiHarness{t: t, emu: emu, in: ptmx, done: make(chan struct{})}
	go func() {
		h.code = Main(append([]string{"tui", "--url", url}, args...), env)
		close(h.done)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
			return
		default:
		}
		h.key("\x04") // ctrl+d
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Errorf("the tui did not quit on ctrl+d; stderr %q", errb)
		}
	})
	return h
}

func (h *tuiHarness) screen() string { return ansi.Strip(h.emu.Render()) }

func (h *tuiHarness) key(s string) {
	h.t.Helper()
	if _, err := io.WriteString(h.in, s); err != nil {
		h.t.Fatal(err)
	}
}

// waitScreen polls the screen until it shows every one of want.
func (h *tuiHarness) waitScreen(want ...string) string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := h.screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the screen never showed %q:\n%s", missing, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFor polls the received requests until one satisfies ok.
func (g *replayGateway) waitFor(t *testing.T, what string, ok func(receivedReq) bool) receivedReq {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range g.Received() {
			if ok(r) {
				return r
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("replay: the client never sent %s; it sent %v", what, g.Received())
	return receivedReq{}
}

func TestTUIHistoryStreamAbort(t *testing.T) {
	g := newReplayGateway(t, 2, []string{"frames-c-chat-history.json", "frames-d-sessions.json", "frames-e-chat-abort.json"})
	h := startTUI(t, g)

	// On open: the transcript, the header and the status line (gateway
	// URL, session, model, tokens from sessions.list).
	h.waitScreen("you: hi there", "assistant: Hello from the fake model.",
		"clawdbot tui - "+g.URL()+" - agent main - session main",
		"agent main | session main | fake/fake-model | tokens 11/200k", "gateway connected")
	hist := g.waitFor(t, "chat.history", func(r receivedReq) bool { return r.Method == "chat.history" })
	if hist.Params["sessionKey"] != "agent:main:main" || hist.Params["limit"] != float64(200) {
		t.Errorf("chat.history params %v", hist.Params)
	}

	// A message streams the reply in place.
	h.key("SLOW please\r")
	send := g.waitFor(t, "chat.send", func(r receivedReq) bool { return r.Method == "chat.send" })
	if send.Params["message"] != "SLOW please" || send.Params["sessionKey"] != "agent:main:main" || send.Params["deliver"] != false {
		t.Errorf("chat.send params %v", send.Params)
	}
	runID, _ := send.Params["idempotencyKey"].(string)
	if !uuidRE.MatchString(runID) {
		t.Errorf("idempotencyKey %q is not a UUID v4", runID)
	}
	h.waitScreen("you: SLOW please", "assistant: w1")
	s := h.waitScreen("assistant: w1 w2 w3", "| streaming")
	if strings.Count(s, "assistant: w1") != 1 {
		t.Errorf("the streamed reply is not updated in place:\n%s", s)
	}

	// Esc aborts the active run.
	h.key("\x1b")
	abort := g.waitFor(t, "chat.abort", func(r receivedReq) bool { return r.Method == "chat.abort" })
	if abort.Params["sessionKey"] != "agent:main:main" || abort.Params["runId"] != runID {
		t.Errorf("chat.abort params %v, want the run %s", abort.Params, runID)
	}
	h.waitScreen("· run aborted", "| aborted")

	// With no run active, Esc says so and sends nothing.
	h.key("\x1b")
	h.waitScreen("· no active run")
	n := 0
	for _, r := range g.Received() {
		if r.Method == "chat.abort" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d chat.abort sent, want 1", n)
	}
	if u := g.Unmatched(); len(u) > 0 {
		t.Errorf("requests the original never answered in these recordings: %v", u)
	}
}

func TestTUISessionSwitch(t *testing.T) {
	g := newReplayGateway(t, 4, []string{"frames-c-chat-history.json", "frames-d-sessions.json", "frames-d-sessions-2.json"})
	h := startTUI(t, g)
	h.waitScreen("assistant: Hello from the fake model.", "session main")

	// ctrl+p lists the sessions (sessions.list); the current one is
	// selected; up moves to agent:main:second, Enter opens it.
	h.key("\x10")
	h.waitScreen("sessions (Enter opens, Esc closes):", "> agent:main:main", "  agent:main:second")
	h.key("\x1b[A")
	h.waitScreen("> agent:main:second")
	h.key("\r")
	g.waitFor(t, "chat.history of the chosen session", func(r receivedReq) bool {
		return r.Method == "chat.history" && r.Params["sessionKey"] == "agent:main:second"
	})
	h.waitScreen("- session second", "agent main | session second |", "· session agent:main:second")

	// /session <key> switches too, resolved below the current agent.
	h.key("/session main\r")
	g.waitFor(t, "chat.history back on main", func(r receivedReq) bool {
		n := 0
		for _, x := range g.Received() {
			if x.Method == "chat.history" && x.Params["sessionKey"] == "agent:main:main" {
				n++
			}
		}
		return n >= 2
	})
	h.waitScreen("- session main", "· session agent:main:main")
}

func TestTUIQuitKeys(t *testing.T) {
	g := newReplayGateway(t, 4, []string{"frames-c-chat-history.json", "frames-d-sessions.json"})
	h := startTUI(t, g)
	h.waitScreen("gateway connected")
	h.key("typed")
	h.waitScreen("> typed")
	h.key("\x03") // ctrl+c with text clears it
	h.waitScreen("| cleared input")
	h.key("\x03")
	h.waitScreen("press ctrl+c again to exit")
	h.key("\x03")
	select {
	case <-h.done:
		if h.code != ExitOK {
			t.Errorf("exit %d, want 0", h.code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ctrl+c twice did not quit")
	}
}

func TestTUINeedsATerminal(t *testing.T) {
	env, out, errb := callTestEnv(t, nil)
	if code := Main([]string{"tui", "--url", "ws://127.0.0.1:1"}, env); code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	want := "error: tui: needs a terminal on stdin and stdout\nhint: for scripts use 'clawdbot agent --agent main --message \"...\"'\n"
	if errb.String() != want || out.Len() != 0 {
		t.Errorf("stderr %q, want %q", errb, want)
	}
}

// The TUI against our real gateway on 127.0.0.1:0 (sessions.* and
// chat.history are served; the agent methods are not wired into the
// gateway yet, so no turn runs here): it connects as the original's TUI
// (gateway-client / ui), and the history and the session row load.
func TestTUIRealGateway(t *testing.T) {
	g := startTestGateway(t, "tui-token", "")
	h := startTUIAt(t, g.url, "--token", "tui-token")
	s := h.waitScreen("· session agent:main:main", "gateway connected", "agent main | session main |")
	if strings.Contains(s, "failed") {
		t.Errorf("a call failed:\n%s", s)
	}
}
