package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/client"
)

func init() {
	Register(&Command{Path: "gateway call", Summary: "call a gateway RPC method and print the result", Run: runGatewayCall,
		Exits: []ExitCode{{ExitOK, "the method answered"}, {ExitFailure, "not reachable, refused this CLI, or the method failed"}, {Code: ExitUsage}}})
}

// clientFlags are the connection flags shared by the commands that talk to
// a running gateway.
type clientFlags struct {
	URL      string
	Token    string
	Password string
	Timeout  int // ms
}

func (f *clientFlags) register(fs *pflag.FlagSet, password bool) {
	fs.StringVar(&f.URL, "url", "", "gateway WebSocket URL (default: the profile's ws://127.0.0.1:<port>)")
	fs.StringVar(&f.Token, "token", "", "gateway token, checked even when a device token is stored (default: CLAWDBOT_GATEWAY_TOKEN, then gateway.auth.token)")
	if password {
		fs.StringVar(&f.Password, "password", "", "gateway password, checked even when a device token is stored (default: CLAWDBOT_GATEWAY_PASSWORD, then gateway.auth.password)")
	}
	fs.IntVar(&f.Timeout, "timeout", 10000, "overall timeout in ms")
}

// gatewayTarget is where and how a command reaches the gateway.
type gatewayTarget struct {
	Profile    profiles.Profile
	ConfigPath string
	Mode       string // gateway.mode, "local" when unset
	URL        string
	URLSource  string // "cli --url", "config gateway.remote.url", "local loopback"
	Opts       client.Options
}

// resolveGatewayTarget applies --url > gateway.remote.url (mode remote) >
// ws://127.0.0.1:<profile port>, and for secrets --token/--password >
// CLAWDBOT_GATEWAY_TOKEN/PASSWORD > the config; a flag secret is also sent
// in place of a stored device token. The device identity lives in
// the profile's state dir. A broken config does not stop a command that only
// needs to reach the gateway: it is reported and skipped.
func resolveGatewayTarget(env *Env, f clientFlags) (gatewayTarget, error) {
	prof, err := env.ResolveProfile(0)
	if err != nil {
		return gatewayTarget{}, err
	}
	t := gatewayTarget{Profile: prof, ConfigPath: prof.ConfigPath, Mode: "local"}
	cfg := &profiles.Config{}
	if snap, err := profiles.LoadEnv(prof.ConfigPath, env.Getenv); err != nil {
		fmt.Fprintf(env.Stderr, "warning: %v (continuing without the config)\n", err)
	} else if snap.Exists && !snap.Valid {
		fmt.Fprintf(env.Stderr, "warning: invalid config %s: %v (continuing without it; run '%s')\n", prof.ConfigPath, snap.Err(), prof.Hint("clawdbot doctor"))
	} else if snap.Config != nil {
		cfg = snap.Config
	}
	if cfg.Gateway.Mode != "" {
		t.Mode = cfg.Gateway.Mode
	}
	var remote struct {
		URL      string `json:"url"`
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if len(cfg.Gateway.Remote) > 0 {
		_ = json.Unmarshal(cfg.Gateway.Remote, &remote)
	}
	auth := cfg.ResolvedAuth(env.Getenv)
	token, password := auth.Token, auth.Password
	switch {
	case strings.TrimSpace(f.URL) != "":
		t.URL, t.URLSource = strings.TrimSpace(f.URL), "cli --url"
	case t.Mode == "remote" && remote.URL != "":
		t.URL, t.URLSource = remote.URL, "config gateway.remote.url"
		token, password = remote.Token, remote.Password
	default:
		t.URL, t.URLSource = "ws://127.0.0.1:"+strconv.Itoa(prof.Ports.Gateway), "local loopback"
	}
	if v := strings.TrimSpace(env.Getenv("CLAWDBOT_GATEWAY_TOKEN")); v != "" {
		token = v
	}
	if v := env.Getenv("CLAWDBOT_GATEWAY_PASSWORD"); strings.TrimSpace(v) != "" {
		password = v
	}
	// Unlike the original, which ignores `gateway call --token`, the flags
	// win, over the stored device token too: what --help promises is what
	// the gateway checks.
	if f.Token != "" {
		token = f.Token
	}
	if f.Password != "" {
		password = f.Password
	}
	t.Opts = client.Options{
		URL: t.URL, Token: token, Password: password, ExplicitAuth: f.Token != "" || f.Password != "",
		StateDir: prof.StateDir, Version: Version,
	}
	return t, nil
}

func (f clientFlags) timeout() time.Duration {
	if f.Timeout <= 0 {
		return client.DefaultCallTimeout
	}
	return time.Duration(f.Timeout) * time.Millisecond
}

// isConnectFailure reports whether err means the gateway could not be
// reached or would not let us in (as opposed to a method error).
func isConnectFailure(err error) bool {
	var ue *client.UnreachableError
	var ce *client.ConnectError
	var cl *client.CloseError
	var te *client.TimeoutError
	return errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &cl) || errors.As(err, &te)
}

