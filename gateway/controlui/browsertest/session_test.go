package browsertest

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// ?token= in the address connects without typing, is stored, and is gone
// from the address bar (and so from the history and screenshots).
func TestTokenFromURLIsStoredAndRemoved(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.run("open /?token=…", chromedp.Navigate(f.base+"/?token="+url.QueryEscape(token)))
	b.waitJS("connection-status connected", connected, 10*time.Second)
	if got := eval[string](b, `location.search + location.hash`); got != "" {
		t.Errorf("the address still has %q", got)
	}
	if got := eval[string](b, `localStorage.getItem('clawdbot.controlui.token') || ''`); got != token {
		t.Errorf("localStorage token %q, want the one from the URL", got)
	}
	b.shot("connected")
}

// An in-process restart (config.apply, SIGUSR1) sends shutdown and closes
// 1012: the page shows "Gateway restarting…", reconnects on its own and
// hides the banner again.
func TestRestartBannerAndReconnect(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.open(f, "/")
	// The banner may be up for only a moment: record what it shows.
	eval[bool](b, `((e) => { window.__banner = []; new MutationObserver(() => { if (!e.hidden) window.__banner.push(e.textContent.trim()); })
	  .observe(e, {attributes: true, childList: true, characterData: true, subtree: true}); return true; })(`+q("gateway-banner")+`)`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Restart(ctx, f.rc); err != nil {
		t.Fatal(err)
	}
	b.waitJS("the restart banner", `window.__banner.includes('Gateway restarting…')`, 5*time.Second)
	b.waitJS("the reconnect", `!`+q("gateway-banner")+`.hidden ? false : `+connected, 15*time.Second)
	b.shot("reconnected")
	// The connection after the restart works: a turn streams back.
	b.say("after the restart")
	b.waitJS("the reply", `((m) => !!m && !m.hasAttribute('data-streaming') && m.textContent.includes('lazy dog'))(`+lastAssistant+`)`, 15*time.Second)
}

// On a phone-width screen the chat fits: no sideways scrolling, and the
// input and send button are on screen.
func TestChatUsableAtPhoneWidth(t *testing.T) {
	f := startGateway(t, chatScript())
	b := newBrowser(t, testTimeout)
	b.run("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	b.open(f, "/")
	b.waitJS("the chat input", q("chat-input"), 5*time.Second)
	b.say("hello from a phone with a rather long message that has to wrap inside the narrow column")
	b.waitJS("the reply", `((m) => !!m && !m.hasAttribute('data-streaming'))(`+lastAssistant+`)`, 15*time.Second)
	type layout struct {
		Viewport, Scroll   float64
		InputRight, SendRt float64
		SendBottom, Height float64
	}
	got := eval[layout](b, `((i, s) => ({Viewport: innerWidth, Scroll: document.documentElement.scrollWidth,
	  InputRight: i.getBoundingClientRect().right, SendRt: s.getBoundingClientRect().right,
	  SendBottom: s.getBoundingClientRect().bottom, Height: innerHeight}))(`+q("chat-input")+`, `+q("chat-send")+`)`)
	if got.Scroll > got.Viewport || got.InputRight > got.Viewport || got.SendRt > got.Viewport || got.SendBottom > got.Height {
		t.Errorf("at 390 px wide: %+v (page wider than the screen, or input/send off screen)", got)
	}
	b.shot("phone")
}

// inProcessRestart is the lifecycle's restart path for a test gateway
// (gateway.Run's SIGUSR1 handling is not running here): config.apply's
// restart hook re-reads the config file and swaps in a runtime built from
// it after the delay, as the lifecycle's in-process restart does.
func inProcessRestart(o *gateway.Options, f *fixture) {
	o.ScheduleRestart = func(reason string, delay time.Duration) wire.RestartInfo {
		delay = min(max(delay, 0), 300*time.Millisecond) // the test need not wait the default 2 s
		time.AfterFunc(delay, func() {
			cfg, err := profiles.LoadConfig(f.configPath)
			if err != nil {
				f.log.Error("restart: " + err.Error())
				return
			}
			rc := f.rc
			rc.Config = cfg
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := f.srv.Restart(ctx, rc); err != nil {
				f.log.Error(err.Error())
			}
		})
		return wire.RestartInfo{OK: true, PID: os.Getpid(), Signal: "SIGUSR1", DelayMs: delay.Milliseconds(), Reason: reason, Mode: "emit"}
	}
}

// Apply & restart: the raw config is applied (config.apply), the notice
// says the gateway restarts, the page rides out the restart and is
// connected again, and the file has the change.
func TestConfigApplyRestartsAndReconnects(t *testing.T) {
	f := startGateway(t, chatScript(), inProcessRestart)
	b := newBrowser(t, testTimeout)
	b.dump = q("config-notice") + `.textContent + ' | ' + ` + q("config-error") + `.textContent`
	b.open(f, "/")
	b.tab("config")
	b.waitJS("the raw editor with the config", q("config-raw")+` && `+q("config-raw")+`.value.includes('fake-model')`, 10*time.Second)
	eval[bool](b, `(window.__banner = [], new MutationObserver(() => { const e = `+q("gateway-banner")+`; if (!e.hidden) window.__banner.push(e.textContent.trim()); })
	  .observe(`+q("gateway-banner")+`, {attributes: true, childList: true, characterData: true, subtree: true}), true)`)
	raw := eval[string](b, q("config-raw")+`.value`)
	var cfg map[string]any
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("config-raw is not the JSON we wrote: %v", err)
	}
	cfg["logging"] = map[string]any{"level": "debug"}
	edited, _ := json.MarshalIndent(cfg, "", "  ")
	b.setInput("config-raw", string(edited))
	b.run("click apply", chromedp.Click(tid("config-apply")))
	b.waitJS("the apply notice", q("config-notice")+`.textContent.includes('restarts')`, 5*time.Second)
	b.waitJS("the restart banner", `window.__banner.includes('Gateway restarting…')`, 10*time.Second)
	b.waitJS("connected again", `!`+q("gateway-banner")+`.hidden ? false : `+connected, 15*time.Second)
	b.shot("applied")
	if got, _ := os.ReadFile(f.configPath); !strings.Contains(string(got), `"debug"`) {
		t.Errorf("config file after apply: %s", got)
	}
}
