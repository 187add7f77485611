package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/profiles"
)

// serveGatewayLifecycle serves until stopped, with the lifecycle: signals,
// SIGUSR1 restart, config reload, sd_notify and canvas host
// (gateway.Server.Run, which releases run.Lock when it returns). It returns
// the exit code.
func serveGatewayLifecycle(env *Env, srv *gateway.Server, run GatewayRun) int {
	initial, err := profiles.LoadEnv(run.Profile.ConfigPath, env.Getenv)
	if err != nil || !initial.Valid {
		initial = nil // running unconfigured or the file changed under us: diff from empty
	}
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	var dynamic func(*profiles.Config) error
	if run.logs != nil {
		dynamic = run.logs.apply
	}
	var listening func(net.Addr)
	if run.banner != nil {
		listening = func(a net.Addr) { run.banner.write(env.Stdout, a) }
	}
	err = srv.Run(ctx, gateway.LifecycleOptions{
		Getenv: env.Getenv, Home: run.Profile.Home, Workspace: run.Profile.Workspace,
		Initial: initial, Lock: run.Lock, Env: run.env,
		Dynamic: dynamic, Listening: listening,
		Runtime: func(cfg *profiles.Config) (gateway.RuntimeConfig, string, error) {
			prof, err := env.ResolveProfile(run.Flags.Port)
			if err != nil {
				return gateway.RuntimeConfig{}, "", err
			}
			rc, host, err := GatewayRuntime(env, prof, cfg, run.Flags)
			if err != nil {
				return gateway.RuntimeConfig{}, "", err
			}
			return rc, net.JoinHostPort(host, strconv.Itoa(prof.Ports.Gateway)), nil
		},
	})
	switch {
	case errors.Is(err, gateway.ErrForcedExit):
		return ExitFailure
	case errors.Is(err, ports.ErrLocked):
		return env.Errorf("%v", err)
	case err != nil:
		return env.Errorf("%v", err)
	}
	return ExitOK
}

// forceTakeover is --force: it terminates the port's listeners and this
// profile's running gateway, then returns the single-instance lock. Its log
// lines go to stdout, like the rest of the gateway's console log.
func forceTakeover(env *Env, configPath, addr string) (*ports.Lock, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("invalid gateway address %s", addr)
	}
	// Bounded: a gateway's graceful stop, then the SIGKILL grace.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	lock, _, err := ports.TakeOver(ctx, port, configPath, env.Getenv, func(format string, args ...any) {
		fmt.Fprintf(env.Stdout, format+"\n", args...)
	})
	return lock, err
}

// describePortHeld phrases the error for a gateway port that is already
// taken: who holds it, and the fix.
func describePortHeld(port int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	r := ports.Inspect(ctx, port)
	return ports.DescribeHolder(port, r.Listeners)
}
