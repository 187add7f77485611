package channels

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// InternalChannel is the Control UI's channel: never delivered.
const InternalChannel = "webchat"

// Delivery is an agent run's reply to send through a channel (agent
// deliver:true, doc/messaging.md §5.5).
type Delivery struct {
	SessionKey string
	// Channel is replyChannel ?? channel ("" or "last": the session's
	// last channel).
	Channel string
	// To is replyTo ?? to ("": the session's lastTo on the same channel,
	// else the plugin's implicit target).
	To, AccountID, ThreadID string
	Payloads                []ReplyPayload
}

// ErrNoDelivery means the resolved channel is internal (webchat): nothing
// is sent and nothing failed.
var ErrNoDelivery = errors.New("no delivery for the internal channel")

// Deliver sends d after its run: the channel and target resolved as the
// original does (doc/messaging.md §5.5), the texts chunked like replies.
// An unknown channel or a target that cannot be resolved is an error.
func (m *Manager) Deliver(ctx context.Context, d Delivery) error {
	m.ensure()
	var lastChannel, lastTo, lastAccount string
	if m.d.Sessions != nil && d.SessionKey != "" {
		if e, ok := m.d.Sessions.Get(d.SessionKey); ok {
			lastChannel, lastTo, lastAccount = e.LastChannel, e.LastTo, e.LastAccountID
		}
	}
	requested := strings.ToLower(strings.TrimSpace(d.Channel))
	channel := requested
	switch requested {
	case InternalChannel:
		return ErrNoDelivery
	case "", "last":
		channel = m.Normalize(lastChannel)
		if channel == "" {
			channel = DefaultChannel // deliver:true without a deliverable last channel
		}
	default:
		channel = m.Normalize(requested)
	}
	if m.byID[channel] == nil {
		return Errorf("Outbound not configured for channel: %s", firstNonEmpty(channel, requested))
	}
	to := strings.TrimSpace(d.To)
	mode := TargetExplicit
	if to == "" {
		mode = TargetImplicit
		if channel == m.Normalize(lastChannel) {
			to = lastTo
		}
	}
	accountID := d.AccountID
	if accountID == "" && channel == m.Normalize(lastChannel) {
		accountID = lastAccount
	}
	if accountID == "" {
		accountID = m.defaultAccountOf(channel)
	}
	r := m.account(channel, NormalizeAccountID(accountID))
	if r == nil {
		return fmt.Errorf("unknown %s account: %s", channel, accountID)
	}
	r.build()
	a, buildErr := r.built()
	if a == nil {
		return fmt.Errorf("%s account %s is not usable: %v", channel, r.id, buildErr)
	}
	var target string
	if err := safeCall(func() error {
		var err error
		target, err = a.ResolveTarget(to, mode)
		return err
	}); err != nil {
		return err
	}
	shaping := Shaping(r.cfg.Merged, r.plugin.Meta().TextChunkLimit)
	for _, p := range d.Payloads {
		for _, out := range m.shape(r.plugin, shaping, p.Text, p.MediaURLs) {
			out.To, out.ThreadID, out.ReplyToID = target, d.ThreadID, p.ReplyToID
			if err := safeCall(func() error { _, err := a.Send(ctx, out); return err }); err != nil {
				return err
			}
		}
	}
	r.mu.Lock()
	r.lastOutboundAt = r.nowMs()
	r.mu.Unlock()
	return nil
}
