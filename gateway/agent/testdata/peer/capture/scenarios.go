package main

import (
	"encoding/json"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

type scenario struct {
	name string
	run  func(name string)
}

var stateDir = os_getenv("PEER_STATE", "")

func os_getenv(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

const mainKey = "agent:main:main"

func snapshot(label string) {
	if stateDir == "" {
		return
	}
	dst := filepath.Join(*outDir, "state-"+label)
	os.RemoveAll(dst)
	os.MkdirAll(dst, 0o755)
	// Copy agents/ (sessions.json, transcripts, models.json, auth files) as the original wrote them.
	cmd := exec.Command("cp", "-a", filepath.Join(stateDir, "agents"), dst+"/")
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Printf("snapshot %s: %v %s", label, err, out)
	}
	ls, _ := exec.Command("sh", "-c", "cd "+stateDir+" && find . -path ./tmp -prune -o -print | sort | xargs ls -ld --time-style=+%s 2>/dev/null").CombinedOutput()
	os.WriteFile(filepath.Join(dst, "LISTING.txt"), ls, 0o644)
	log.Printf("snapshot %s", label)
}

func payloadField(p parsed, field string) string {
	var m map[string]any
	_ = json.Unmarshal(p.Payload, &m)
	s, _ := m[field].(string)
	return s
}

var scenarios = []scenario{
	{"a-agent-plain", func(n string) {
		c := dial(n)
		id := c.req("agent", map[string]any{"message": "hi there", "idempotencyKey": "run-agent-1", "sessionKey": mainKey})
		c.waitFinalRes(id, 90*time.Second)
		c.call("agent.wait", map[string]any{"runId": "run-agent-1", "timeoutMs": 0})
		c.call("agent.wait", map[string]any{"runId": "nope", "timeoutMs": 0})
		c.finish(500 * time.Millisecond)
	}},
	{"b-chat-send", func(n string) {
		c := dial(n)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "hello", "idempotencyKey": "run-chat-1"})
		c.waitChat("run-chat-1", []string{"final", "error", "aborted"}, 90*time.Second)
		c.finish(1500 * time.Millisecond)
	}},
	{"b2-chat-throttle", func(n string) {
		c := dial(n)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "FAST please", "idempotencyKey": "run-fast-1"})
		c.waitChat("run-fast-1", []string{"final", "error", "aborted"}, 90*time.Second)
		c.finish(1000 * time.Millisecond)
	}},
	{"c-chat-history", func(n string) {
		c := dial(n)
		c.call("chat.history", map[string]any{"sessionKey": mainKey})
		c.call("chat.history", map[string]any{"sessionKey": "main", "limit": 2})
		c.call("chat.history", map[string]any{"sessionKey": "agent:main:never-used"})
		c.finish(200 * time.Millisecond)
		snapshot("after-abc")
	}},
	{"d-sessions", func(n string) {
		c := dial(n)
		id := c.req("agent", map[string]any{"message": "second session", "idempotencyKey": "run-second-1", "sessionKey": "agent:main:second"})
		c.waitFinalRes(id, 90*time.Second)
		l := c.call("sessions.list", map[string]any{})
		var list struct {
			Sessions []struct{ Key, SessionID string } `json:"sessions"`
		}
		_ = json.Unmarshal(l.Payload, &list)
		mainSID := ""
		for _, s := range list.Sessions {
			if s.Key == mainKey {
				mainSID = s.SessionID
			}
		}
		c.call("sessions.list", map[string]any{"includeDerivedTitles": true, "includeLastMessage": true})
		c.call("sessions.list", map[string]any{"search": "second", "limit": 1})
		c.call("sessions.preview", map[string]any{"keys": []string{mainKey, "main", "agent:main:second", "agent:main:nope"}})
		c.call("sessions.preview", map[string]any{"keys": []string{mainKey}, "limit": 1, "maxChars": 20})
		c.call("sessions.resolve", map[string]any{"key": "main"})
		c.call("sessions.resolve", map[string]any{"sessionId": mainSID})
		c.call("sessions.resolve", map[string]any{"label": "nolabel"})
		c.call("sessions.resolve", map[string]any{})
		c.call("sessions.resolve", map[string]any{"key": "main", "label": "x"})
		c.call("sessions.resolve", map[string]any{"key": "agent:main:nope"})
		c.call("sessions.patch", map[string]any{"key": mainKey, "thinkingLevel": "low"})
		c.call("sessions.patch", map[string]any{"key": mainKey, "thinkingLevel": "bogus"})
		c.call("sessions.patch", map[string]any{"key": "agent:main:second", "label": "second-label"})
		c.call("sessions.patch", map[string]any{"key": mainKey, "label": "second-label"})
		c.call("sessions.patch", map[string]any{"key": "agent:main:created", "verboseLevel": "on"})
		c.call("sessions.patch", map[string]any{"key": mainKey, "thinkingLevel": nil})
		c.call("sessions.patch", map[string]any{"key": mainKey, "model": "fake/fake-model"})
		c.call("sessions.patch", map[string]any{"key": mainKey, "model": "nope/missing"})
		c.call("sessions.resolve", map[string]any{"label": "second-label"})
		c.call("models.list", map[string]any{})
		c.call("agents.list", map[string]any{})
		c.call("agent.identity.get", map[string]any{})
		c.call("agent.identity.get", map[string]any{"sessionKey": mainKey})
		c.call("usage.status", map[string]any{})
		c.call("usage.cost", map[string]any{})
		snapshotNoLog := func() {}
		snapshotNoLog()
		c.finish(200 * time.Millisecond)
		snapshot("before-delete-reset")
		c = dial(n + "-2")
		c.call("sessions.delete", map[string]any{"key": mainKey})
		c.call("sessions.delete", map[string]any{"key": "agent:main:second"})
		c.call("sessions.delete", map[string]any{"key": "agent:main:nope"})
		c.call("sessions.reset", map[string]any{"key": mainKey})
		c.call("sessions.reset", map[string]any{"key": "agent:main:nope2"})
		c.call("sessions.list", map[string]any{})
		c.call("chat.history", map[string]any{"sessionKey": mainKey})
		c.finish(200 * time.Millisecond)
		snapshot("after-delete-reset")
	}},
	{"e-chat-abort", func(n string) {
		c := dial(n)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "SLOW please", "idempotencyKey": "run-slow-1"})
		// Abort after a few chat deltas have arrived.
		c.waitChat("run-slow-1", []string{"delta"}, 60*time.Second)
		time.Sleep(1200 * time.Millisecond)
		c.call("chat.abort", map[string]any{"sessionKey": "agent:main:other", "runId": "run-slow-1"})
		c.call("chat.abort", map[string]any{"sessionKey": mainKey, "runId": "run-slow-1"})
		time.Sleep(4 * time.Second) // trailing agent events after the abort
		c.call("chat.abort", map[string]any{"sessionKey": mainKey, "runId": "run-slow-1"})
		c.call("chat.abort", map[string]any{"sessionKey": mainKey})
		c.call("chat.history", map[string]any{"sessionKey": mainKey})
		c.finish(500 * time.Millisecond)
	}},
	{"e2-chat-stop-command", func(n string) {
		c := dial(n)
		c.call("chat.send", map[string]any{"sessionKey": mainKey, "message": "stop", "idempotencyKey": "run-stop-0"})
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "SLOW again", "idempotencyKey": "run-slow-2"})
		c.waitChat("run-slow-2", []string{"delta"}, 60*time.Second)
		time.Sleep(700 * time.Millisecond)
		c.call("chat.send", map[string]any{"sessionKey": mainKey, "message": "/stop", "idempotencyKey": "run-stop-1"})
		time.Sleep(3 * time.Second)
		c.call("chat.abort", map[string]any{"sessionKey": "agent:main:other", "runId": "run-slow-2"})
		c.finish(500 * time.Millisecond)
	}},
	{"e3-chat-inject", func(n string) {
		c := dial(n)
		// Right after sessions.reset plus an aborted first turn the new session has no transcript file yet.
		c.call("chat.inject", map[string]any{"sessionKey": mainKey, "message": "before any transcript"})
		id := c.req("agent", map[string]any{"message": "make a transcript", "idempotencyKey": "run-inject-prep", "sessionKey": mainKey})
		c.waitFinalRes(id, 90*time.Second)
		c.call("chat.inject", map[string]any{"sessionKey": mainKey, "message": "injected note", "label": "note"})
		c.call("chat.inject", map[string]any{"sessionKey": mainKey, "message": "unlabelled note"})
		c.call("chat.inject", map[string]any{"sessionKey": "agent:main:nope", "message": "x"})
		c.call("chat.inject", map[string]any{"sessionKey": "agent:main:created", "message": "no transcript yet"})
		c.call("chat.history", map[string]any{"sessionKey": mainKey})
		c.finish(300 * time.Millisecond)
		snapshot("after-abort-inject")
	}},
	{"f-agent-dedupe", func(n string) {
		c := dial(n)
		id := c.req("agent", map[string]any{"message": "dup test", "idempotencyKey": "run-dup-1", "sessionKey": mainKey})
		c.waitRes(id, 10*time.Second)
		time.Sleep(400 * time.Millisecond)
		c.req("agent", map[string]any{"message": "dup test", "idempotencyKey": "run-dup-1", "sessionKey": mainKey})
		c.waitFinalRes(id, 90*time.Second)
		time.Sleep(300 * time.Millisecond)
		id3 := c.req("agent", map[string]any{"message": "dup test", "idempotencyKey": "run-dup-1", "sessionKey": mainKey})
		c.waitRes(id3, 10*time.Second)
		// Different params, same key: still the cached answer?
		id4 := c.req("agent", map[string]any{"message": "different text", "idempotencyKey": "run-dup-1", "sessionKey": mainKey})
		c.waitRes(id4, 10*time.Second)
		time.Sleep(500 * time.Millisecond)
		c.finish(300 * time.Millisecond)
	}},
	{"f2-chat-dedupe", func(n string) {
		c := dial(n)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "chat dup", "idempotencyKey": "run-chatdup-1"})
		time.Sleep(300 * time.Millisecond)
		c.call("chat.send", map[string]any{"sessionKey": mainKey, "message": "chat dup", "idempotencyKey": "run-chatdup-1"})
		c.waitChat("run-chatdup-1", []string{"final", "error"}, 90*time.Second)
		time.Sleep(500 * time.Millisecond)
		c.call("chat.send", map[string]any{"sessionKey": mainKey, "message": "chat dup", "idempotencyKey": "run-chatdup-1"})
		c.finish(500 * time.Millisecond)
	}},
	{"g-upstream-500", func(n string) {
		c := dial(n)
		id := c.req("agent", map[string]any{"message": "FAIL500 please", "idempotencyKey": "run-fail-1", "sessionKey": mainKey})
		c.waitFinalRes(id, 120*time.Second)
		c.call("agent.wait", map[string]any{"runId": "run-fail-1", "timeoutMs": 0})
		c.finish(1500 * time.Millisecond)
	}},
	{"g2-chat-upstream-500", func(n string) {
		c := dial(n)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "FAIL500 via chat", "idempotencyKey": "run-chatfail-1"})
		c.waitChat("run-chatfail-1", []string{"final", "error"}, 120*time.Second)
		time.Sleep(25 * time.Second) // retries continue after the first lifecycle end
		c.call("chat.history", map[string]any{"sessionKey": mainKey, "limit": 6})
		c.finish(500 * time.Millisecond)
	}},
	{"h-tool-turn", func(n string) {
		c := dial(n)
		c.call("sessions.patch", map[string]any{"key": mainKey, "verboseLevel": "on"})
		id := c.req("agent", map[string]any{"message": "TOOLCALL please", "idempotencyKey": "run-tool-1", "sessionKey": mainKey})
		c.waitFinalRes(id, 90*time.Second)
		c.call("chat.history", map[string]any{"sessionKey": mainKey, "limit": 4})
		c.call("sessions.preview", map[string]any{"keys": []string{mainKey}, "limit": 4})
		c.call("sessions.patch", map[string]any{"key": mainKey, "verboseLevel": nil})
		id = c.req("agent", map[string]any{"message": "TOOLCALL quietly", "idempotencyKey": "run-tool-2", "sessionKey": mainKey})
		c.waitFinalRes(id, 90*time.Second)
		c.finish(500 * time.Millisecond)
	}},
	{"i-agent-errors", func(n string) {
		c := dial(n)
		c.call("agent", map[string]any{"message": "x", "idempotencyKey": "run-err-1", "agentId": "ghost"})
		c.call("agent", map[string]any{"message": "x", "idempotencyKey": "run-err-2", "sessionKey": mainKey, "channel": "carrierpigeon"})
		c.call("agent", map[string]any{"message": "x", "idempotencyKey": "run-err-3", "sessionKey": "agent:other:main", "agentId": "main"})
		c.call("agent", map[string]any{"message": "", "idempotencyKey": "run-err-4"})
		id := c.req("agent", map[string]any{"message": "x", "idempotencyKey": "run-err-5", "sessionKey": mainKey, "thinking": "bogus"})
		c.waitFinalRes(id, 20*time.Second)
		c.call("chat.send", map[string]any{"sessionKey": mainKey, "message": "x"})
		c.call("chat.history", map[string]any{})
		c.finish(500 * time.Millisecond)
		snapshot("final")
	}},
}

