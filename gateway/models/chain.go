package models

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// RetryPolicy bounds the chain's retries of one candidate.
type RetryPolicy struct {
	// Retries is how many times a retryable failure is tried again.
	Retries int
	// Base is the first backoff; each retry doubles it, up to Max.
	Base, Max time.Duration
	// MaxRetryAfter caps an upstream's Retry-After: a longer one is not
	// waited for; the chain falls over to the next candidate instead.
	MaxRetryAfter time.Duration
}

// DefaultRetry is pi's own: 3 retries at 2, 4 and 8 s (doc/messaging.md
// §4.2), and a Retry-After honoured up to 30 s.
var DefaultRetry = RetryPolicy{Retries: 3, Base: 2 * time.Second, Max: 8 * time.Second, MaxRetryAfter: 30 * time.Second}

// Chain is llm.Selection.Chain: the candidates in order, each retried on
// rate limits, server and network errors, then the next one on any
// failover-class error.
//
// Once a candidate has emitted an event, its failure ends the chain with
// the partial message and the error: the original restarts the attempt,
// so a client sees the same text twice; retrying only while nothing was
// emitted keeps every emitted delta part of the one answer the client
// sees.
type Chain struct {
	cands []candidate
	retry RetryPolicy
}

var _ llm.Provider = (*Chain)(nil)

// Stream implements llm.Provider.
func (c *Chain) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Message, error) {
	var tried []string
	var last *llm.Error
	for i := range c.cands {
		cand := &c.cands[i]
		tried = append(tried, cand.ref.String())
		if cand.err != nil {
			last = llm.AsError(cand.err)
			continue
		}
		r := req
		r.Model = ""
		for attempt := 0; ; attempt++ {
			emitted := false
			msg, err := cand.provider.Stream(ctx, r, func(ev llm.Event) { emitted = true; emit(ev) })
			if err == nil {
				if cand.rot != nil {
					cand.rot.succeeded()
				}
				return msg, nil
			}
			e := llm.AsError(err)
			if e.Provider == "" {
				e.Provider, e.Model = cand.ref.Provider, cand.ref.Model
			}
			last = e
			if emitted || !e.Failover() || ctx.Err() != nil {
				return msg, e
			}
			if reason := failureReason(e); reason != "" && cand.rot != nil {
				// The credential failed, not the model: record the
				// cooldown and go on with the provider's next profile at
				// once (better than the original, which first waits out
				// the failing key's retries).
				if cand.rot.fail(reason) {
					sp := cand.spec
					sp.apiKey = cand.rot.current().key
					if p, perr := newProvider(sp); perr == nil {
						cand.spec, cand.provider = sp, p
						attempt = -1
						continue
					}
				}
			}
			if !e.Retryable() || attempt >= c.retry.Retries {
				break
			}
			wait := min(c.retry.Base<<attempt, c.retry.Max)
			if e.RetryAfter > 0 {
				if e.RetryAfter > c.retry.MaxRetryAfter {
					break
				}
				wait = e.RetryAfter
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return llm.Message{}, ctxError(ctx, cand.ref)
			}
		}
	}
	if last == nil {
		return llm.Message{}, &llm.Error{Kind: llm.KindConfig, Message: "no model configured", Fix: "set agents.defaults.model.primary"}
	}
	out := *last
	if len(tried) > 1 {
		out.Message = strings.TrimSpace(messageOf(last) + " (tried " + strings.Join(tried, ", ") + ")")
	}
	return llm.Message{}, &out
}

func messageOf(e *llm.Error) string {
	if e.Message != "" {
		return e.Message
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Kind
}

// ctxError is the error for a call ended by ctx: aborted by the caller,
// or the run's time out.
func ctxError(ctx context.Context, ref llm.Ref) *llm.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &llm.Error{Kind: llm.KindTimeout, Provider: ref.Provider, Model: ref.Model, Message: "model call timed out", Err: ctx.Err()}
	}
	return &llm.Error{Kind: llm.KindAborted, Provider: ref.Provider, Model: ref.Model, Message: "aborted", Err: ctx.Err()}
}

// classifyStatus maps an upstream HTTP failure to an error kind.
func classifyStatus(status int, msg string) string {
	switch {
	case status == 401 || status == 403:
		return llm.KindAuth
	case status == 429:
		return llm.KindRateLimit
	case status == 400 && looksLikeContextLength(msg):
		return llm.KindContextLength
	case status >= 500:
		return llm.KindServer
	case status == 408:
		return llm.KindNetwork
	default:
		return llm.KindBadRequest
	}
}

func looksLikeContextLength(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "context length") || strings.Contains(m, "context_length") ||
		strings.Contains(m, "too many tokens") || strings.Contains(m, "prompt is too long")
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
