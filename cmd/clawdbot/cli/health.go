package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

func init() {
	Register(&Command{Path: "health", Summary: "ask the running gateway for its health summary", Run: runHealth, Exits: healthExits})
	Register(&Command{Path: "gateway health", Summary: "check the running gateway's health over RPC", Run: runGatewayHealth, Exits: healthExits})
}

var healthExits = []ExitCode{
	{ExitOK, "the gateway answered and is healthy"},
	{ExitFailure, "not reachable, refused this CLI, or answered not ok"},
	{Code: ExitUsage},
}

// healthSummary is the part of the health result the text output uses
// (doc/protocol.md §3.3); --json prints the result untouched.
type healthSummary struct {
	OK            bool                       `json:"ok"`
	DurationMs    int64                      `json:"durationMs"`
	Channels      map[string]json.RawMessage `json:"channels"`
	ChannelOrder  []string                   `json:"channelOrder"`
	ChannelLabels map[string]string          `json:"channelLabels"`
	Agents        []struct {
		AgentID   string `json:"agentId"`
		IsDefault bool   `json:"isDefault"`
		Heartbeat struct {
			Enabled bool   `json:"enabled"`
			Every   string `json:"every"`
			EveryMs *int64 `json:"everyMs"`
		} `json:"heartbeat"`
		Sessions struct {
			Path  string `json:"path"`
			Count int    `json:"count"`
		} `json:"sessions"`
	} `json:"agents"`
}

func runHealth(env *Env, args []string) int { return healthMain(env, "health", args) }

func runGatewayHealth(env *Env, args []string) int { return healthMain(env, "gateway health", args) }

func healthMain(env *Env, path string, args []string) int {
	var cf clientFlags
	var asJSON, verbose bool
	fs := env.FlagSet(path, path+" [--json] [--timeout ms]")
	fs.BoolVar(&asJSON, "json", false, "print the health result as JSON")
	fs.BoolVar(&verbose, "verbose", false, "ask the gateway to probe channels now")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	params := map[string]any{}
	if verbose {
		params["probe"] = true
	}
	start := time.Now()
	res, err := callGateway(env, t, cf.timeout(), "health", params)
	if err != nil {
		return reportGatewayError(env, t, "Health check failed", err)
	}
	elapsed := time.Since(start)
	if asJSON {
		fmt.Fprintln(env.Stdout, prettyJSON(res))
		return ExitOK
	}
	var h healthSummary
	if err := json.Unmarshal(res, &h); err != nil {
		return env.Fail(ExitFailure, CodeBadResponse, fmt.Sprintf("unexpected health result from %s: %v", t.URL, err), "")
	}
	if path == "gateway health" {
		fmt.Fprintln(env.Stdout, "Gateway Health")
		state := "OK"
		if !h.OK {
			state = "NOT OK"
		}
		fmt.Fprintf(env.Stdout, "%s (%dms)\n", state, elapsed.Milliseconds())
		writeChannelLines(env.Stdout, h)
		if !h.OK {
			return ExitFailure
		}
		return ExitOK
	}
	writeChannelLines(env.Stdout, h)
	writeAgentLines(env.Stdout, h)
	if !h.OK {
		return ExitFailure
	}
	return ExitOK
}

// writeChannelLines prints one line per channel in the gateway's order:
// `<Label>: <state>` from the configured/linked/running/probe fields.
func writeChannelLines(w io.Writer, h healthSummary) {
	order := h.ChannelOrder
	if len(order) == 0 {
		for id := range h.Channels {
			order = append(order, id)
		}
		sort.Strings(order)
	}
	for _, id := range order {
		raw, ok := h.Channels[id]
		if !ok {
			continue
		}
		var ch struct {
			Configured *bool  `json:"configured"`
			Linked     *bool  `json:"linked"`
			Running    *bool  `json:"running"`
			LastError  string `json:"lastError"`
			Probe      *struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			} `json:"probe"`
		}
		_ = json.Unmarshal(raw, &ch)
		label := h.ChannelLabels[id]
		if label == "" {
			label = id
		}
		var parts []string
		switch {
		case ch.Configured != nil && !*ch.Configured:
			parts = append(parts, "not configured")
		case ch.Linked != nil && !*ch.Linked:
			parts = append(parts, "not linked")
		case ch.Probe != nil && !ch.Probe.OK:
			parts = append(parts, "failed")
			if ch.Probe.Error != "" {
				parts = append(parts, ch.Probe.Error)
			}
		default:
			parts = append(parts, "ok")
		}
		if ch.Running != nil && *ch.Running {
			parts = append(parts, "running")
		}
		if ch.LastError != "" {
			parts = append(parts, "last error: "+ch.LastError)
		}
		fmt.Fprintf(w, "%s: %s\n", label, strings.Join(parts, " · "))
	}
}

// writeAgentLines prints the agent, heartbeat and session-store lines of
// `clawdbot health` (samples/cli-netns-health-text.txt).
func writeAgentLines(w io.Writer, h healthSummary) {
	if len(h.Agents) == 0 {
		return
	}
	var names, beats []string
	for _, a := range h.Agents {
		n := a.AgentID
		if a.IsDefault {
			n += " (default)"
		}
		names = append(names, n)
		every := "disabled"
		if a.Heartbeat.Enabled && a.Heartbeat.EveryMs != nil && *a.Heartbeat.EveryMs > 0 {
			every = a.Heartbeat.Every
		}
		beats = append(beats, fmt.Sprintf("%s (%s)", every, a.AgentID))
	}
	fmt.Fprintf(w, "Agents: %s\n", strings.Join(names, ", "))
	fmt.Fprintf(w, "Heartbeat interval: %s\n", strings.Join(beats, ", "))
	for _, a := range h.Agents {
		if a.Sessions.Path == "" {
			continue
		}
		noun := "entries"
		if a.Sessions.Count == 1 {
			noun = "entry"
		}
		fmt.Fprintf(w, "Session store (%s): %s (%d %s)\n", a.AgentID, a.Sessions.Path, a.Sessions.Count, noun)
	}
}