var extraScenarios = []scenario{
	{"j-abort-then-wait", func(n string) {
		c := dial(n)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "SLOW abort me", "idempotencyKey": "run-slow-3"})
		c.waitChat("run-slow-3", []string{"delta"}, 60*time.Second)
		time.Sleep(300 * time.Millisecond)
		c.call("chat.abort", map[string]any{"sessionKey": mainKey, "runId": "run-slow-3"})
		c.call("agent.wait", map[string]any{"runId": "run-slow-3", "timeoutMs": 3000})
		c.call("sessions.list", map[string]any{})
		c.call("chat.history", map[string]any{"sessionKey": mainKey})
		c.finish(300 * time.Millisecond)
	}},
	{"k-agent-timeout", func(n string) {
		c := dial(n)
		id := c.req("agent", map[string]any{"message": "SLOW with timeout", "idempotencyKey": "run-timeout-1", "sessionKey": mainKey, "timeout": 2})
		c.waitFinalRes(id, 60*time.Second)
		c.call("agent.wait", map[string]any{"runId": "run-timeout-1", "timeoutMs": 0})
		c.call("chat.history", map[string]any{"sessionKey": mainKey, "limit": 3})
		c.finish(1000 * time.Millisecond)
	}},
	{"l-agent-no-session-key", func(n string) {
		c := dial(n)
		id := c.req("agent", map[string]any{"message": "no key given", "idempotencyKey": "run-nokey-1"})
		c.waitFinalRes(id, 60*time.Second)
		id = c.req("agent", map[string]any{"message": "agent id only", "idempotencyKey": "run-nokey-2", "agentId": "main"})
		c.waitFinalRes(id, 60*time.Second)
		c.call("sessions.list", map[string]any{})
		c.finish(500 * time.Millisecond)
	}},
	{"m-same-session-concurrency", func(n string) {
		c := dial(n)
		id1 := c.req("agent", map[string]any{"message": "first of two", "idempotencyKey": "run-lane-1", "sessionKey": mainKey})
		id2 := c.req("agent", map[string]any{"message": "second of two", "idempotencyKey": "run-lane-2", "sessionKey": mainKey})
		c.waitFinalRes(id1, 60*time.Second)
		c.waitFinalRes(id2, 60*time.Second)
		// chat.send while an agent run holds the session
		id3 := c.req("agent", map[string]any{"message": "third holds the lane", "idempotencyKey": "run-lane-3", "sessionKey": mainKey})
		time.Sleep(300 * time.Millisecond)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "chat while busy", "idempotencyKey": "run-lane-chat"})
		c.waitFinalRes(id3, 60*time.Second)
		c.waitChat("run-lane-chat", []string{"final", "error"}, 60*time.Second)
		time.Sleep(1500 * time.Millisecond)
		// two different sessions at once: parallel?
		id4 := c.req("agent", map[string]any{"message": "par A", "idempotencyKey": "run-par-a", "sessionKey": "agent:main:par-a"})
		id5 := c.req("agent", map[string]any{"message": "par B", "idempotencyKey": "run-par-b", "sessionKey": "agent:main:par-b"})
		c.waitFinalRes(id4, 60*time.Second)
		c.waitFinalRes(id5, 60*time.Second)
		c.finish(500 * time.Millisecond)
	}},
	{"n-chat-slash-commands", func(n string) {
		c := dial(n)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "/status", "idempotencyKey": "run-slash-status"})
		c.waitChat("run-slash-status", []string{"final", "error"}, 30*time.Second)
		time.Sleep(500 * time.Millisecond)
		c.req("chat.send", map[string]any{"sessionKey": mainKey, "message": "/new", "idempotencyKey": "run-slash-new"})
		c.waitChat("run-slash-new", []string{"final", "error"}, 60*time.Second)
		time.Sleep(1000 * time.Millisecond)
		c.call("chat.history", map[string]any{"sessionKey": mainKey})
		c.call("sessions.list", map[string]any{})
		c.finish(500 * time.Millisecond)
		snapshot("run2-final")
	}},
}
