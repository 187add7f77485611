package wire

import (
	"encoding/json"
	"math"
	"slices"
)

// The fast paths below accept the common, well-formed request frame and
// connect params without the generic schema machinery: the gateway checks
// every inbound frame, and the schema validator (decode to any, walk,
// decode again into the struct) costs tens of microseconds per connect.
//
// Each fast path implements its schema exactly but is allowed to be
// stricter: anything unusual (a duplicate key, a number written as 3.0, a
// null where the schema wants an array, a string with escapes it cannot
// take verbatim...) returns false and the caller runs the schema path,
// which also builds the error message. The fuzz targets hold two
// invariants: a fast accept is a schema accept, and the fast decode equals
// json.Unmarshal of the same bytes.

// jscan reads a document that json.Valid has already accepted, so it only
// checks what the schema cares about, not JSON syntax.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) skipWS() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// eat consumes c (after whitespace) when it is next.
func (s *jscan) eat(c byte) bool {
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// atEnd reports whether only whitespace is left.
func (s *jscan) atEnd() bool {
	s.skipWS()
	return s.i == len(s.b)
}

// rawStr reads a string token and returns its bytes: the contents when
// they are plain ASCII without escapes, otherwise the decoding by
// encoding/json (so the value is exactly what json.Unmarshal yields).
func (s *jscan) rawStr() ([]byte, bool) {
	s.skipWS()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i
	s.i++
	plain := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if plain {
				return s.b[start+1 : s.i-1], true
			}
			var out string
			if json.Unmarshal(s.b[start:s.i], &out) != nil {
				return nil, false
			}
			return []byte(out), true
		case c == '\\':
			plain = false
			s.i += 2
			continue
		case c >= 0x80:
			plain = false
		}
		s.i++
	}
	return nil, false
}

func (s *jscan) str() (string, bool) {
	b, ok := s.rawStr()
	return string(b), ok
}

// nonEmpty reads a string with schema minLength 1 (a non-empty Go string
// always has at least one code point).
func (s *jscan) nonEmpty() (string, bool) {
	v, ok := s.str()
	return v, ok && v != ""
}

// uint reads an integer >= 0 written as plain digits (no sign, fraction or
// exponent) that fits an int; anything else is left to the schema path.
func (s *jscan) uint() (int, bool) {
	s.skipWS()
	j := s.i
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		j++
	}
	if j == s.i || j-s.i > 18 {
		return 0, false
	}
	if j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		return 0, false
	}
	var n int64
	for _, c := range s.b[s.i:j] {
		n = n*10 + int64(c-'0')
	}
	s.i = j
	if n > math.MaxInt {
		return 0, false
	}
	return int(n), true
}

func (s *jscan) bool() (bool, bool) {
	s.skipWS()
	rest := s.b[s.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// object reads an object, calling field for each key; field consumes the
// value and returns false to reject.
func (s *jscan) object(field func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		k, ok := s.rawStr()
		if !ok || !s.eat(':') || !field(k) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// strArray reads an array of non-empty strings. An empty array decodes to
// a non-nil empty slice, as json.Unmarshal does.
func (s *jscan) strArray() ([]string, bool) {
	if !s.eat('[') {
		return nil, false
	}
	out := []string{}
	if s.eat(']') {
		return out, true
	}
	for {
		v, ok := s.nonEmpty()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if s.eat(',') {
			continue
		}
		if s.eat(']') {
			return out, true
		}
		return nil, false
	}
}

// skipValue steps over one value and returns its bytes.
func (s *jscan) skipValue() ([]byte, bool) {
	s.skipWS()
	start := s.i
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, ok := s.rawStrSkip(); !ok {
				return nil, false
			}
			if depth == 0 {
				return s.b[start:s.i], true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return s.b[start:s.i], s.i > start
			}
			depth--
			if depth == 0 {
				s.i++
				return s.b[start:s.i], true
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return s.b[start:s.i], s.i > start
			}
		}
		s.i++
	}
	return s.b[start:s.i], depth == 0 && s.i > start
}

// rawStrSkip steps over a string token without decoding it.
func (s *jscan) rawStrSkip() (int, bool) {
	start := s.i
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return start, true
		case '\\':
			s.i += 2
			continue
		}
		s.i++
	}
	return start, false
}

// seen tracks the keys of one object: a repeated key is left to the schema
// path (JSON's last-wins rule is not worth reproducing here).
type seen uint32

func (m *seen) first(bit uint) bool {
	if *m&(1<<bit) != 0 {
		return false
	}
	*m |= 1 << bit
	return true
}

func (m seen) has(bits ...uint) bool {
	for _, b := range bits {
		if m&(1<<b) == 0 {
			return false
		}
	}
	return true
}

