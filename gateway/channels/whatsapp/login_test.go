package whatsapp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	qrreader "github.com/makiuchi-d/gozxing/qrcode"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types/events"
)

// decodeQR decodes a data:image/png;base64 QR back to its text.
func decodeQR(t *testing.T, dataURL string) string {
	t.Helper()
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40q", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("png: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrreader.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("QR does not decode: %v", err)
	}
	return res.GetText()
}

// A QR payload shaped like WhatsApp's: ref,noise key,identity key,adv secret.
const qrText = "2@Yf3kJ0m5l9QpZrT8vXbN1cD4eFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuvwx==,Q2xhd2Rib3Qgbm9pc2Uga2V5IGZvciB0ZXN0cyBvbmx5IQ==,SWRlbnRpdHkga2V5IGZvciB0ZXN0cyBvbmx5IC0gbm90IHJlYWw=,YWR2IHNlY3JldCBmb3IgdGVzdHM="

func newLoginAccount(t *testing.T, fs *fakes, ttl time.Duration) *Account {
	t.Helper()
	set, err := ParseSettings("default", t.TempDir(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAccount(set, Options{NewClient: fs.factory, LoginTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLoginQRThenLinked: web.login.start returns a decodable QR PNG (and
// the raw text); scanning pairs (success item, PairSuccess), WhatsApp's 515
// restart is done once, the reconnect's Connected finishes web.login.wait
// with connected:true, and the account is linked from the store.
func TestLoginQRThenLinked(t *testing.T) {
	fs := newFakes(func(f *fakeClient) {
		f.onConnect = func(f *fakeClient, n int) {
			if n == 1 {
				f.qr <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: qrText, Timeout: time.Minute}
			} else {
				f.emit(&events.Connected{})
			}
		}
	})
	a := newLoginAccount(t, fs, 0)
	ctx := context.Background()
	res, err := a.StartLogin(ctx, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, res.QRDataURL); got != qrText || res.QR != qrText {
		t.Fatalf("QR text %q / %q, want %q", got, res.QR, qrText)
	}
	if res.Message != msgScanQR {
		t.Fatalf("message %q", res.Message)
	}
	again, err := a.StartLogin(ctx, false, 0)
	if err != nil || again.QRDataURL != res.QRDataURL || again.Message != msgQRActive {
		t.Fatalf("second start = %+v, %v; want the same QR reused", again, err)
	}
	f := fs.next(t)
	if !f.login {
		t.Fatal("login client not built in login mode")
	}
	w, err := a.WaitLogin(ctx, time.Second)
	if err != nil || w.Connected || w.Message != msgStillWaiting {
		t.Fatalf("wait before scan = %+v, %v", w, err)
	}
	// The phone scans: whatsmeow saves the device, reports success, then
	// the server asks for the 515 restart.
	pair(t, f.device, "15550003333")
	f.emit(&events.PairSuccess{ID: *f.device.ID})
	f.qr <- whatsmeow.QRChannelSuccess
	close(f.qr)
	f.emit(&events.ManualLoginReconnect{})
	w, err = a.WaitLogin(ctx, 5*time.Second)
	if err != nil || !w.Connected || w.Message != msgLinked {
		t.Fatalf("wait after scan = %+v, %v", w, err)
	}
	if f.connects != 2 {
		t.Fatalf("connects = %d, want 2 (one restart after pairing)", f.connects)
	}
	if e164, _ := a.Self(); !a.Linked() || e164 != "+15550003333" {
		t.Fatalf("after login linked=%v self=%q", a.Linked(), e164)
	}
	if f.IsConnected() {
		t.Fatal("the login client stays connected; Run would fight it for the session")
	}
	res, err = a.StartLogin(ctx, false, 0)
	if err != nil || res.QRDataURL != "" || !strings.Contains(res.Message, "already linked (+15550003333)") {
		t.Fatalf("start when linked = %+v, %v", res, err)
	}
}

// TestLoginFailures: our login failures are errors (the original answers
// ok:true with the message).
func TestLoginFailures(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		after func(f *fakeClient)
		want  string
	}{
		{"expired", func(f *fakeClient) { f.qr <- whatsmeow.QRChannelTimeout; close(f.qr) }, msgQRExpired},
		{"logged out", func(f *fakeClient) {
			f.emit(&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureLoggedOut})
		}, msgLoggedOutLink},
		{"pair error", func(f *fakeClient) {
			f.qr <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventError, Error: errors.New("bad signature")}
		}, "WhatsApp login failed: bad signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := newFakes(func(f *fakeClient) {
				f.onConnect = func(f *fakeClient, n int) {
					f.qr <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: qrText}
				}
			})
			a := newLoginAccount(t, fs, 0)
			if _, err := a.StartLogin(ctx, false, 0); err != nil {
				t.Fatal(err)
			}
			c.after(fs.next(t))
			_, err := a.WaitLogin(ctx, 5*time.Second)
			if err == nil || err.Error() != c.want {
				t.Fatalf("wait error %v, want %q", err, c.want)
			}
			if _, err := a.WaitLogin(ctx, time.Second); err == nil || err.Error() != msgNoLogin {
				t.Fatalf("wait after the end: %v, want %q", err, msgNoLogin)
			}
		})
	}
	t.Run("no QR in time", func(t *testing.T) {
		a := newLoginAccount(t, newFakes(nil), 0)
		a.qrWaitFloor = 20 * time.Millisecond
		_, err := a.StartLogin(ctx, false, time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "Failed to get QR: timed out") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("stale login", func(t *testing.T) {
		fs := newFakes(func(f *fakeClient) {
			f.onConnect = func(f *fakeClient, n int) {
				f.qr <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: qrText}
			}
		})
		a := newLoginAccount(t, fs, time.Nanosecond)
		if _, err := a.StartLogin(ctx, false, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := a.WaitLogin(ctx, time.Second); err == nil || err.Error() != msgQRExpired {
			t.Fatalf("err %v, want %q", err, msgQRExpired)
		}
	})
}

// TestLoginWaitBounds: web.login.start waits max(timeoutMs ?? 30000, 5000)
// ms for the first QR, web.login.wait max(timeoutMs ?? 120000, 1000).
func TestLoginWaitBounds(t *testing.T) {
	for _, c := range []struct{ in, def, floor, want time.Duration }{
		{0, 30 * time.Second, 5 * time.Second, 30 * time.Second},
		{time.Millisecond, 30 * time.Second, 5 * time.Second, 5 * time.Second},
		{time.Minute, 30 * time.Second, 5 * time.Second, time.Minute},
		{0, 120 * time.Second, time.Second, 120 * time.Second},
		{10 * time.Millisecond, 120 * time.Second, time.Second, time.Second},
	} {
		if got := clampWait(c.in, c.def, c.floor); got != c.want {
			t.Errorf("clampWait(%v, %v, %v) = %v, want %v", c.in, c.def, c.floor, got, c.want)
		}
	}
}
