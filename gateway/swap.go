package gateway

import (
	"context"
	"fmt"
	"sync"

	"github.com/clawdbot/clawdbot/wire"
)

// Restart builds a runtime from rc and swaps it in while the listener stays
// open; the connections of the old runtime get the shutdown event and a 1012
// close so they reconnect to the new one. On a build error nothing changes:
// the old runtime keeps serving with all its parts, and the parts of rc it
// does not hold are stopped (rc's mounts belong to the runtime from here on).
//
// Restart returns as soon as the new runtime serves: the shutdown event is
// queued before it returns, the close handshakes finish in the background
// (each bounded by connCloseTimeout). ctx is not used to bound them, since
// a caller's ctx usually ends as soon as Restart returns.
func (s *Server) Restart(ctx context.Context, rc RuntimeConfig) error {
	nrt, err := s.newRuntime(rc)
	if err == nil {
		err = s.checkServable(nrt.auth, nrt.cfg, s.lns)
	}
	if err != nil {
		if rc.Canvas != nil && !s.rt.Load().holds(rc.Canvas) {
			rc.Canvas.Stop()
		}
		return fmt.Errorf("gateway restart: %w (still serving the previous config)", err)
	}
	s.swapMu.Lock()
	old := s.rt.Swap(nrt)
	s.swapMu.Unlock()
	old.stopMounts(nrt)
	nrt.startMounts(old)
	ms := int64(1500)
	victims := s.notifyConns(old, wire.ShutdownEvent{Reason: "gateway restarting", RestartExpectedMs: &ms})
	go s.closeConns(context.WithoutCancel(ctx), victims)
	s.log.Info("gateway runtime restarted", "auth", nrt.auth.Mode)
	return nil
}

// notifyConns queues the shutdown event for every connection of rt (every
// connection when rt is nil) and returns those connections. Queuing never
// blocks.
func (s *Server) notifyConns(rt *runtime, ev wire.ShutdownEvent) []*conn {
	of := func(c *conn) bool { return rt == nil || c.rt == rt }
	s.broadcast("shutdown", ev, nil, of, false)
	s.bmu.Lock()
	defer s.bmu.Unlock()
	var victims []*conn
	for c := range s.conns {
		if of(c) {
			victims = append(victims, c)
		}
	}
	return victims
}

// closeConns closes victims with 1012 in parallel and returns when every
// close handshake has ended, ctx has ended or connCloseTimeout has passed,
// whichever comes first: the sockets of peers that did not answer in time
// are closed without a handshake.
func (s *Server) closeConns(ctx context.Context, victims []*conn) {
	var wg sync.WaitGroup
	for _, c := range victims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.closeWithin(ctx, wire.CloseServiceRestart, "service restart")
		}()
	}
	wg.Wait()
}
