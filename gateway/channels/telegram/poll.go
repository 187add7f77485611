package telegram

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/mymmrac/telego"
)

// Backoff is a retry delay policy: Initial × Factor^(attempt-1), capped at
// Max, ± Jitter (a fraction).
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Jitter  float64
}

// Delay is the wait before retry number attempt (1-based).
func (b Backoff) Delay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	f := b.Factor
	if f < 1 {
		f = 1
	}
	d := float64(b.Initial) * math.Pow(f, float64(attempt-1))
	if b.Max > 0 && d > float64(b.Max) {
		d = float64(b.Max)
	}
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}

// ConflictBackoff is the original's restart policy after a 409 (another
// poller holds getUpdates): 2 s × 1.8 up to 30 s, jitter 0.25.
var ConflictBackoff = Backoff{Initial: 2 * time.Second, Max: 30 * time.Second, Factor: 1.8, Jitter: 0.25}

// ErrorBackoff is the retry policy after a network error or a 5xx, which
// the original does not retry at all (its channel ends); ours keeps
// polling so a flaky network does not need a gateway restart.
var ErrorBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 2, Jitter: 0.2}

// AllowedUpdates are grammY's default update types plus message_reaction,
// as the original asks for.
var AllowedUpdates = []string{
	"message", "edited_message", "channel_post", "edited_channel_post",
	"business_connection", "business_message", "edited_business_message", "deleted_business_messages",
	"inline_query", "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
	"purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_join_request",
	"chat_boost", "removed_chat_boost", "message_reaction",
}

// PollOptions configure Poll.
type PollOptions struct {
	// OffsetPath is the update-offset file ("" keeps it in memory only).
	OffsetPath string
	// Timeout is the long-poll duration asked of getUpdates (default 30 s).
	Timeout time.Duration
	// ErrorBackoff and ConflictBackoff default to the package values.
	ErrorBackoff, ConflictBackoff Backoff
	// OnError is told about every failed getUpdates: the error, whether it
	// was a 409 conflict, and the delay before the next try.
	OnError func(err error, conflict bool, retryIn time.Duration)
	// OnRecovered is called on the first successful poll after an error.
	OnRecovered func()
	// OnOffsetError reports a failed offset write (polling goes on).
	OnOffsetError func(err error)
}

// ErrUnauthorized is a getUpdates answer that retrying cannot fix (a
// revoked token, a wrong apiRoot): Poll returns it wrapped.
var ErrUnauthorized = errors.New("telegram rejected the bot token; check channels.telegram.botToken/tokenFile or TELEGRAM_BOT_TOKEN (and apiRoot)")

// Poll long-polls getUpdates until ctx ends (it then returns nil), calling
// handle for every update above the persisted offset, in order, and
// persisting the offset after each batch (atomically, monotonic). Network
// errors, 5xx and 429 are retried with ErrorBackoff (429 honours
// retry_after), a 409 with ConflictBackoff; 401 and 404 end it.
func (c *Client) Poll(ctx context.Context, o PollOptions, handle func(telego.Update)) error {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.ErrorBackoff.Initial <= 0 {
		o.ErrorBackoff = ErrorBackoff
	}
	if o.ConflictBackoff.Initial <= 0 {
		o.ConflictBackoff = ConflictBackoff
	}
	var last int64
	haveLast := false
	if o.OffsetPath != "" {
		last, haveLast = ReadOffset(o.OffsetPath)
	}
	errAttempts, conflictAttempts := 0, 0
	failing := false
	for {
		if ctx.Err() != nil {
			return nil
		}
		params := &telego.GetUpdatesParams{Timeout: int(o.Timeout / time.Second), AllowedUpdates: AllowedUpdates}
		if haveLast {
			params.Offset = int(last + 1)
		}
		// The HTTP call may take the whole long poll plus a margin; beyond
		// that the connection is dead even if no error arrived.
		callCtx, cancel := context.WithTimeout(ctx, o.Timeout+15*time.Second)
		updates, err := c.bot.GetUpdates(callCtx, params)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var delay time.Duration
			conflict := false
			apiErr, isAPI := APIError(err)
			switch {
			case isAPI && apiErr.ErrorCode == http.StatusConflict:
				conflict = true
				conflictAttempts++
				errAttempts = 0
				delay = o.ConflictBackoff.Delay(conflictAttempts)
			case isAPI && (apiErr.ErrorCode == http.StatusUnauthorized || apiErr.ErrorCode == http.StatusNotFound):
				return fmt.Errorf("%w (getUpdates: %d %s)", ErrUnauthorized, apiErr.ErrorCode, apiErr.Description)
			default:
				errAttempts++
				conflictAttempts = 0
				delay = o.ErrorBackoff.Delay(errAttempts)
				if isAPI && apiErr.Parameters != nil && apiErr.Parameters.RetryAfter > 0 {
					delay = time.Duration(apiErr.Parameters.RetryAfter) * time.Second
				}
			}
			failing = true
			if o.OnError != nil {
				o.OnError(err, conflict, delay)
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		if failing {
			failing = false
			errAttempts, conflictAttempts = 0, 0
			if o.OnRecovered != nil {
				o.OnRecovered()
			}
		}
		handled := false
		for _, u := range updates {
			id := int64(u.UpdateID)
			if haveLast && id <= last {
				continue
			}
			handle(u)
			last, haveLast, handled = id, true, true
		}
		if handled && o.OffsetPath != "" {
			if err := WriteOffset(o.OffsetPath, last); err != nil && o.OnOffsetError != nil {
				o.OnOffsetError(err)
			}
		}
	}
}
