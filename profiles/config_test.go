package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseJSON5Syntax(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // compact JSON
	}{
		{"plain json", `{"a":1,"b":[true,false,null],"c":"x"}`, `{"a":1,"b":[true,false,null],"c":"x"}`},
		{"comments", "// head\n{ /* inline */ a: 1, // tail\n}", `{"a":1}`},
		{"trailing commas", `{a: [1, 2,], b: {c: 3,},}`, `{"a":[1,2],"b":{"c":3}}`},
		{"unquoted and $_ keys", `{$x: 1, _y: 2, ünï: 3}`, `{"$x":1,"_y":2,"ünï":3}`},
		{"single quotes", `{'a': 'it\'s "q"'}`, `{"a":"it's \"q\""}`},
		{"numbers", `{a: 0x1F, b: .5, c: 5., d: +3, e: -0x10, f: 1e3, g: 2.50}`, `{"a":31,"b":0.5,"c":5,"d":3,"e":-16,"f":1000,"g":2.50}`},
		{"escapes", `{a: "\x41\u00e9\t\v\0\/\q", b: "\ud83d\ude00"}`, "{\"a\":\"Aé\\t\\u000b\\u0000/q\",\"b\":\"😀\"}"},
		{"line continuation", "{a: 'one \\\ntwo'}", `{"a":"one two"}`},
		{"bom and nbsp", "\uFEFF{\u00A0a: 1}", `{"a":1}`},
		{"duplicate key last wins", `{a: 1, b: 2, a: 3}`, `{"a":3,"b":2}`},
		{"empty", "  // nothing\n", `null`},
		{"nested", `{a:{b:{c:[{d:'e'}]}}}`, `{"a":{"b":{"c":[{"d":"e"}]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parseJSON5([]byte(tt.in))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var buf bytes.Buffer
			encodeJSON(&buf, n, "", "")
			if got := buf.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(buf.Bytes()) {
				t.Errorf("output is not valid JSON: %s", buf.String())
			}
		})
	}
}

func TestParseJSON5Errors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, col int
		msg       string
	}{
		{"missing comma", "{\n  a: 1\n  b: 2\n}", 3, 3, "expected ',' or '}'"},
		{"unterminated string", "{\n  a: 'abc\n}", 2, 6, "unterminated string"},
		{"unterminated object", "{a: 1,", 1, 1, "unterminated object"},
		{"unterminated comment", "{a: 1} /* x", 1, 8, "unterminated /* comment"},
		{"bare word", "{a: yes}", 1, 5, `unexpected word "yes"`},
		{"missing colon", "{a 1}", 1, 4, "expected ':'"},
		{"trailing garbage", "{} {}", 1, 4, "after the top-level value"},
		{"leading zero", "{a: 007}", 1, 5, "leading zeros"},
		{"infinity", "{a: -Infinity}", 1, 5, "Infinity is not allowed"},
		{"nan", "{a: NaN}", 1, 5, "NaN is not allowed"},
		{"number glued", "{a: 12ab}", 1, 5, "invalid number"},
		{"bad escape", `{a: "\x4"}`, 1, 6, `invalid \x escape`},
		{"column counts characters", "{ 'é': 'ü', b: ? }", 1, 16, "unexpected '?'"},
		{"lone comma", "[,]", 1, 2, "unexpected ','"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseJSON5([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("want *SyntaxError, got %v", err)
			}
			if se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got %d:%d %q, want %d:%d containing %q", se.Line, se.Column, se.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestParseJSON5DepthLimit(t *testing.T) {
	in := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := parseJSON5([]byte(in)); err == nil || !strings.Contains(err.Error(), "nesting deeper") {
		t.Fatalf("want a nesting error, got %v", err)
	}
}

func TestParseConfigIssues(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		env      map[string]string
		issues   []string // exact Issue.String() values
		warnings []string
	}{
		{
			name: "valid",
			in:   "{\n  gateway: { port: 18789, bind: 'loopback', auth: { mode: 'token', token: 'x' } },\n}",
		},
		{
			name:   "port as string",
			in:     "{\n  gateway: {\n    port: \"abc\",\n  },\n}",
			issues: []string{`clawdbot.json:3:11: gateway.port: expected integer, got string "abc"`},
		},
		{
			name:   "syntax error",
			in:     "{\n  gateway: {\n    port: 1\n    bind: 'lan'\n  }\n}",
			issues: []string{`clawdbot.json:4:5: syntax error: expected ',' or '}' after the value of "port", got 'b'`},
		},
		{
			name:   "float port",
			in:     `{gateway: {port: 1.5}}`,
			issues: []string{`clawdbot.json:1:18: gateway.port: expected integer, got number 1.5`},
		},
		{
			name:   "section not an object",
			in:     `{gateway: []}`,
			issues: []string{`clawdbot.json:1:11: gateway: expected object, got array`},
		},
		{
			name:   "top level array",
			in:     `[1]`,
			issues: []string{`clawdbot.json:1:1: the config must be a JSON object ({...}), got array`},
		},
		{
			name: "enums",
			in:   `{gateway: {bind: 'everywhere', mode: 'local', auth: {mode: 'none'}, reload: {mode: 'warm'}}, logging: {level: 'loud'}}`,
			issues: []string{
				`clawdbot.json:1:18: gateway.bind: invalid value "everywhere" (use one of: loopback, lan, tailnet, auto, custom)`,
				`clawdbot.json:1:60: gateway.auth.mode: invalid value "none" (use one of: token, password)`,
				`clawdbot.json:1:84: gateway.reload.mode: invalid value "warm" (use one of: off, hot, restart, hybrid)`,
				`clawdbot.json:1:111: logging.level: invalid value "loud" (use one of: silent, fatal, error, warn, info, debug, trace)`,
			},
		},
		{
			name: "ranges",
			in:   "{gateway: {port: 0}, canvasHost: {port: 70000}}",
			issues: []string{
				`clawdbot.json:1:18: gateway.port: 0 is out of range (use 1-65535)`,
				`clawdbot.json:1:41: canvasHost.port: 70000 is out of range (use 1-65535)`,
			},
		},
		{
			name:   "custom bind without host",
			in:     `{gateway: {bind: 'custom'}}`,
			issues: []string{`clawdbot.json:1:18: gateway.bind: "custom" needs gateway.customBindHost (an IPv4 address)`},
		},
		{
			name:   "bad trusted proxy",
			in:     `{gateway: {trustedProxies: ['10.0.0.0/8', 'proxy.local']}}`,
			issues: []string{`clawdbot.json:1:43: gateway.trustedProxies[1]: "proxy.local" is not an IP address or CIDR`},
		},
		{
			name: "unknown keys warn with position",
			in:   "{\n  gateway: { prot: 1, tailscale: {mode: 'off'} },\n  bogus: true,\n  plugins: {anything: 1},\n}",
			warnings: []string{
				`clawdbot.json:2:14: gateway.prot: unknown key (ignored; did you mean gateway.port?)`,
				`clawdbot.json:3:3: bogus: unknown key (ignored; check the spelling)`,
			},
		},
		{
			name: "moved key hint",
			in:   `{gateway: {token: 'x', auth: {mdoe: 'token'}}}`,
			warnings: []string{
				`clawdbot.json:1:12: gateway.token: unknown key (ignored; did you mean gateway.auth.token?)`,
				`clawdbot.json:1:31: gateway.auth.mdoe: unknown key (ignored; did you mean gateway.auth.mode?)`,
			},
		},
		{
			name:     "duplicate key warns",
			in:       `{logging: {level: 'info', level: 'debug'}}`,
			warnings: []string{`clawdbot.json:1:27: logging.level: duplicate key (the later one wins; first at offset 11)`},
		},
		{
			name: "env substitution",
			in:   `{gateway: {auth: {token: '${TOK}'}}, hooks: {path: '$${LIT}'}}`,
			env:  map[string]string{"TOK": "secret"},
		},
		{
			name:   "missing env",
			in:     `{gateway: {auth: {token: 'a-${NOPE}'}}}`,
			issues: []string{`clawdbot.json:1:26: gateway.auth.token: environment variable NOPE is not set (referenced as ${NOPE}; set it or write $${NOPE} for a literal)`},
		},
		{
			name:   "nested type error in list",
			in:     `{gateway: {nodes: {allowCommands: ['a', 2]}}}`,
			issues: []string{`clawdbot.json:1:41: gateway.nodes.allowCommands[1]: expected string, got number 2`},
		},
		{
			name: "null leaves unset",
			in:   `{gateway: {port: null}, agents: null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ParseConfig("clawdbot.json", []byte(tt.in), envMap(tt.env))
			if got := issueStrings(s.Issues); !reflect.DeepEqual(got, tt.issues) {
				t.Errorf("issues:\n got %q\nwant %q", got, tt.issues)
			}
			if got := issueStrings(s.Warnings); !reflect.DeepEqual(got, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.warnings)
			}
			if s.Valid != (len(tt.issues) == 0) {
				t.Errorf("Valid = %v with issues %q", s.Valid, tt.issues)
			}
			if s.Valid && s.Config == nil {
				t.Errorf("valid snapshot without Config")
			}
		})
	}
}

