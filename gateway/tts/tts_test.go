package tts

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

type env struct {
	reg      *rpc.Registry
	state    string
	vars     map[string]string
	config   string
	mu       sync.Mutex
	cleanups []func()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{state: t.TempDir(), vars: map[string]string{}, config: `{}`}
	e.reg = rpc.NewRegistry()
	Register(e.reg, Deps{
		Config: func() json.RawMessage { return json.RawMessage(e.config) }, StateDir: e.state,
		Getenv: func(k string) string { return e.vars[k] }, TempDir: t.TempDir(),
		Now: func() time.Time { return time.UnixMilli(1700000000000) },
		AfterFunc: func(_ time.Duration, f func()) {
			e.mu.Lock()
			e.cleanups = append(e.cleanups, f)
			e.mu.Unlock()
		},
	})
	return e
}

func (e *env) call(t *testing.T, method, params string) (map[string]any, *wire.ErrorShape) {
	t.Helper()
	res, es := e.reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), json.RawMessage(params), &rpc.Client{}, nil))
	if es != nil {
		return nil, es
	}
	b, _ := json.Marshal(res)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, nil
}

func (e *env) must(t *testing.T, method, params string) map[string]any {
	t.Helper()
	m, es := e.call(t, method, params)
	if es != nil {
		t.Fatalf("%s: %+v", method, es)
	}
	return m
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// Without a key: the original's defaults (edge active, off), nothing
// usable, and tts.convert is the clear "no TTS provider configured" error.
func TestStatusAndConvertWithoutKey(t *testing.T) {
	e := newEnv(t)
	st := e.must(t, "tts.status", `{}`)
	want := `{"auto":"off","edgeEnabled":false,"enabled":false,"fallbackProvider":null,"fallbackProviders":[],"hasElevenLabsKey":false,"hasOpenAIKey":false,"prefsPath":"` +
		filepath.Join(e.state, "settings", "tts.json") + `","provider":"edge"}`
	if js(st) != want {
		t.Fatalf("status = %s\nwant     %s", js(st), want)
	}
	if _, es := e.call(t, "tts.convert", `{"text":"hello"}`); es == nil || es.Code != wire.ErrUnavailable || es.Message != ErrNoProvider {
		t.Fatalf("convert = %+v", es)
	}
	pr := e.must(t, "tts.providers", `{}`)
	if pr["active"] != "edge" || strings.Contains(js(pr), `"configured":true`) {
		t.Fatalf("providers = %s", js(pr))
	}
}

// enable/disable/setProvider write the original's prefs file (other keys
// kept) and status reads it back; bad input gets the original's errors.
func TestPrefs(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.state, "settings", "tts.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"tts":{"enabled":false,"maxLength":900},"other":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := js(e.must(t, "tts.enable", `{}`)); got != `{"enabled":true}` {
		t.Fatal(got)
	}
	if got := js(e.must(t, "tts.setProvider", `{"provider":" openai "}`)); got != `{"provider":"openai"}` {
		t.Fatal(got)
	}
	b, _ := os.ReadFile(path)
	var file map[string]any
	_ = json.Unmarshal(b, &file)
	if js(file) != `{"other":1,"tts":{"auto":"always","maxLength":900,"provider":"openai"}}` {
		t.Fatalf("prefs = %s", b)
	}
	st := e.must(t, "tts.status", `{}`)
	if st["enabled"] != true || st["auto"] != "always" || st["provider"] != "openai" {
		t.Fatalf("status = %v", st)
	}
	e.must(t, "tts.disable", `{}`)
	if st := e.must(t, "tts.status", `{}`); st["enabled"] != false || st["auto"] != "off" {
		t.Fatalf("status after disable = %v", st)
	}
	for _, bad := range []string{`{}`, `{"provider":"polly"}`, `{"provider":3}`} {
		if _, es := e.call(t, "tts.setProvider", bad); es == nil || es.Code != wire.ErrInvalidRequest || es.Message != "Invalid provider. Use openai, elevenlabs, or edge." {
			t.Errorf("%s: %+v", bad, es)
		}
	}
	if _, es := e.call(t, "tts.convert", `{"text":"  "}`); es == nil || es.Code != wire.ErrInvalidRequest || es.Message != "tts.convert requires text" {
		t.Errorf("blank text: %+v", es)
	}
}

