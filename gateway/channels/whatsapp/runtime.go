//lint:file-ignore ST1005 these errors are the original's user-facing texts (web.login.*, send, logout): clients show them verbatim, capitalised and punctuated

package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// ErrLoggedOut ends Run when WhatsApp unlinked the device (from the phone,
// or a 401 on connect): the store is deleted and no reconnect is tried.
var ErrLoggedOut = errors.New("WhatsApp session logged out. Run clawdbot channels login --channel whatsapp to relink.")

// errMaxAttempts ends Run after web.reconnect.maxAttempts failed attempts.
var errMaxAttempts = errors.New("whatsapp: max reconnect attempts reached")

// historyGrace is how much older than the connection a message may be and
// still get answered (a pairing reply, a turn): older is catch-up history
// (doc/messaging.md §5.3).
const historyGrace = 30 * time.Second

// inboundQueue bounds the messages waiting for the inbound worker; when
// full, whatsmeow's event loop waits (back-pressure, never a drop).
const inboundQueue = 256

// msToAny is a Unix-millisecond status value.
func msToAny(t time.Time) any { return t.UnixMilli() }

// Run connects with the stored device and serves until ctx ends (nil),
// the session is logged out (ErrLoggedOut) or reconnecting failed
// maxAttempts times in a row. Status and inbound messages go to sink.
func (a *Account) Run(ctx context.Context, sink Sink) error {
	a.mu.Lock()
	a.stopLoginLocked()
	if a.st == nil && StoreExists(a.set.Dir) {
		if err := a.refreshLocked(ctx); err != nil {
			a.mu.Unlock()
			return err
		}
	}
	if !a.linked {
		a.mu.Unlock()
		return notLinkedError{a.set.AccountID}
	}
	dev := a.device
	a.mu.Unlock()

	client := a.newClient(dev, false)
	conn := make(chan any, 16)
	msgs := make(chan *events.Message, inboundQueue)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	handler := client.AddEventHandler(func(evt any) {
		switch e := evt.(type) {
		case *events.Message:
			select {
			case msgs <- e:
			case <-runCtx.Done():
			}
		case *events.Connected, *events.Disconnected, *events.LoggedOut, *events.StreamReplaced,
			*events.ConnectFailure, *events.TemporaryBan, *events.ClientOutdated:
			select {
			case conn <- evt:
			case <-runCtx.Done():
			}
		}
	})
	defer func() {
		client.RemoveEventHandler(handler)
		a.setActive(nil)
		client.Disconnect()
		sink.SetStatus(map[string]any{"connected": false})
	}()
	var connectedAt time.Time
	connectedAtCh := make(chan time.Time, 1)
	go a.inboundLoop(runCtx, client, msgs, connectedAtCh, sink)

	pol := a.set.Reconnect
	attempts := 0
	for {
		err := client.Connect()
		for err == nil {
			var evt any
			select {
			case <-ctx.Done():
				return nil
			case evt = <-conn:
			}
			now := a.now()
			switch e := evt.(type) {
			case *events.Connected:
				attempts = 0
				connectedAt = now
				select {
				case <-connectedAtCh:
				default:
				}
				connectedAtCh <- connectedAt
				a.setActive(client)
				sink.SetStatus(map[string]any{"connected": true, "lastConnectedAt": msToAny(now), "reconnectAttempts": 0, "lastEventAt": msToAny(now), "lastError": nil})
				go func() {
					pctx, cancel := context.WithTimeout(runCtx, 10*time.Second)
					defer cancel()
					_ = client.SendPresence(pctx, types.PresenceAvailable)
				}()
				continue
			case *events.LoggedOut:
				return a.loggedOut(sink, now)
			case *events.ConnectFailure:
				if e.Reason.IsLoggedOut() {
					return a.loggedOut(sink, now)
				}
				err = fmt.Errorf("connect failure %d: %s", int(e.Reason), e.Message)
			case *events.TemporaryBan:
				err = errors.New(e.String())
			case *events.ClientOutdated:
				a.setActive(nil)
				return errors.New("WhatsApp says this client version is outdated; update clawdbot")
			case *events.StreamReplaced:
				err = errors.New("replaced by another WhatsApp Web session")
			case *events.Disconnected:
				err = errors.New("connection closed")
			}
		}
		a.setActive(nil)
		client.Disconnect()
		now := a.now()
		sink.SetStatus(map[string]any{
			"connected":      false,
			"lastDisconnect": map[string]any{"at": msToAny(now), "error": err.Error(), "loggedOut": false},
			"lastError":      err.Error(),
			"lastEventAt":    msToAny(now),
		})
		sink.Logf("whatsapp [%s] disconnected: %v", a.set.AccountID, err)
		systemEvent(sink, "WhatsApp gateway disconnected: "+err.Error())
		attempts++
		sink.SetStatus(map[string]any{"reconnectAttempts": attempts})
		if pol.MaxAttempts > 0 && attempts >= pol.MaxAttempts {
			return fmt.Errorf("%w (%d): %v", errMaxAttempts, attempts, err)
		}
		wait := time.NewTimer(pol.delay(attempts))
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil
		case <-wait.C:
		}
	}
}

// loggedOut clears the store after WhatsApp unlinked the device.
func (a *Account) loggedOut(sink Sink, now time.Time) error {
	a.mu.Lock()
	a.active = nil
	err := a.forgetLocked()
	a.mu.Unlock()
	sink.SetStatus(map[string]any{
		"connected":      false,
		"lastDisconnect": map[string]any{"at": msToAny(now), "status": 401, "error": "logged out", "loggedOut": true},
		"lastError":      ErrLoggedOut.Error(),
		"lastEventAt":    msToAny(now),
	})
	sink.Logf("%v", ErrLoggedOut)
	systemEvent(sink, "WhatsApp gateway disconnected (status 401)")
	if err != nil {
		return fmt.Errorf("%w (removing the store: %v)", ErrLoggedOut, err)
	}
	return ErrLoggedOut
}

func (a *Account) setActive(c Client) {
	a.mu.Lock()
	a.active = c
	a.mu.Unlock()
}

// systemEvent enqueues a system event for the agent's next turn when the
// sink can (the original's "WhatsApp gateway disconnected (status N)";
// whatsmeow gives no status number for a plain disconnect, so ours names
// the error instead).
func systemEvent(sink Sink, text string) {
	if se, ok := sink.(interface{ SystemEvent(string) }); ok {
		se.SystemEvent(text)
	}
}
