package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/whatsapp"
	"github.com/clawdbot/clawdbot/gateway/channels/whatsapp/whatsapptest"
	"github.com/clawdbot/clawdbot/profiles"
)

// TestChannelsLoginThroughGateway: channels login draws the gateway's QR
// in the terminal, waits for the scan and reports linked; the gateway then
// runs the account and message send delivers. WhatsApp itself is a fake
// (whatsapptest): its servers cannot be reached from a test.
func TestChannelsLoginThroughGateway(t *testing.T) {
	phones := whatsapptest.New()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	cfgPath := filepath.Join(state, "clawdbot.json")
	os.WriteFile(cfgPath, []byte(`{"channels":{"whatsapp":{"dmPolicy":"pairing"}}}`), 0o600)
	srv, err := gateway.New(gateway.Options{Listener: ln, StateDir: state, ConfigPath: cfgPath, Version: "test",
		Runtime:        gateway.RuntimeConfig{Auth: gateway.Auth{Mode: gateway.AuthToken, Token: "right"}},
		ChannelPlugins: []channels.Plugin{whatsapp.NewWithOptions(whatsapp.Options{NewClient: phones.Factory})}})
	if err != nil {
		t.Fatal(err)
	}
	// Run, not Serve: Run is what starts the channel accounts.
	rc := gateway.RuntimeConfig{Auth: gateway.Auth{Mode: gateway.AuthToken, Token: "right"}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		srv.Run(ctx, gateway.LifecycleOptions{Getenv: func(string) string { return "" }, Signals: make(chan os.Signal),
			Runtime: func(*profiles.Config) (gateway.RuntimeConfig, string, error) { return rc, ln.Addr().String(), nil }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("gateway did not stop")
		}
	})
	url := "ws://" + ln.Addr().String()
	env, _, _ := callTestEnv(t, map[string]string{})
	var out syncBuffer
	env.Stdout, env.Stderr = &out, &out
	done := make(chan int, 1)
	go func() { done <- Main([]string{"channels", "login", "--url", url, "--token", "right"}, env) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Scan this QR in WhatsApp (Linked Devices):") {
		if time.Now().After(deadline) {
			t.Fatalf("no QR printed: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "█") && !strings.Contains(out.String(), "▀") {
		t.Fatalf("no terminal QR drawn: %q", out.String())
	}
	if err := phones.Scan(context.Background(), "15550001111"); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != ExitOK || !strings.Contains(out.String(), "✅ Linked!") {
			t.Fatalf("exit %d: %s", code, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("channels login did not finish: %s", out.String())
	}

	env2, out2, errb2 := callTestEnv(t, map[string]string{})
	var code int
	for i := 0; i < 100; i++ {
		out2.Reset()
		errb2.Reset()
		code = Main([]string{"message", "send", "--channel", "whatsapp", "--target", "+15550002222", "--message", "hi", "--url", url, "--token", "right"}, env2)
		if code == ExitOK {
			break
		}
		time.Sleep(50 * time.Millisecond) // the account connects in the background after the link
	}
	if code != ExitOK {
		t.Fatalf("send after login: exit %d: %s%s", code, out2, errb2)
	}
	out2.Reset()
	if code := Main([]string{"channels", "login", "--url", url, "--token", "right"}, env2); code != ExitOK || !strings.Contains(out2.String(), "already linked (+15550001111)") {
		t.Fatalf("second login: exit %d: %s", code, out2)
	}
}

// A gateway whose config does not name WhatsApp has no login provider;
// the command says how to enable it.
func TestChannelsLoginNotEnabled(t *testing.T) {
	g := startTestGateway(t, "right", "")
	env, out, errb := callTestEnv(t, map[string]string{})
	code := Main([]string{"channels", "login", "--url", g.url, "--token", "right"}, env)
	if s := out.String() + errb.String(); code != ExitFailure || !strings.Contains(s, "WhatsApp is not enabled on this gateway") ||
		!strings.Contains(s, "channels.whatsapp") {
		t.Errorf("exit %d: %s", code, s)
	}
}
