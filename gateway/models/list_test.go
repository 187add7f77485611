package models

import (
	"encoding/json"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// models.list has the observed shape (doc/messaging.md §1.12): the
// configured models with the original's fill-ins, plus the default, sorted
// by provider then name.
func TestModelsList(t *testing.T) {
	cfg := profiles.Config{
		Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
			"fake": {BaseURL: "http://127.0.0.1:1/v1", Models: []profiles.ModelDefinition{
				{ID: "fake-model", Name: "Fake Model", ContextWindow: 128000}, {ID: "a-model", Name: "A Model", Reasoning: true, Input: []string{"text", "image"}}}}}},
		Agents: primary("fake/fake-model", "anthropic/claude-opus-4-5"),
	}
	reg := rpc.NewRegistry()
	Register(reg, Deps{Config: func() profiles.Config { return cfg }})
	res, e := reg.Lookup("models.list").Handler(rpc.NewCall("models.list", json.RawMessage(`"1"`), json.RawMessage(`{}`), nil, nil))
	if e != nil {
		t.Fatal(e)
	}
	got, _ := json.Marshal(res.(*wire.ModelsListResult))
	want := `{"models":[` +
		`{"id":"claude-opus-4-5","name":"claude-opus-4-5","provider":"anthropic","contextWindow":200000,"reasoning":false,"input":["text"]},` +
		`{"id":"a-model","name":"A Model","provider":"fake","reasoning":true,"input":["text","image"]},` +
		`{"id":"fake-model","name":"Fake Model","provider":"fake","contextWindow":128000,"reasoning":false,"input":["text"]}]}`
	if string(got) != want {
		t.Errorf("models.list\n got %s\nwant %s", got, want)
	}
	if c := Catalog(profiles.Config{}); len(c) != 1 || c[0].Provider != "anthropic" || c[0].ID != "claude-opus-4-5" {
		t.Errorf("empty config catalog %+v", c)
	}
}
