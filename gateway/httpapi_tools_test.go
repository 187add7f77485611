package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/profiles"
)

// The core's adapter hands a /v1 request's client tools and answer cap
// to the agent runner: the model request carries both (fakeModel records
// it; the providers' own handling is tested in gateway/httpapi against
// fake upstreams).
func TestHTTPClientToolsReachTheModel(t *testing.T) {
	m := newFakeModel("Sunny", ".")
	s := chatServer(t, m, func(o *Options) {
		cfg := &profiles.Config{}
		cfg.Gateway.HTTP.Endpoints.Responses.Enabled = true
		o.Runtime.Config = cfg
	})
	body := `{"model":"clawdbot:main","input":"weather?","max_output_tokens":50,
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]}`
	req, _ := http.NewRequest("POST", "http://"+s.Addr().String()+"/v1/responses", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "Sunny.") {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	reqs := m.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d model requests", len(reqs))
	}
	var names []string
	for _, tl := range reqs[0].Tools {
		names = append(names, tl.Name)
	}
	if reqs[0].MaxTokens != 50 || len(names) == 0 || names[len(names)-1] != "get_weather" {
		t.Fatalf("model request max tokens %d, tools %v", reqs[0].MaxTokens, names)
	}
}
