package cron

import "testing"

// cron.update's patch {"agentId": null} clears the agent (the original's
// `"agentId" in patch`); a patch without the key keeps it.
func TestDecodePatchKeepsANullAgentID(t *testing.T) {
	p, err := DecodePatch([]byte(`{"agentId": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.AgentID == nil || string(*p.AgentID) != "null" {
		t.Fatalf("agentId null decoded as %v, want the null kept (clear)", p.AgentID)
	}
	p, err = DecodePatch([]byte(`{"name": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.AgentID != nil {
		t.Fatalf("no agentId decoded as %s, want nil (keep)", *p.AgentID)
	}
}
