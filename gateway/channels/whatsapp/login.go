//lint:file-ignore ST1005 these errors are the original's user-facing texts (web.login.*, send, logout): clients show them verbatim, capitalised and punctuated

package whatsapp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// Login messages, the original's words (doc/messaging.md §1.14).
const (
	msgScanQR        = "Scan this QR in WhatsApp → Linked Devices."
	msgQRActive      = "QR already active. Scan it in WhatsApp → Linked Devices."
	msgStillWaiting  = "Still waiting for the QR scan. Let me know when you’ve scanned it."
	msgLinked        = "✅ Linked! WhatsApp is ready."
	msgNoLogin       = "No active WhatsApp login in progress."
	msgQRExpired     = "The login QR expired. Ask me to generate a new one."
	msgLoggedOutLink = "WhatsApp reported the session is logged out. Cleared cached web session; please scan a new QR."
)

// LoginStartResult is web.login.start's answer. QR is the raw QR text
// (what the phone scans) so a terminal can draw it; QRDataURL the same
// code as a PNG data URL for the UIs. Both are empty when already linked.
type LoginStartResult struct {
	QR, QRDataURL, Message string
}

// LoginWaitResult is web.login.wait's answer.
type LoginWaitResult struct {
	Connected bool
	Message   string
}

// loginOutcome is how a login ended.
type loginOutcome struct {
	connected, expired, loggedOut bool
	err                           error
}

// loginState is one QR login in progress.
type loginState struct {
	id        int
	client    Client
	device    *store.Device
	cancel    context.CancelFunc
	handler   uint32
	startedAt time.Time

	mu        sync.Mutex
	qr        string
	qrDataURL string
	paired    bool
	restarted bool
	firstQR   chan struct{}
	done      chan struct{}
	outcome   loginOutcome
	ended     bool
}

func (l *loginState) finish(o loginOutcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.ended = true
	l.outcome = o
	close(l.done)
}

// currentQR is the latest code and its PNG.
func (l *loginState) currentQR() (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.qr, l.qrDataURL
}

// clampWait is the original's max(timeoutMs ?? def, floor).
func clampWait(d, def, floor time.Duration) time.Duration {
	if d <= 0 {
		d = def
	}
	return max(d, floor)
}

// QRDataURL renders text as a PNG data URL ("data:image/png;base64,…").
func QRDataURL(text string) (string, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, -6)
	if err != nil {
		return "", fmt.Errorf("render QR: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), nil
}

// stopLoginLocked ends the login in progress, if any.
func (a *Account) stopLoginLocked() {
	l := a.login
	if l == nil {
		return
	}
	a.login = nil
	l.cancel()
	l.client.RemoveEventHandler(l.handler)
	l.client.Disconnect()
	l.finish(loginOutcome{err: errors.New("login replaced")})
}

// StopLogin abandons a login in progress (gateway shutdown, logout).
func (a *Account) StopLogin() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopLoginLocked()
}

