package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// channelMessenger is the channels manager as the agent's message tool
// sees it (tools.Messenger). A send goes through the channels feature's
// own send handler, registered once over the same manager: the tool gets
// the chunking, MEDIA: lines, idempotency cache and delivery mirror a
// send client gets, and its error texts. The original's tool calls its
// gateway's send as the admin backend client "agent" (agentClient).
type channelMessenger struct {
	s *Server

	once sync.Once
	reg  *rpc.Registry
}

var _ tools.Messenger = (*channelMessenger)(nil)

func (c *channelMessenger) registry() *rpc.Registry {
	c.once.Do(func() {
		c.reg = rpc.NewRegistry()
		channels.Register(c.reg, c.s.f.channels)
	})
	return c.reg
}

// Route is the session's last delivery route: lastChannel/lastTo/
// lastAccountId, else its deliveryContext; none when that channel is not
// one the manager delivers to (webchat), as the original infers only a
// deliverable channel.
func (c *channelMessenger) Route(sessionKey string) (channel, to, accountID string) {
	if c.s.f.sessions == nil || c.s.f.channels == nil || sessionKey == "" {
		return "", "", ""
	}
	e, ok := c.s.f.sessions.Get(sessionKey)
	if !ok {
		return "", "", ""
	}
	var dc struct {
		Channel   string `json:"channel"`
		To        string `json:"to"`
		AccountID string `json:"accountId"`
	}
	if len(e.DeliveryContext) > 0 {
		_ = json.Unmarshal(e.DeliveryContext, &dc)
	}
	channel = c.s.f.channels.Normalize(cmpNonEmpty(e.LastChannel, dc.Channel))
	if channel == "" {
		return "", "", ""
	}
	return channel, cmpNonEmpty(e.LastTo, dc.To), cmpNonEmpty(e.LastAccountID, dc.AccountID)
}

// Send runs the send method with m's params. A media-only message goes
// as a MEDIA: line, since the method's message may not be empty.
func (c *channelMessenger) Send(ctx context.Context, m tools.OutboundMessage) (json.RawMessage, error) {
	if c.s.f.channels == nil {
		return nil, errors.New("channels are not running in this gateway")
	}
	p := wire.SendParams{To: m.To, Message: m.Message, MediaURL: m.MediaURL, Channel: m.Channel,
		AccountID: m.AccountID, IdempotencyKey: m.IdempotencyKey}
	if strings.TrimSpace(p.Message) == "" && p.MediaURL != "" {
		p.Message, p.MediaURL = "MEDIA: "+p.MediaURL, ""
	}
	if m.GifPlayback {
		gif := true
		p.GifPlayback = &gif
	}
	params, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if err := wire.ValidateParams("send", params); err != nil {
		return nil, errors.New(rpc.AsError(err).Message)
	}
	type answer struct {
		res any
		e   *wire.ErrorShape
	}
	ch := make(chan answer, 1)
	go func() {
		who := agentClient
		res, e := c.registry().Lookup("send").Handler(rpc.NewCall("send", json.RawMessage(`"message-tool"`), params, &who, nil))
		ch <- answer{res, e}
	}()
	select {
	case a := <-ch:
		if a.e != nil {
			return nil, errors.New(a.e.Message)
		}
		return json.Marshal(a.res)
	case <-ctx.Done():
		// The delivery goes on (bounded by the manager's send timeout)
		// and lands in the idempotency cache.
		return nil, ctx.Err()
	}
}

// cmpNonEmpty is the first of vs that is not blank, trimmed.
func cmpNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
