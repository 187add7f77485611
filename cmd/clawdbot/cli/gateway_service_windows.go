//go:build windows

package cli

import (
	"context"
	"os"
	"time"

	"github.com/kardianos/service"

	"github.com/clawdbot/clawdbot/gateway"
)

// serveGateway runs the gateway in the foreground, or, when the Windows
// service control manager started us (`clawdbot gateway install` on
// Windows), as a real Windows service: the SCM's Stop and Shutdown map onto
// the same graceful stop as Ctrl+C.
func serveGateway(env *Env, srv *gateway.Server, run GatewayRun) int {
	if service.Interactive() {
		return serveGatewayLifecycle(env, srv, run)
	}
	prg := &windowsGateway{env: env, srv: srv, run: run, done: make(chan int, 1)}
	s, err := service.New(prg, &service.Config{Name: run.Profile.Services.WindowsService})
	if err != nil {
		return env.Errorf("windows service: %v", err)
	}
	if err := s.Run(); err != nil {
		return env.Errorf("windows service: %v", err)
	}
	select {
	case code := <-prg.done:
		return code
	default:
		return ExitOK
	}
}

// windowsGateway adapts the gateway to kardianos/service's Interface.
type windowsGateway struct {
	env    *Env
	srv    *gateway.Server
	run    GatewayRun
	cancel context.CancelFunc
	done   chan int
}

// Start must not block: the gateway serves in a goroutine until Stop.
func (w *windowsGateway) Start(service.Service) error {
	parent := w.env.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	w.cancel = cancel
	env := *w.env
	env.Context = ctx
	go func() {
		code := serveGatewayLifecycle(&env, w.srv, w.run)
		w.done <- code
		if ctx.Err() == nil {
			// The gateway ended on its own (not through Stop). Exiting the
			// process is how a service tells the SCM it failed, so the
			// recovery actions written at install restart it (the SCM has no
			// equivalent of RestartPreventExitStatus, so 78 restarts too; its
			// delay keeps that from spinning).
			if code == ExitOK {
				code = ExitFailure
			}
			os.Exit(code)
		}
	}()
	return nil
}

// Stop shuts the gateway down gracefully, bounded by its shutdown timeout.
func (w *windowsGateway) Stop(service.Service) error {
	if w.cancel != nil {
		w.cancel()
	}
	select {
	case code := <-w.done:
		w.done <- code // keep it for serveGateway's exit code
	case <-time.After(gateway.ShutdownTimeout + 2*time.Second):
	}
	return nil
}