// StartLogin is web.login.start: already linked (unless force), a fresh
// QR reused, or a new login whose first QR it waits for up to timeout
// (at least 5 s, default 30 s). Failures are errors.
func (a *Account) StartLogin(ctx context.Context, force bool, timeout time.Duration) (LoginStartResult, error) {
	timeout = clampWait(timeout, 30*time.Second, a.qrWaitFloor)
	a.mu.Lock()
	if a.linked && !force {
		who := jidE164(a.self.ToNonAD())
		if who == "" {
			who = a.self.ToNonAD().String()
		}
		a.mu.Unlock()
		return LoginStartResult{Message: fmt.Sprintf("WhatsApp is already linked (%s). Say “relink” if you want a fresh QR.", who)}, nil
	}
	if l := a.login; l != nil && a.now().Sub(l.startedAt) < a.loginTTL {
		if qr, url := l.currentQR(); url != "" {
			a.mu.Unlock()
			return LoginStartResult{QR: qr, QRDataURL: url, Message: msgQRActive}, nil
		}
	}
	a.stopLoginLocked()
	if err := a.refreshLocked(ctx); err != nil {
		a.mu.Unlock()
		return LoginStartResult{}, fmt.Errorf("Failed to start WhatsApp login: %w", err)
	}
	dev := a.device
	if a.linked {
		// force: a relink pairs a new device; the old one is dropped from
		// the store first (whatsmeow pairs only a device without an ID).
		if err := dev.Delete(ctx); err != nil {
			a.mu.Unlock()
			return LoginStartResult{}, fmt.Errorf("Failed to start WhatsApp login: drop the old link: %w", err)
		}
		a.linked, a.self = false, types.JID{}
		dev = a.st.NewDevice()
		a.device = dev
	}
	a.loginSeq++
	lctx, cancel := context.WithCancel(context.Background())
	l := &loginState{id: a.loginSeq, device: dev, cancel: cancel, startedAt: a.now(), firstQR: make(chan struct{}), done: make(chan struct{})}
	l.client = a.newClient(dev, true)
	qrs, err := l.client.GetQRChannel(lctx)
	if err != nil {
		cancel()
		a.mu.Unlock()
		return LoginStartResult{}, fmt.Errorf("Failed to start WhatsApp login: %w", err)
	}
	l.handler = l.client.AddEventHandler(func(evt any) { a.loginEvent(l, evt) })
	a.login = l
	a.mu.Unlock()
	go a.pumpQR(l, qrs)
	if err := l.client.Connect(); err != nil {
		a.abandonLogin(l)
		return LoginStartResult{}, fmt.Errorf("Failed to start WhatsApp login: %w", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-l.firstQR:
		qr, url := l.currentQR()
		return LoginStartResult{QR: qr, QRDataURL: url, Message: msgScanQR}, nil
	case <-l.done:
		a.abandonLogin(l)
		return LoginStartResult{}, fmt.Errorf("Failed to get QR: %w", l.outcome.errOr(errors.New("login ended before a QR arrived")))
	case <-timer.C:
		a.abandonLogin(l)
		return LoginStartResult{}, errors.New("Failed to get QR: timed out waiting for WhatsApp QR")
	case <-ctx.Done():
		a.abandonLogin(l)
		return LoginStartResult{}, ctx.Err()
	}
}

func (o loginOutcome) errOr(def error) error {
	switch {
	case o.err != nil:
		return o.err
	case o.expired:
		return errors.New(msgQRExpired)
	case o.loggedOut:
		return errors.New(msgLoggedOutLink)
	}
	return def
}

// abandonLogin stops l if it is still the account's login.
func (a *Account) abandonLogin(l *loginState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.login == l {
		a.stopLoginLocked()
	}
}

// pumpQR turns whatsmeow's QR channel into the login's state: each code
// becomes the current QR (and PNG); success means paired (the device is
// saved); timeout means every code expired unscanned.
func (a *Account) pumpQR(l *loginState, qrs <-chan whatsmeow.QRChannelItem) {
	for item := range qrs {
		switch item.Event {
		case whatsmeow.QRChannelEventCode:
			url, err := QRDataURL(item.Code)
			if err != nil {
				l.finish(loginOutcome{err: err})
				return
			}
			l.mu.Lock()
			first := l.qr == ""
			l.qr, l.qrDataURL = item.Code, url
			l.mu.Unlock()
			if first {
				close(l.firstQR)
			}
		case whatsmeow.QRChannelSuccess.Event:
			l.mu.Lock()
			l.paired = true
			l.mu.Unlock()
		case whatsmeow.QRChannelTimeout.Event:
			l.finish(loginOutcome{expired: true})
			return
		case whatsmeow.QRChannelEventError:
			l.finish(loginOutcome{err: item.Error})
			return
		default:
			l.finish(loginOutcome{err: fmt.Errorf("whatsapp: %s", item.Event)})
			return
		}
	}
}

// loginEvent handles the login client's connection events. After pairing
// WhatsApp closes the stream with code 515 and expects a reconnect: the
// login client has whatsmeow's own restart off, so it arrives here as
// ManualLoginReconnect and is done once (the original's rule).
func (a *Account) loginEvent(l *loginState, evt any) {
	switch e := evt.(type) {
	case *events.PairSuccess:
		l.mu.Lock()
		l.paired = true
		l.mu.Unlock()
	case *events.ManualLoginReconnect:
		l.mu.Lock()
		again := l.restarted
		l.restarted = true
		l.mu.Unlock()
		if again {
			l.finish(loginOutcome{err: errors.New("WhatsApp asked for a restart after pairing twice")})
			return
		}
		go func() {
			l.client.Disconnect()
			if err := l.client.Connect(); err != nil {
				l.finish(loginOutcome{err: fmt.Errorf("reconnect after pairing: %w", err)})
			}
		}()
	case *events.Connected:
		// Paired: the QR success item may still be in flight, but
		// whatsmeow sets the device's ID when it saves the pairing.
		l.mu.Lock()
		paired := l.paired || l.device.ID != nil
		l.mu.Unlock()
		if paired {
			l.finish(loginOutcome{connected: true})
		}
	case *events.LoggedOut:
		l.finish(loginOutcome{loggedOut: true})
	case *events.ConnectFailure:
		if e.Reason.IsLoggedOut() {
			l.finish(loginOutcome{loggedOut: true})
			return
		}
		l.finish(loginOutcome{err: fmt.Errorf("connect failure %d: %s", int(e.Reason), e.Message)})
	case *events.ClientOutdated:
		l.finish(loginOutcome{err: errors.New("WhatsApp says this client version is outdated")})
	}
}

// WaitLogin is web.login.wait: it waits up to timeout (at least 1 s,
// default 120 s) for the scan. Not yet scanned is an answer
// (connected:false); no login, an expired QR, a logged-out session and a
// failure are errors.
func (a *Account) WaitLogin(ctx context.Context, timeout time.Duration) (LoginWaitResult, error) {
	timeout = clampWait(timeout, 120*time.Second, time.Second)
	a.mu.Lock()
	l := a.login
	if l == nil {
		a.mu.Unlock()
		return LoginWaitResult{}, errors.New(msgNoLogin)
	}
	if a.now().Sub(l.startedAt) >= a.loginTTL {
		l.mu.Lock()
		paired := l.paired
		l.mu.Unlock()
		if !paired {
			a.stopLoginLocked()
			a.mu.Unlock()
			return LoginWaitResult{}, errors.New(msgQRExpired)
		}
	}
	a.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-l.done:
	case <-timer.C:
		l.mu.Lock()
		paired := l.paired
		l.mu.Unlock()
		if !paired {
			return LoginWaitResult{Connected: false, Message: msgStillWaiting}, nil
		}
		// Paired but the post-pairing reconnect has not finished: the
		// device is in the store, which is what "linked" means.
		l.finish(loginOutcome{connected: true})
	case <-ctx.Done():
		return LoginWaitResult{}, ctx.Err()
	}
	o := l.outcome
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.login == l {
		a.stopLoginLocked()
	}
	switch {
	case o.connected:
		if err := a.refreshLocked(ctx); err != nil {
			return LoginWaitResult{}, fmt.Errorf("WhatsApp login failed: %w", err)
		}
		if !a.linked {
			return LoginWaitResult{}, errors.New("WhatsApp login failed: the pairing was not saved")
		}
		return LoginWaitResult{Connected: true, Message: msgLinked}, nil
	case o.loggedOut:
		_ = a.forgetLocked()
		return LoginWaitResult{}, errors.New(msgLoggedOutLink)
	case o.expired:
		return LoginWaitResult{}, errors.New(msgQRExpired)
	default:
		return LoginWaitResult{}, fmt.Errorf("WhatsApp login failed: %w", o.errOr(errors.New("login ended without a connection")))
	}
}
