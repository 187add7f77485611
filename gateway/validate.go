package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/clawdbot/clawdbot/wire"
)

// objectKeys returns the keys of a JSON object in document order (AJV
// reports unexpected properties in that order).
func objectKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	t, err := dec.Token()
	if err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// schemaCheck accumulates AJV-style errors ("at /path: message").
type schemaCheck struct{ errs []string }

func (c *schemaCheck) add(path, msg string) {
	if path == "" {
		c.errs = append(c.errs, msg)
		return
	}
	c.errs = append(c.errs, "at "+path+": "+msg)
}

func (c *schemaCheck) String() string { return strings.Join(c.errs, "; ") }

// object checks raw is an object with the required keys and no keys outside
// allowed, returning its fields.
func (c *schemaCheck) object(path string, raw json.RawMessage, required, allowed []string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		c.add(path, "must be object")
		return nil
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			c.add(path, "must have required property '"+k+"'")
		}
	}
	root := path
	if root == "" {
		root = "root"
	}
	for _, k := range objectKeys(raw) {
		if !slices.Contains(allowed, k) {
			c.errs = append(c.errs, "at "+root+": unexpected property '"+k+"'")
		}
	}
	return m
}

func (c *schemaCheck) str(path string, raw json.RawMessage, nonEmpty bool) (string, bool) {
	if raw == nil {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		c.add(path, "must be string")
		return "", false
	}
	if nonEmpty && s == "" {
		c.add(path, "must NOT have fewer than 1 characters")
		return "", false
	}
	return s, true
}

func (c *schemaCheck) integer(path string, raw json.RawMessage, min int64) {
	if raw == nil {
		return
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || f != float64(int64(f)) {
		c.add(path, "must be integer")
		return
	}
	if int64(f) < min {
		c.add(path, fmt.Sprintf("must be >= %d", min))
	}
}

func (c *schemaCheck) strArray(path string, raw json.RawMessage) {
	if raw == nil {
		return
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		c.add(path, "must be array")
		return
	}
	for i, e := range a {
		c.str(fmt.Sprintf("%s/%d", path, i), e, false)
	}
}

func (c *schemaCheck) enum(path, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.add(path, "must be equal to constant")
		c.add(path, "must match a schema in anyOf")
	}
}

// validateConnectParams checks connect params against the ConnectParams
// schema (spec §1.4, additionalProperties:false at every level) and
// decodes them. It returns the AJV-style details on failure.
func validateConnectParams(raw json.RawMessage) (*wire.ConnectParams, string) {
	var c schemaCheck
	m := c.object("", raw, []string{"minProtocol", "maxProtocol", "client"},
		[]string{"minProtocol", "maxProtocol", "client", "caps", "commands", "permissions", "pathEnv", "role", "scopes", "device", "auth", "locale", "userAgent"})
	if m == nil {
		return nil, c.String()
	}
	c.integer("/minProtocol", m["minProtocol"], 1)
	c.integer("/maxProtocol", m["maxProtocol"], 1)
	if raw, ok := m["client"]; ok {
		cm := c.object("/client", raw, []string{"id", "version", "platform", "mode"},
			[]string{"id", "displayName", "version", "platform", "deviceFamily", "modelIdentifier", "mode", "instanceId"})
		if cm != nil {
			if id, ok := c.str("/client/id", cm["id"], false); ok {
				c.enum("/client/id", id, wire.ClientIDs)
			}
			c.str("/client/displayName", cm["displayName"], true)
			c.str("/client/version", cm["version"], true)
			c.str("/client/platform", cm["platform"], true)
			c.str("/client/deviceFamily", cm["deviceFamily"], false)
			c.str("/client/modelIdentifier", cm["modelIdentifier"], false)
			if mode, ok := c.str("/client/mode", cm["mode"], false); ok {
				c.enum("/client/mode", mode, wire.ClientModes)
			}
			c.str("/client/instanceId", cm["instanceId"], false)
		}
	}
	c.strArray("/caps", m["caps"])
	c.strArray("/commands", m["commands"])
	if raw, ok := m["permissions"]; ok {
		var p map[string]bool
		if json.Unmarshal(raw, &p) != nil {
			c.add("/permissions", "must be object")
		}
	}
	c.str("/pathEnv", m["pathEnv"], false)
	c.str("/role", m["role"], false)
	c.strArray("/scopes", m["scopes"])
	if raw, ok := m["device"]; ok {
		dm := c.object("/device", raw, []string{"id", "publicKey", "signature", "signedAt"},
			[]string{"id", "publicKey", "signature", "signedAt", "nonce"})
		if dm != nil {
			c.str("/device/id", dm["id"], true)
			c.str("/device/publicKey", dm["publicKey"], true)
			c.str("/device/signature", dm["signature"], true)
			c.integer("/device/signedAt", dm["signedAt"], 0)
			c.str("/device/nonce", dm["nonce"], true)
		}
	}
	if raw, ok := m["auth"]; ok {
		am := c.object("/auth", raw, nil, []string{"token", "password"})
		if am != nil {
			c.str("/auth/token", am["token"], false)
			c.str("/auth/password", am["password"], false)
		}
	}
	c.str("/locale", m["locale"], false)
	c.str("/userAgent", m["userAgent"], false)
	if len(c.errs) > 0 {
		return nil, c.String()
	}
	var p wire.ConnectParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err.Error()
	}
	return &p, ""
}