func issueStrings(is []Issue) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.String())
	}
	return out
}

func TestParseConfigTypedAndParsed(t *testing.T) {
	in := `{
  // JSON5 with everything we model
  gateway: {mode: 'local', port: 19001, bind: 'custom', customBindHost: '10.1.2.3',
    auth: {mode: 'password', password: '${PW}'}, reload: {mode: 'hot', debounceMs: 500},
    controlUi: {enabled: false}, http: {endpoints: {chatCompletions: {enabled: true}}}},
  commands: {restart: true},
  canvasHost: {port: 19005},
  hooks: {enabled: true, token: 'h'},
  logging: {level: 'debug', file: '/tmp/x.log'},
  agents: {defaults: {workspace: '~/clawd-dev', skipBootstrap: true}, list: [{id: 'dev'}]},
  env: {FOO: 'bar', vars: {X: '1'}},
  channels: {telegram: {botToken: 't'}},
}`
	s := ParseConfig("c.json", []byte(in), envMap(map[string]string{"PW": "pw1"}))
	if !s.Valid {
		t.Fatalf("issues: %v", s.Issues)
	}
	c := s.Config
	if c.Gateway.Port != 19001 || c.Gateway.Bind != "custom" || c.Gateway.CustomBindHost != "10.1.2.3" ||
		c.Gateway.Auth.Password != "pw1" || c.Gateway.Reload.DebounceMs != 500 || !c.Commands.Restart ||
		c.CanvasHost.Port != 19005 || c.Logging.Level != "debug" || c.Agents.Defaults.Workspace != "~/clawd-dev" ||
		len(c.Agents.List) != 1 || c.Gateway.ControlUI.Enabled == nil || *c.Gateway.ControlUI.Enabled ||
		!c.Gateway.HTTP.Endpoints.ChatCompletions.Enabled || string(c.Env["FOO"]) != `"bar"` {
		t.Errorf("typed config wrong: %+v", c)
	}
	// Parsed is the document before substitution, as encoding/json decodes it.
	var want map[string]any
	if err := json.Unmarshal(func() []byte { var b bytes.Buffer; encodeJSON(&b, s.root, "", ""); return b.Bytes() }(), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Parsed, want) {
		t.Errorf("Parsed differs from the JSON decoding:\n%v\n%v", s.Parsed, want)
	}
	auth := s.Parsed["gateway"].(map[string]any)["auth"].(map[string]any)
	if auth["password"] != "${PW}" {
		t.Errorf("Parsed password = %v, want the literal reference", auth["password"])
	}
	if s.Hash != Hash([]byte(in)) {
		t.Errorf("hash mismatch")
	}
}

func TestLoadMissingAndErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.json")
	s, err := Load(missing)
	if err != nil {
		t.Fatal(err)
	}
	if s.Exists || !s.Valid || s.Config == nil || s.Hash != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("missing snapshot = %+v", s)
	}
	if _, err := LoadConfig(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadConfig(missing) = %v, want ErrNotExist", err)
	}

	bad := filepath.Join(dir, "clawdbot.json")
	os.WriteFile(bad, []byte("{\n  gateway: {\n    port: 'abc'\n  }\n}\n"), 0o600)
	_, err = LoadConfig(bad)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConfigError, got %v", err)
	}
	want := bad + `:3:11: gateway.port: expected integer, got string "abc"`
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}

	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{gateway: {port: 20000}}`), 0o600)
	cfg, err := LoadConfig(good)
	if err != nil || cfg.Gateway.Port != 20000 {
		t.Errorf("LoadConfig(good) = %+v, %v", cfg, err)
	}

	if _, err := Load(dir); err == nil {
		t.Errorf("Load(directory) should fail")
	}
}

func TestHash(t *testing.T) {
	if got := Hash(nil); got != Hash([]byte("")) {
		t.Errorf("nil and empty must hash alike")
	}
	if got := Hash([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("Hash(abc) = %s", got)
	}
}

func TestSave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "clawdbot.json")
	if err := Save(path, []byte("v1\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".bak"); !os.IsNotExist(err) {
		t.Errorf("first save must not create a .bak")
	}
	if err := Save(path, []byte("v2\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "v2\n" {
		t.Errorf("content = %q", b)
	}
	if b, _ := os.ReadFile(path + ".bak"); string(b) != "v1\n" {
		t.Errorf("backup = %q", b)
	}
	// Saving identical content is a no-op and keeps the backup.
	if err := Save(path, []byte("v2\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path + ".bak"); string(b) != "v1\n" {
		t.Errorf("backup after no-op = %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("leftover temp files: %v", entries)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + ".bak": 0o600} {
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
				t.Errorf("%s mode = %v, want %v", p, st.Mode().Perm(), want)
			}
		}
		// A symlinked config is written through, and the link stays.
		real := filepath.Join(t.TempDir(), "real.json")
		os.WriteFile(real, []byte("old"), 0o600)
		link := filepath.Join(dir, "link.json")
		if err := os.Symlink(real, link); err != nil {
			t.Fatal(err)
		}
		if err := SaveJSON(link, map[string]any{"a": "<b>"}); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("symlink replaced by a file")
		}
		if b, _ := os.ReadFile(real); string(b) != "{\n  \"a\": \"<b>\"\n}\n" {
			t.Errorf("through-link content = %q", b)
		}
	}
}

// TestMergePatchRFC7386 runs the examples of RFC 7386 Appendix A.
func TestMergePatchRFC7386(t *testing.T) {
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		// Beyond the RFC: empty target, JSON5 input, order kept.
		{``, `{"a":1}`, `{"a":1}`},
		{`{z: 1, /* c */ a: {y: 2, x: 3},}`, `{a: {x: null, w: 4}, b: 5}`, `{"z":1,"a":{"y":2,"w":4},"b":5}`},
	}
	for _, tt := range tests {
		got, err := MergePatch([]byte(tt.target), []byte(tt.patch))
		if err != nil {
			t.Errorf("MergePatch(%s, %s): %v", tt.target, tt.patch, err)
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, got); err != nil {
			t.Fatalf("output not JSON: %s", got)
		}
		if compact.String() != tt.want {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", tt.target, tt.patch, compact.String(), tt.want)
		}
	}
	if _, err := MergePatch([]byte(`{`), []byte(`{}`)); err == nil {
		t.Errorf("bad target must fail")
	}
	if _, err := MergePatch([]byte(`{}`), []byte(``)); err == nil {
		t.Errorf("empty patch must fail")
	}
}

func TestResolvedAuth(t *testing.T) {
	tests := []struct {
		name    string
		auth    GatewayAuthConfig
		env     map[string]string
		want    ResolvedAuth
		missing bool
	}{
		{"nothing", GatewayAuthConfig{}, nil, ResolvedAuth{Mode: AuthNone}, false},
		{"config token", GatewayAuthConfig{Token: "t"}, nil, ResolvedAuth{Mode: AuthToken, Token: "t", TokenSource: "config"}, false},
		{"env token", GatewayAuthConfig{}, map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "e"}, ResolvedAuth{Mode: AuthToken, Token: "e", TokenSource: "env"}, false},
		{"config token beats env", GatewayAuthConfig{Token: "t"}, map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "e"}, ResolvedAuth{Mode: AuthToken, Token: "t", TokenSource: "config"}, false},
		{"password wins inferred mode", GatewayAuthConfig{Token: "t"}, map[string]string{"CLAWDBOT_GATEWAY_PASSWORD": "p"},
			ResolvedAuth{Mode: AuthPassword, Token: "t", TokenSource: "config", Password: "p", PasswordSource: "env"}, false},
		{"explicit token mode beats password", GatewayAuthConfig{Mode: "token", Token: "t", Password: "p"}, nil,
			ResolvedAuth{Mode: AuthToken, Token: "t", TokenSource: "config", Password: "p", PasswordSource: "config"}, false},
		{"token mode without token", GatewayAuthConfig{Mode: "token"}, nil, ResolvedAuth{Mode: AuthToken}, true},
		{"password mode without password", GatewayAuthConfig{Mode: "password"}, map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "e"},
			ResolvedAuth{Mode: AuthPassword, Token: "e", TokenSource: "env"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Gateway: GatewayConfig{Auth: tt.auth}}
			got := c.ResolvedAuth(envMap(tt.env))
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if (got.Missing() != "") != tt.missing {
				t.Errorf("Missing() = %q", got.Missing())
			}
		})
	}
	var nilCfg *Config
	if got := nilCfg.ResolvedAuth(nil); got.Mode != AuthNone {
		t.Errorf("nil config: %+v", got)
	}
}

// FuzzParseJSON5 checks that no input panics the parser and that whatever
// parses encodes to valid JSON.
func FuzzParseJSON5(f *testing.F) {
	for _, s := range []string{`{}`, `{a: [1, 'x', {b: null}],}`, "/*", `"\u`, `{a: 0x}`, `[.e1]`, "{'\\\r\n'}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, err := parseJSON5(in)
		if err != nil || n == nil {
			return
		}
		var buf bytes.Buffer
		encodeJSON(&buf, n, "", "")
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("invalid JSON output %q for input %q", buf.String(), in)
		}
		// The output is JSON5 too and must be a fixed point.
		n2, err := parseJSON5(buf.Bytes())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", buf.String(), err)
		}
		var buf2 bytes.Buffer
		encodeJSON(&buf2, n2, "", "")
		if buf2.String() != buf.String() {
			t.Fatalf("not a fixed point: %q then %q", buf.String(), buf2.String())
		}
	})
}

