//lint:file-ignore ST1005 tool errors are the original's texts: the model reads them verbatim

package tools

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// Messenger is the gateway's outbound channel path as the message tool
// reaches it: Route is the session's last delivery route (the channel and
// target a reply on it would go to; "" when it has none), and Send
// delivers one message exactly as the gateway's send method does
// (chunking, MEDIA: lines, idempotency, the delivery mirror into the
// target's session), answering its result payload or an error whose text
// is the method's error message. The core adapts the channels manager to
// it, so the tool and the send method share one delivery path.
type Messenger interface {
	Route(sessionKey string) (channel, to, accountID string)
	Send(ctx context.Context, m OutboundMessage) (json.RawMessage, error)
}

// OutboundMessage is one send through a Messenger: the params of the
// gateway's send method.
type OutboundMessage struct {
	Channel, To, AccountID string
	Message                string
	MediaURL               string
	GifPlayback            bool
	// IdempotencyKey is fresh per call, as the original's tool makes it:
	// a toolCallId may repeat across turns (some providers number them),
	// and a cached answer for a new message would be a fake success.
	IdempotencyKey string
}

// messageActions are the original's action names (CHANNEL_MESSAGE_ACTION_NAMES);
// only send is something this gateway's channels can do, the others are
// refused with a tool error naming that.
var messageActions = []string{"send", "broadcast", "poll", "react", "reactions", "read", "edit", "unsend", "reply",
	"sendWithEffect", "renameGroup", "setGroupIcon", "addParticipant", "removeParticipant", "leaveGroup",
	"sendAttachment", "delete", "pin", "unpin", "list-pins", "permissions", "thread-create", "thread-list",
	"thread-reply", "search", "sticker", "sticker-search", "member-info", "role-info", "emoji-list", "emoji-upload",
	"sticker-upload", "role-add", "role-remove", "channel-info", "channel-list", "channel-create", "channel-edit",
	"channel-delete", "channel-move", "category-create", "category-edit", "category-delete", "voice-status",
	"event-list", "event-create", "timeout", "kick", "ban"}

// messageSendTimeout bounds the wait for one send: longer than the
// channels manager's own 60 s delivery bound, so its error comes back
// first; a send still running then finishes in the background.
const messageSendTimeout = 70 * time.Second

const messageDescription = "Send, delete, and manage messages via channel plugins. Supports actions: send."

// messageSchema is the original's schema narrowed to what send reads
// (the original too lists only the configured channels' actions). The
// gateway fields stay so that a call naming another gateway is refused
// rather than sent here; caption, replyTo and bestEffort are accepted and
// not used yet (the send method has no fields for them: the message goes
// out unquoted). threadId is refused, since ignoring it would post
// outside the thread.
const messageSchema = `{"type":"object","properties":{` +
	`"action":{"type":"string","enum":["send"]},` +
	`"channel":{"type":"string"},` +
	`"target":{"type":"string","description":"Target channel/user id or name."},` +
	`"targets":{"type":"array","items":{"type":"string"}},` +
	`"accountId":{"type":"string"},"dryRun":{"type":"boolean"},` +
	`"message":{"type":"string"},"media":{"type":"string"},"path":{"type":"string"},"filePath":{"type":"string"},` +
	`"caption":{"type":"string"},"replyTo":{"type":"string"},` +
	`"gifPlayback":{"type":"boolean"},"bestEffort":{"type":"boolean"},` +
	`"gatewayUrl":{"type":"string"},"gatewayToken":{"type":"string"}` +
	`},"required":["action"]}`

// messageArgs are the arguments send reads; to and channelId are the
// original's legacy spellings of target.
type messageArgs struct {
	Action       string  `json:"action"`
	Channel      string  `json:"channel"`
	Target       string  `json:"target"`
	To           string  `json:"to"`
	ChannelID    string  `json:"channelId"`
	AccountID    string  `json:"accountId"`
	DryRun       bool    `json:"dryRun"`
	Message      *string `json:"message"`
	Media        string  `json:"media"`
	Path         string  `json:"path"`
	FilePath     string  `json:"filePath"`
	GifPlayback  bool    `json:"gifPlayback"`
	ThreadID     string  `json:"threadId"`
	GatewayURL   string  `json:"gatewayUrl"`
	GatewayToken string  `json:"gatewayToken"`
}

// messageTool is the original's message tool (tools/message-tool.js)
// over m, with the send action only.
func messageTool(m Messenger) Tool { return messageToolImpl{m: m} }

type messageToolImpl struct{ m Messenger }

func (messageToolImpl) Spec() llm.Tool {
	return llm.Tool{Name: "message", Description: messageDescription, Parameters: schemaJSON(messageSchema)}
}

// CallTimeout is zero: Run bounds the send itself.
func (messageToolImpl) CallTimeout(*Call) time.Duration { return 0 }

func (t messageToolImpl) Run(ctx context.Context, c *Call) (agent.ToolResult, error) {
	var a messageArgs
	if err := c.Decode(&a); err != nil {
		return agent.ToolResult{}, err
	}
	if strings.TrimSpace(a.GatewayURL) != "" || strings.TrimSpace(a.GatewayToken) != "" {
		return agent.ToolResult{}, errors.New("gatewayUrl/gatewayToken are not supported: the message tool sends through this gateway; omit them")
	}
	action := strings.TrimSpace(a.Action)
	switch {
	case action == "":
		return agent.ToolResult{}, errors.New("action required")
	case action != "send":
		for _, known := range messageActions {
			if known == action {
				return agent.ToolResult{}, fmt.Errorf("Message action %s is not supported by this gateway: its channels can only send.", action)
			}
		}
		return agent.ToolResult{}, fmt.Errorf("Unknown action: %s", action)
	}
	if strings.TrimSpace(a.ThreadID) != "" {
		return agent.ToolResult{}, errors.New("threadId is not supported by this gateway: put the thread in the target (Telegram: <chatId>:topic:<threadId>) or omit it")
	}
	// The original's routing: an explicit target, else a legacy to or
	// channelId, else the session's current route; the channel likewise.
	curChannel, curTo, curAccount := t.m.Route(c.Session.Key)
	target := cmpTrim(a.Target, a.To, a.ChannelID)
	channel := strings.TrimSpace(a.Channel)
	if channel == "" {
		channel = curChannel
	}
	if target == "" && strings.EqualFold(channel, curChannel) {
		target = curTo
	}
	if target == "" {
		return agent.ToolResult{}, errors.New("Action send requires a target.")
	}
	accountID := strings.TrimSpace(a.AccountID)
	if accountID == "" && strings.EqualFold(channel, curChannel) {
		accountID = curAccount
	}
	media := cmpTrim(a.Media, a.Path, a.FilePath)
	if a.Message == nil && media == "" {
		return agent.ToolResult{}, errors.New("message required")
	}
	text := ""
	if a.Message != nil {
		text = *a.Message
	}
	if a.DryRun {
		return JSONResult(map[string]any{"ok": true, "dryRun": true, "channel": channel, "action": action}), nil
	}
	ctx, cancel := context.WithTimeout(ctx, messageSendTimeout)
	defer cancel()
	res, err := t.m.Send(ctx, OutboundMessage{Channel: channel, To: target, AccountID: accountID, Message: text,
		MediaURL: media, GifPlayback: a.GifPlayback, IdempotencyKey: "message-tool:" + rand.Text()})
	if err != nil {
		return agent.ToolResult{}, err
	}
	return JSONResult(res), nil
}