// fastRequestFrame implements the RequestFrame schema: an object with only
// type/id/method/params, type "req", id and method non-empty strings,
// params any value (copied, as json.RawMessage decoding does).
func fastRequestFrame(raw []byte) (*RequestFrame, bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	s := jscan{b: raw}
	f := &RequestFrame{}
	var keys seen
	ok := s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "type":
			var v []byte
			v, ok = s.rawStr()
			ok = ok && keys.first(0) && string(v) == FrameReq
			f.Type = FrameReq
		case "id":
			f.ID, ok = s.nonEmpty()
			ok = ok && keys.first(1)
		case "method":
			f.Method, ok = s.nonEmpty()
			ok = ok && keys.first(2)
		case "params":
			var v []byte
			v, ok = s.skipValue()
			f.Params = append(json.RawMessage(nil), v...)
			ok = ok && keys.first(3)
		}
		return ok
	})
	if !ok || !s.atEnd() || !keys.has(0, 1, 2) {
		return nil, false
	}
	return f, true
}

// fastConnectParams implements the ConnectParams schema (see
// schema/ConnectParams.json) and decodes into ConnectParams as
// json.Unmarshal would.
func fastConnectParams(raw []byte) (*ConnectParams, bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	s := jscan{b: raw}
	p := &ConnectParams{}
	var keys seen
	ok := s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "minProtocol":
			p.MinProtocol, ok = s.uint()
			ok = ok && keys.first(0) && p.MinProtocol >= 1
		case "maxProtocol":
			p.MaxProtocol, ok = s.uint()
			ok = ok && keys.first(1) && p.MaxProtocol >= 1
		case "client":
			ok = keys.first(2) && s.clientInfo(&p.Client)
		case "caps":
			p.Caps, ok = s.strArray()
			ok = ok && keys.first(3)
		case "commands":
			p.Commands, ok = s.strArray()
			ok = ok && keys.first(4)
		case "permissions":
			ok = keys.first(5) && s.permissions(p)
		case "pathEnv":
			p.PathEnv, ok = s.str()
			ok = ok && keys.first(6)
		case "role":
			p.Role, ok = s.nonEmpty()
			ok = ok && keys.first(7)
		case "scopes":
			p.Scopes, ok = s.strArray()
			ok = ok && keys.first(8)
		case "device":
			p.Device = &DeviceAuth{}
			ok = keys.first(9) && s.deviceAuth(p.Device)
		case "auth":
			p.Auth = &ConnectAuth{}
			ok = keys.first(10) && s.connectAuth(p.Auth)
		case "locale":
			p.Locale, ok = s.str()
			ok = ok && keys.first(11)
		case "userAgent":
			p.UserAgent, ok = s.str()
			ok = ok && keys.first(12)
		}
		return ok
	})
	if !ok || !s.atEnd() || !keys.has(0, 1, 2) {
		return nil, false
	}
	return p, true
}

func (s *jscan) clientInfo(c *ClientInfo) bool {
	var keys seen
	ok := s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "id":
			c.ID, ok = s.str()
			ok = ok && keys.first(0) && slices.Contains(ClientIDs, c.ID)
		case "displayName":
			c.DisplayName, ok = s.nonEmpty()
			ok = ok && keys.first(1)
		case "version":
			c.Version, ok = s.nonEmpty()
			ok = ok && keys.first(2)
		case "platform":
			c.Platform, ok = s.nonEmpty()
			ok = ok && keys.first(3)
		case "deviceFamily":
			c.DeviceFamily, ok = s.nonEmpty()
			ok = ok && keys.first(4)
		case "modelIdentifier":
			c.ModelIdentifier, ok = s.nonEmpty()
			ok = ok && keys.first(5)
		case "mode":
			c.Mode, ok = s.str()
			ok = ok && keys.first(6) && slices.Contains(ClientModes, c.Mode)
		case "instanceId":
			c.InstanceID, ok = s.nonEmpty()
			ok = ok && keys.first(7)
		}
		return ok
	})
	return ok && keys.has(0, 2, 3, 6)
}

func (s *jscan) deviceAuth(d *DeviceAuth) bool {
	var keys seen
	ok := s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "id":
			d.ID, ok = s.nonEmpty()
			ok = ok && keys.first(0)
		case "publicKey":
			d.PublicKey, ok = s.nonEmpty()
			ok = ok && keys.first(1)
		case "signature":
			d.Signature, ok = s.nonEmpty()
			ok = ok && keys.first(2)
		case "signedAt":
			var n int
			n, ok = s.uint()
			d.SignedAt = int64(n)
			ok = ok && keys.first(3)
		case "nonce":
			d.Nonce, ok = s.nonEmpty()
			ok = ok && keys.first(4)
		}
		return ok
	})
	return ok && keys.has(0, 1, 2, 3)
}

func (s *jscan) connectAuth(a *ConnectAuth) bool {
	var keys seen
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "token":
			a.Token, ok = s.str()
			ok = ok && keys.first(0)
		case "password":
			a.Password, ok = s.str()
			ok = ok && keys.first(1)
		}
		return ok
	})
}

func (s *jscan) permissions(p *ConnectParams) bool {
	p.Permissions = map[string]bool{}
	return s.object(func(k []byte) bool {
		if _, dup := p.Permissions[string(k)]; dup {
			return false
		}
		v, ok := s.bool()
		p.Permissions[string(k)] = v
		return ok
	})
}
