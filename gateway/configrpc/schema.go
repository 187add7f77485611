package configrpc

import (
	_ "embed"
	"encoding/json"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

//go:generate go run ./internal/genconfigschema configschema.json

// configSchema is {schema, uiHints}: the JSON Schema generated from the Go
// config types with the original's UI hints (internal/configschemagen).
//
//go:embed configschema.json
var configSchema []byte

// SchemaDocument is the generated {schema, uiHints} document.
func SchemaDocument() []byte { return configSchema }

var schemaParts = sync.OnceValue(func() (p struct {
	Schema  json.RawMessage `json:"schema"`
	UIHints json.RawMessage `json:"uiHints"`
}) {
	_ = json.Unmarshal(configSchema, &p) // checked by the staleness test
	return p
})

// schema is config.schema: {schema, uiHints, version, generatedAt}.
// generatedAt is stamped at the first call in the process (the Store
// outlives restarts), as the original caches its schema at first use.
func (h *handlers) schema(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.EmptyParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	st := h.d.Store
	st.schemaOnce.Do(func() {
		now := time.Now
		if h.d.Now != nil {
			now = h.d.Now
		}
		st.schemaAt = now().UTC().Format("2006-01-02T15:04:05.000Z")
	})
	parts := schemaParts()
	version := h.d.Version
	if version == "" {
		version = "dev"
	}
	return wire.ConfigSchemaResult{Schema: parts.Schema, UIHints: parts.UIHints, Version: version, GeneratedAt: st.schemaAt}, nil
}
