// Package browsertest drives the gateway's embedded Control UI
// (gateway/controlui) in a real headless Chromium through the DevTools
// protocol (chromedp), against a real gateway on 127.0.0.1:0. It has test
// files only: the harness, the UI tests, the first-paint and delta-render
// benchmarks, `make screenshots` (TestScreenshots) and a local check of the
// original's Control UI against our gateway.
//
// The model behind chat turns is gateway/models/llmtest's OpenAI fake, a
// fake because no real model service can be reached from a test; it
// streams real SSE through our provider code, so everything from the
// provider's HTTP stream to the browser's DOM is the real thing.
//
// Without Chromium the tests skip, saying so; CONTROLUI_BROWSER_REQUIRED=1
// (set by .ci/run, which installs Debian's chromium) makes them fail
// instead. CHROMIUM overrides the browser's path.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// token is the gateway token the tests type into the UI.
const token = "browser-token-0123456789"

// chromiumFlags are the browser's command line: headless, no sandbox (CI
// runs as root), and nothing that reaches beyond loopback on its own.
var chromiumFlags = []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
	"disable-component-update", "disable-sync", "no-first-run",
	// Quiet, deterministic screenshots.
	"hide-scrollbars", "mute-audio", "disable-default-apps", "disable-extensions",
	// /dev/shm is small in containers; timers and frames run at full rate
	// so that timings do not depend on what else the machine does.
	"disable-dev-shm-usage", "disable-background-timer-throttling", "disable-backgrounding-occluded-windows",
	"disable-renderer-backgrounding"}

// hostRules keep the browser on loopback whatever a page asks for: every
// other host name fails to resolve (no test reaches beyond loopback).
const hostRules = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"

// chromiumPath is $CHROMIUM, else chromium on PATH, else /usr/bin/chromium;
// without one the test skips (or fails under CONTROLUI_BROWSER_REQUIRED=1).
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, c := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	const msg = "chromium not found (install Debian's chromium: apt-get install chromium, or set CHROMIUM=/path)"
	if os.Getenv("CONTROLUI_BROWSER_REQUIRED") == "1" {
		tb.Fatal(msg + "; CONTROLUI_BROWSER_REQUIRED=1 makes this a failure")
	}
	tb.Skip(msg + "; the Control UI browser tests skip")
	return ""
}

// fixture is a real gateway with the fake model upstream behind it.
type fixture struct {
	srv *gateway.Server
	up  *llmtest.Server
	// base is the gateway's HTTP origin, "http://127.0.0.1:<port>".
	base       string
	stateDir   string
	configPath string
	// rc is the gateway's runtime config (a test restarts with it).
	rc gateway.RuntimeConfig
	// log is the gateway's own logger (it writes the file logs.tail
	// reads); tests log markers through it.
	log *slog.Logger
}

// startGateway runs a gateway on 127.0.0.1:0 with token auth, a state dir
// under the test's temp dir, a config naming the fake upstream as the
// default model, and its log file where logs.tail looks. script says what
// the upstream answers; mods change the options before gateway.New (the
// fixture's srv is set once it returns).
func startGateway(tb testing.TB, script llmtest.Script, mods ...func(*gateway.Options, *fixture)) *fixture {
	tb.Helper()
	up := llmtest.NewOpenAI(tb, script)
	dir := tb.TempDir()
	f := &fixture{up: up, stateDir: dir, configPath: filepath.Join(dir, "clawdbot.json")}
	cfg := map[string]any{
		"gateway": map[string]any{"mode": "local", "auth": map[string]any{"mode": "token", "token": token}},
		"models": map[string]any{"providers": map[string]any{"fake": map[string]any{
			"baseUrl": up.URL, "apiKey": "sk-fake", "api": "openai-completions",
			"models": []any{map[string]any{"id": "fake-model", "name": "Fake model", "contextWindow": 128000, "maxTokens": 4096}},
		}}},
		"agents": map[string]any{"defaults": map[string]any{
			"model": map[string]any{"primary": "fake/fake-model"}, "workspace": filepath.Join(dir, "workspace"),
		}},
	}
	raw, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(f.configPath, raw, 0o600); err != nil {
		tb.Fatal(err)
	}
	loaded, err := profiles.LoadConfig(f.configPath)
	if err != nil {
		tb.Fatalf("load config: %v", err)
	}
	fl, err := filelog.New(filelog.Options{Dir: filepath.Join(dir, "logs"), Level: slog.LevelDebug})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = fl.Close() }) // after the gateway's shutdown (cleanups run last-in first-out)
	f.log = slog.New(fl)
	f.rc = gateway.RuntimeConfig{Config: loaded, Auth: gateway.Auth{Mode: gateway.AuthToken, Token: token}}
	opts := gateway.Options{
		Addr: "127.0.0.1:0", StateDir: dir, ConfigPath: f.configPath, Workspace: filepath.Join(dir, "workspace"),
		Version: "browsertest", Logger: f.log, Runtime: f.rc,
	}
	for _, m := range mods {
		m(&opts, f)
	}
	srv, err := gateway.New(opts)
	if err != nil {
		tb.Fatalf("gateway.New: %v", err)
	}
	f.srv = gatewaytest.Serve(tb, srv)
	f.base = "http://" + srv.Addr().String()
	return f
}