// reportGatewayError reports a failed gateway interaction through Fail:
// the cause (naming the URL) with an error code, the target details when
// the connection itself failed, and the doctor hint. It returns
// ExitFailure.
func reportGatewayError(env *Env, t gatewayTarget, prefix string, err error) int {
	var ue *client.UnreachableError
	var ce *client.ConnectError
	var cl *client.CloseError
	var te *client.TimeoutError
	var shape *wire.ErrorShape
	msg := prefix + ": " + err.Error()
	fix := "run '" + t.Profile.Hint("clawdbot doctor") + "'"
	target := []string{"Gateway target: " + t.URL, "Source: " + t.URLSource, "Config: " + t.ConfigPath}
	switch {
	case errors.As(err, &ue):
		return env.Fail(ExitFailure, CodeUnreachable, msg, fix)
	case errors.As(err, &te):
		return env.failDetail(ExitFailure, CodeTimeout, msg, fix, target)
	case errors.As(err, &ce) || errors.As(err, &cl) && cl.Code == wire.ClosePolicyViolation:
		return env.failDetail(ExitFailure, CodeRefused, msg, fix, target)
	case errors.As(err, &cl):
		return env.failDetail(ExitFailure, CodeClosed, msg, fix, target)
	case errors.As(err, &shape):
		// A method error: the gateway is fine, the request was not. The
		// code is the gateway's (INVALID_REQUEST, UNAVAILABLE, ...).
		return env.Fail(ExitFailure, shape.Code, prefix+": "+shape.Message, "")
	default:
		return env.Fail(ExitFailure, CodeFailed, msg, "")
	}
}

// callGateway is the CLI's one-shot RPC with the target's options.
func callGateway(env *Env, t gatewayTarget, timeout time.Duration, method string, params any, opts ...client.CallOption) (json.RawMessage, error) {
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	return client.CallOnce(ctx, t.Opts, timeout, method, params, opts...)
}

// prettyJSON indents raw JSON with two spaces, keeping the server's key
// order, as JSON.stringify(x, null, 2) prints it.
func prettyJSON(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

func runGatewayCall(env *Env, args []string) int {
	var cf clientFlags
	var paramsText string
	var expectFinal, asJSON bool
	fs := env.FlagSet("gateway call", "gateway call <method> [--params JSON] [flags]")
	fs.StringVar(&paramsText, "params", "{}", "method params as a JSON object")
	cf.register(fs, true)
	fs.BoolVar(&expectFinal, "expect-final", false, "wait for the final response of a two-stage method (agent)")
	fs.BoolVar(&asJSON, "json", false, "print only the JSON result")
	if code, ok := env.Parse(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return env.Usagef("gateway call", "gateway call: missing <method> (e.g. %s)", env.Hint("clawdbot gateway call health"))
	}
	method := fs.Arg(0)
	var params json.RawMessage
	if err := json.Unmarshal([]byte(paramsText), &params); err != nil {
		return env.Usagef("gateway call", "gateway call: --params is not valid JSON: %v", err)
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	var opts []client.CallOption
	if expectFinal {
		opts = append(opts, client.ExpectFinal())
	}
	res, err := callGateway(env, t, cf.timeout(), method, params, opts...)
	if err != nil {
		return reportGatewayError(env, t, "Gateway call failed", err)
	}
	if !asJSON {
		fmt.Fprintf(env.Stdout, "Gateway call: %s\n", method)
	}
	fmt.Fprintln(env.Stdout, prettyJSON(res))
	return ExitOK
}