// fakeSpeech is an OpenAI speech endpoint on loopback (the real API is
// out of reach of tests): it records the request and answers audio bytes.
func fakeSpeech(t *testing.T, status int) (*httptest.Server, *[]map[string]any) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		m["_path"], m["_auth"] = r.URL.Path, r.Header.Get("Authorization")
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		if status != 200 {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":{"message":"boom"}}`))
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = w.Write([]byte("AUDIO:" + m["response_format"].(string)))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

// With a key, tts.convert posts {model, input, voice, response_format} to
// /audio/speech with the key, writes the audio to a temp file it removes
// later, and answers {audioPath, provider, outputFormat, voiceCompatible};
// telegram gets opus. An API error is UNAVAILABLE naming the status.
func TestConvertOpenAI(t *testing.T) {
	e := newEnv(t)
	srv, got := fakeSpeech(t, 200)
	e.vars["OPENAI_TTS_BASE_URL"] = srv.URL + "/v1"
	e.config = `{"messages":{"tts":{"openai":{"apiKey":"sk-test","model":"tts-1","voice":"nova"}}}}`
	if st := e.must(t, "tts.status", `{}`); st["provider"] != "openai" || st["hasOpenAIKey"] != true {
		t.Fatalf("status = %v", st)
	}
	res := e.must(t, "tts.convert", `{"text":" Hello there "}`)
	if res["provider"] != "openai" || res["outputFormat"] != "mp3" || res["voiceCompatible"] != false || !strings.HasSuffix(res["audioPath"].(string), ".mp3") {
		t.Fatalf("convert = %v", res)
	}
	if b, err := os.ReadFile(res["audioPath"].(string)); err != nil || string(b) != "AUDIO:mp3" {
		t.Fatalf("audio = %q, %v", b, err)
	}
	req := (*got)[0]
	if req["_path"] != "/v1/audio/speech" || req["_auth"] != "Bearer sk-test" || req["model"] != "tts-1" || req["voice"] != "nova" || req["input"] != "Hello there" {
		t.Fatalf("request = %v", req)
	}
	res = e.must(t, "tts.convert", `{"text":"hi","channel":"telegram"}`)
	if res["outputFormat"] != "opus" || res["voiceCompatible"] != true || !strings.HasSuffix(res["audioPath"].(string), ".opus") {
		t.Fatalf("telegram convert = %v", res)
	}
	e.mu.Lock()
	for _, f := range e.cleanups {
		f()
	}
	e.mu.Unlock()
	if _, err := os.Stat(res["audioPath"].(string)); !os.IsNotExist(err) {
		t.Fatalf("audio not cleaned up: %v", err)
	}

	bad, _ := fakeSpeech(t, 500)
	e.vars["OPENAI_TTS_BASE_URL"] = bad.URL + "/v1"
	if _, es := e.call(t, "tts.convert", `{"text":"hi"}`); es == nil || es.Code != wire.ErrUnavailable || es.Message != "TTS conversion failed: openai: OpenAI TTS API error (500)" {
		t.Fatalf("500: %+v", es)
	}
	e.config = `{"messages":{"tts":{"maxTextLength":3,"openai":{"apiKey":"sk-test"}}}}`
	if _, es := e.call(t, "tts.convert", `{"text":"hello"}`); es == nil || es.Message != "Text too long (5 chars, max 3)" {
		t.Fatalf("too long: %+v", es)
	}
}

// On api.openai.com an unknown model is refused before any request, with
// the original's message.
func TestConvertInvalidModel(t *testing.T) {
	e := newEnv(t)
	e.config = `{"messages":{"tts":{"openai":{"apiKey":"sk-test","model":"nope"}}}}`
	if _, es := e.call(t, "tts.convert", `{"text":"hi"}`); es == nil || es.Message != "TTS conversion failed: openai: Invalid model: nope" {
		t.Fatalf("invalid model: %+v", es)
	}
}
