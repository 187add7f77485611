package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mymmrac/telego"
)

// DefaultWebhookListen is where the original's webhook server listens (it
// has no setting for it).
const DefaultWebhookListen = "0.0.0.0:8787"

// DefaultWebhookPath is the POST route when webhookPath is unset.
const DefaultWebhookPath = "/telegram-webhook"

// maxWebhookBody bounds one update; real ones are a few KB.
const maxWebhookBody = 1 << 20

var secretRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`) })

// WebhookOptions configure ServeWebhook.
type WebhookOptions struct {
	// Listen is the address to bind (default 0.0.0.0:8787).
	Listen string
	// Path is the POST route (default /telegram-webhook).
	Path string
	// URL is the public HTTPS URL Telegram posts to (setWebhook's url).
	URL string
	// Secret is required: Telegram echoes it in
	// X-Telegram-Bot-Api-Secret-Token and anything without it is refused.
	Secret string
	// Bound, when set, is told the bound address (tests bind port 0).
	Bound func(addr string)
	// ErrorBackoff paces setWebhook retries.
	ErrorBackoff Backoff
	// OnError reports a failed setWebhook and the delay before the retry.
	OnError func(err error, retryIn time.Duration)
}

// ServeWebhook registers the webhook with setWebhook and serves updates
// until ctx ends (it then returns nil). Unlike the original, a secret is
// required: without one anybody who finds the port could inject messages.
func (c *Client) ServeWebhook(ctx context.Context, o WebhookOptions, handle func(telego.Update)) error {
	if !secretRe().MatchString(o.Secret) {
		return errors.New("channels.telegram.webhookSecret is required with webhookUrl: 1-256 characters of A-Z a-z 0-9 _ - (Telegram sends it back in X-Telegram-Bot-Api-Secret-Token)")
	}
	if o.Listen == "" {
		o.Listen = DefaultWebhookListen
	}
	if o.Path == "" {
		o.Path = DefaultWebhookPath
	}
	if !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	if o.ErrorBackoff.Initial <= 0 {
		o.ErrorBackoff = ErrorBackoff
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("telegram webhook: listen on %s: %w", o.Listen, err)
	}
	if o.Bound != nil {
		o.Bound(ln.Addr().String())
	}
	seen := newRecentIDs(2000)
	var mu sync.Mutex // updates are handled one at a time, in arrival order
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("POST "+o.Path, func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(o.Secret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var u telego.Update
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBody)).Decode(&u); err != nil {
			http.Error(w, "bad update: "+err.Error(), http.StatusBadRequest)
			return
		}
		if seen.add(int64(u.UpdateID)) {
			mu.Lock()
			handle(u)
			mu.Unlock()
		}
		_, _ = io.WriteString(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	for attempt := 1; ; attempt++ {
		callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = c.bot.SetWebhook(callCtx, &telego.SetWebhookParams{URL: o.URL, SecretToken: o.Secret, AllowedUpdates: AllowedUpdates})
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if e, ok := APIError(err); ok && (e.ErrorCode == http.StatusUnauthorized || e.ErrorCode == http.StatusNotFound) {
			return fmt.Errorf("%w (setWebhook: %d %s)", ErrUnauthorized, e.ErrorCode, e.Description)
		}
		delay := o.ErrorBackoff.Delay(attempt)
		if o.OnError != nil {
			o.OnError(err, delay)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		return fmt.Errorf("telegram webhook server: %w", err)
	}
}

// recentIDs remembers the last n update ids: Telegram re-posts an update
// whose answer it did not get.
type recentIDs struct {
	mu   sync.Mutex
	set  map[int64]bool
	ring []int64
	next int
}

func newRecentIDs(n int) *recentIDs {
	return &recentIDs{set: make(map[int64]bool, n), ring: make([]int64, 0, n)}
}

// add reports whether id is new, remembering it.
func (r *recentIDs) add(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set[id] {
		return false
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[id] = true
	return true
}