// BenchmarkParseConfig measures loading a typical commented config (the
// gateway re-parses on every file change and config.get).
func BenchmarkParseConfig(b *testing.B) {
	raw := []byte(`{
  // typical hand-edited config
  gateway: {mode: 'local', port: 18789, bind: 'loopback',
    auth: {mode: 'token', token: '${CLAWDBOT_TEST_TOKEN}'}, reload: {mode: 'hybrid'}},
  agents: {defaults: {workspace: '~/clawd', model: {primary: 'x/y'}, heartbeat: {every: '30m'}},
    list: [{id: 'main', default: true}, {id: 'work', workspace: '~/clawd-work'}]},
  channels: {telegram: {botToken: 'abc', allowFrom: ['1', '2', '3']}, whatsapp: {allowFrom: ['+1555']}},
  logging: {level: 'info'}, hooks: {enabled: true, token: 'h', mappings: [{match: {path: 'x'}}]},
  models: {providers: {openai: {baseUrl: 'http://127.0.0.1:1/v1', models: [{id: 'a'}, {id: 'b'}]}}},
}`)
	getenv := envMap(map[string]string{"CLAWDBOT_TEST_TOKEN": "t"})
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if s := ParseConfig("c.json", raw, getenv); !s.Valid {
			b.Fatal(s.Issues)
		}
	}
}
