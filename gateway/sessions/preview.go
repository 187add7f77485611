package sessions

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// preview limits (d:gateway/server-methods/sessions.js, session-utils.fs.js).
const (
	previewMaxKeys  = 64
	previewMaxLines = 200
)

func (h *handlers) preview(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SessionsPreviewParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	var keys []string
	for _, k := range p.Keys {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) > previewMaxKeys {
		keys = keys[:previewMaxKeys]
	}
	limit, maxChars := 12, 240
	if p.Limit != nil {
		limit = int(max(1, *p.Limit))
	}
	if p.MaxChars != nil {
		maxChars = int(max(20, *p.MaxChars))
	}
	res := wire.SessionsPreviewResult{TS: h.now().UnixMilli(), Previews: []wire.SessionPreview{}}
	for _, key := range keys {
		e, ok := h.d.Store.Get(key)
		if !ok || e.SessionID == "" {
			res.Previews = append(res.Previews, wire.SessionPreview{Key: key, Status: "missing", Items: []wire.PreviewItem{}})
			continue
		}
		path := h.d.Store.FindTranscript(h.d.Store.Target(key), e)
		items := []wire.PreviewItem{}
		if path != "" {
			var err error
			if items, err = previewItems(path, limit, maxChars); err != nil {
				res.Previews = append(res.Previews, wire.SessionPreview{Key: key, Status: "error", Items: []wire.PreviewItem{}})
				continue
			}
		}
		status := "ok"
		if len(items) == 0 {
			status = "empty"
		}
		res.Previews = append(res.Previews, wire.SessionPreview{Key: key, Status: status, Items: items})
	}
	return res, nil
}

type previewMsg struct {
	Role     string          `json:"role"`
	Content  json.RawMessage `json:"content"`
	Text     *string         `json:"text"`
	ToolName string          `json:"toolName"`
	ToolNm2  string          `json:"tool_name"`
}

type previewPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
	Name string  `json:"name"`
}

// previewItems are the last limit displayable messages among the last
// 200 lines of the transcript (buildPreviewItems of the original).
func previewItems(path string, limit, maxChars int) ([]wire.PreviewItem, error) {
	var msgs []previewMsg
	lines := 0
	err := sessionstore.ScanBack(path, func(l []byte) bool {
		lines++
		var e struct {
			Message *previewMsg `json:"message"`
		}
		if json.Unmarshal(l, &e) == nil && e.Message != nil {
			msgs = append(msgs, *e.Message)
		}
		return lines < previewMaxLines && len(msgs) < limit
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(msgs)
	items := []wire.PreviewItem{}
	for _, m := range msgs {
		var parts []previewPart
		var str *string
		var s string
		if json.Unmarshal(m.Content, &s) == nil {
			str = &s
		} else {
			_ = json.Unmarshal(m.Content, &parts)
		}
		tool := m.ToolName != "" || m.ToolNm2 != ""
		for _, p := range parts {
			t := strings.ToLower(p.Type)
			if p.Name != "" || t == "toolcall" || t == "tool_call" {
				tool = true
			}
		}
		role := "other"
		switch r := strings.ToLower(m.Role); {
		case tool:
			role = "tool"
		case r == "user" || r == "assistant" || r == "system" || r == "tool":
			role = r
		}
		text := ""
		switch {
		case str != nil:
			text = strings.TrimSpace(*str)
		case len(parts) > 0:
			var ts []string
			for _, p := range parts {
				if p.Text != nil && strings.TrimSpace(*p.Text) != "" {
					ts = append(ts, *p.Text)
				}
			}
			text = strings.TrimSpace(strings.Join(ts, "\n"))
		}
		if text == "" && m.Text != nil {
			text = strings.TrimSpace(*m.Text)
		}
		if text == "" {
			var names []string
			for _, p := range parts {
				if n := strings.TrimSpace(p.Name); n != "" {
					names = append(names, n)
				}
			}
			if n := strings.TrimSpace(m.ToolName + m.ToolNm2); n != "" {
				names = append(names, n)
			}
			if len(names) > 0 {
				text = "call " + strings.Join(names[:min(2, len(names))], ", ")
				if len(names) > 2 {
					text += " +" + itoa(len(names)-2)
				}
			}
		}
		if text == "" {
			for _, p := range parts {
				if t := strings.ToLower(strings.TrimSpace(p.Type)); t != "" && t != "text" && t != "toolcall" && t != "tool_call" {
					text = "[" + t + "]"
					break
				}
			}
		}
		if text = strings.TrimSpace(text); text == "" {
			continue
		}
		if role == "user" {
			text = stripEnvelope(text)
		}
		items = append(items, wire.PreviewItem{Role: role, Text: truncatePreview(text, maxChars)})
	}
	if len(items) > limit {
		items = items[len(items)-limit:]
	}
	return items, nil
}

func truncatePreview(s string, n int) string {
	r := []rune(s)
	if n <= 0 || len(r) <= n {
		return s
	}
	if n <= 3 {
		return string(r[:n])
	}
	return string(r[:n-3]) + "..."
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
