package telegram

import (
	"context"
	"errors"
	"net/url"
	"strings"

	ta "github.com/mymmrac/telego/telegoapi"
)

// The Bot API puts the token in every URL, and Go's HTTP errors quote the
// URL ("Post \"https://api.telegram.org/bot123:ABC…/getUpdates\": dial
// tcp: …"). Those errors end up in lastError, logs and send's error text,
// so the caller below replaces the token before anything sees them.

const redactedToken = "<bot-token>"

// redactingCaller wraps the HTTP caller and scrubs the token from errors.
type redactingCaller struct {
	inner ta.Caller
	token string
}

func (r redactingCaller) Call(ctx context.Context, u string, data *ta.RequestData) (*ta.Response, error) {
	res, err := r.inner.Call(ctx, u, data)
	if err != nil {
		return res, redact(err, r.token)
	}
	return res, nil
}

// transportError is a caller error with the token removed from its text.
// It unwraps only to a context error, never to the original (which would
// print the token).
type transportError struct {
	msg string
	// network is true when no HTTP answer arrived (dial, reset, timeout).
	network bool
	ctxErr  error
}

func (e *transportError) Error() string { return e.msg }
func (e *transportError) Unwrap() error { return e.ctxErr }

func redact(err error, token string) error {
	var ue *url.Error
	te := &transportError{msg: err.Error(), network: errors.As(err, &ue)}
	if token != "" {
		te.msg = strings.ReplaceAll(te.msg, token, redactedToken)
	}
	switch {
	case errors.Is(err, context.Canceled):
		te.ctxErr = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		te.ctxErr = context.DeadlineExceeded
	}
	return te
}

// isNetworkError reports a call that got no HTTP answer at all.
func isNetworkError(err error) bool {
	var te *transportError
	return errors.As(err, &te) && te.network
}