// browser is one headless Chromium with a fresh profile, one tab, and the
// page's exceptions and console errors collected: every test fails on
// any of them when it ends.
type browser struct {
	tb  testing.TB
	ctx context.Context

	// mu guards problems, allowed (substrings of problems a test expects;
	// none by default) and shots (the count, for file names).
	mu       sync.Mutex
	problems []string
	allowed  []string
	shots    int
	// dump, when set, is a JavaScript expression (a string) logged when a
	// wait times out: the state the test was waiting on.
	dump string
}

// newBrowser starts Chromium for tb; it is closed (and its problems
// asserted) when tb ends, before the gateway shuts down.
func newBrowser(tb testing.TB, timeout time.Duration) *browser {
	tb.Helper()
	path := chromiumPath(tb)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(1200, 780)}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts, chromedp.Flag("host-resolver-rules", hostRules))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &browser{tb: tb, ctx: ctx}
	// Listen starts the browser and opens the tab.
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		tb.Fatalf("start chromium (%s): %v", path, err)
	}
	tb.Cleanup(func() {
		b.assertNoProblems()
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return b
}

// listen records uncaught exceptions, console.error/assert calls and
// browser log entries at error level (CSP violations, failed loads).
func (b *browser) listen(ev any) {
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		b.problem(fmt.Sprintf("uncaught exception at %s:%d:%d: %s", d.URL, d.LineNumber+1, d.ColumnNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range e.Args {
			switch {
			case len(a.Value) > 0:
				parts = append(parts, string(a.Value))
			case a.Description != "":
				parts = append(parts, a.Description)
			default:
				parts = append(parts, string(a.Type))
			}
		}
		b.problem("console." + string(e.Type) + ": " + strings.Join(parts, " "))
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			b.problem(fmt.Sprintf("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	}
}

func (b *browser) problem(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

// allow lets problems containing s pass (a test that provokes one).
func (b *browser) allow(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, s)
}

// takeProblems returns (and forgets) the problems seen so far that are
// not allowed.
func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
next:
	for _, p := range b.problems {
		for _, a := range b.allowed {
			if strings.Contains(p, a) {
				continue next
			}
		}
		out = append(out, p)
	}
	b.problems = nil
	return out
}

func (b *browser) assertNoProblems() {
	b.tb.Helper()
	for _, p := range b.takeProblems() {
		b.tb.Errorf("page reported: %s", p)
	}
}

// run runs actions, failing the test on error with what was being done.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.shot("failed")
		b.tb.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and returns its value.
func eval[T any](b *browser, expr string) T {
	b.tb.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.shot("failed")
		b.tb.Fatalf("evaluate %s: %v", abbrev(expr), err)
	}
	return v
}

// waitJS polls expr (a JavaScript expression) until it is truthy.
func (b *browser) waitJS(what, expr string, timeout time.Duration) {
	b.tb.Helper()
	deadline := time.Now().Add(timeout)
	var last any
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		last = err
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.shot("timeout")
			if b.dump != "" {
				v, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](b.dump))
				b.tb.Logf("page state: %s", v)
			}
			b.tb.Fatalf("waiting for %s (%s): not within %v (last error: %v)", what, abbrev(expr), timeout, last)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// shot saves a PNG of the viewport under the test's temp dir (or
// $CONTROLUI_BROWSER_ARTIFACTS, to keep it) and logs its path.
func (b *browser) shot(name string) string {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.tb.Logf("screenshot %s: %v", name, err)
		return ""
	}
	dir := os.Getenv("CONTROLUI_BROWSER_ARTIFACTS")
	if dir == "" {
		dir = b.tb.TempDir()
	}
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	safe := strings.NewReplacer("/", "_", " ", "_").Replace(b.tb.Name())
	p := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", safe, n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.tb.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.tb.Logf("screenshot: %s", p)
	return p
}

// tid is the CSS selector of a data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// q is a JavaScript expression for the first element with data-testid id.
func q(id string) string { return `document.querySelector('` + string(tid(id)) + `')` }

func abbrev(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

// connected is true when connection-status says the UI is connected
// (/work/notes/ui-hooks.md: data-state="connected").
const connected = `(() => { const e = ` + `document.querySelector('[data-testid="connection-status"]')` +
	`; return !!e && e.getAttribute('data-state') === 'connected'; })()`

// open loads the UI at path, enters the token and waits until it is
// connected.
func (b *browser) open(f *fixture, path string) {
	b.tb.Helper()
	b.run("open "+path, chromedp.Navigate(f.base+path))
	b.waitJS("the token input", q("token-input"), 10*time.Second)
	b.run("enter the token",
		chromedp.SendKeys(tid("token-input"), token),
		chromedp.Click(tid("connect-button")))
	b.waitJS("connection-status connected", connected, 10*time.Second)
}

// tab clicks the link of a tab (data-testid tab-<name>).
func (b *browser) tab(name string) {
	b.tb.Helper()
	b.waitJS("tab link "+name, q("tab-"+name), 5*time.Second)
	b.run("open tab "+name, chromedp.Click(tid("tab-"+name)))
}
