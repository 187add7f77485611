package cli

import (
	"fmt"
	"strings"

	"github.com/clawdbot/clawdbot/wire"
)

// The system commands are the original's `clawdbot system`: queue a
// system event for the main session (wake), switch heartbeats on or off
// for the running gateway (set-heartbeats; not persisted, a restart
// brings the config's setting back), and show the last heartbeat and the
// presence list. Each prints the method's result as indented JSON, except
// `system event`, which prints "ok" unless --json is given.

func init() {
	RegisterGroup("system", "system tools (events, heartbeat, presence)")
	RegisterGroup("system heartbeat", "heartbeat controls")
	Register(&Command{Path: "system event", Summary: "queue a system event and optionally trigger a heartbeat", Run: runSystemEvent, Exits: systemExits})
	Register(&Command{Path: "system heartbeat last", Summary: "show the last heartbeat event", Run: runHeartbeatLast, Exits: systemExits})
	Register(&Command{Path: "system heartbeat enable", Summary: "enable heartbeats (until the gateway restarts)",
		Run: func(env *Env, args []string) int { return runHeartbeatSet(env, "system heartbeat enable", true, args) }, Exits: systemExits})
	Register(&Command{Path: "system heartbeat disable", Summary: "disable heartbeats (until the gateway restarts)",
		Run: func(env *Env, args []string) int {
			return runHeartbeatSet(env, "system heartbeat disable", false, args)
		}, Exits: systemExits})
	Register(&Command{Path: "system presence", Summary: "list system presence entries", Run: runSystemPresence, Exits: systemExits})
}

var systemExits = []ExitCode{
	{ExitOK, "the gateway answered (the result is printed)"},
	{ExitFailure, "not reachable, refused this CLI, or the method failed"},
	{ExitUsage, "bad flag, argument or value (e.g. an empty --text, an unknown --mode)"},
}

const systemJSONUsage = "output JSON (the output is JSON either way; errors take the JSON shape)"

func runSystemEvent(env *Env, args []string) int {
	const path = "system event"
	var g gatewayFlags
	var text, mode string
	fs := env.FlagSet(path, "system event --text TEXT [--mode now|next-heartbeat] [--json] [flags]")
	fs.StringVar(&text, "text", "", "system event text (required)")
	fs.StringVar(&mode, "mode", wire.WakeNextHeartbeat, "wake mode: now runs a heartbeat at once, next-heartbeat waits for the next one")
	g.register(fs, "output the result as JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	if text = strings.TrimSpace(text); text == "" {
		return env.Usagef(path, "%s: --text is required (a non-empty system event text)", path)
	}
	if mode = strings.TrimSpace(mode); mode == "" {
		mode = wire.WakeNextHeartbeat
	}
	if mode != wire.WakeNow && mode != wire.WakeNextHeartbeat {
		return env.Usagef(path, "%s: --mode must be now or next-heartbeat (got %q)", path, mode)
	}
	res, code, ok := g.call(env, path, "wake", wire.WakeParams{Mode: mode, Text: text})
	if !ok {
		return code
	}
	if g.asJSON {
		fmt.Fprintln(env.Stdout, prettyJSON(res))
	} else {
		fmt.Fprintln(env.Stdout, "ok")
	}
	return ExitOK
}

func runHeartbeatLast(env *Env, args []string) int {
	const path = "system heartbeat last"
	var g gatewayFlags
	fs := env.FlagSet(path, path+" [--json] [flags]")
	g.register(fs, systemJSONUsage)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	return g.callAndPrint(env, path, "last-heartbeat", nil)
}

func runHeartbeatSet(env *Env, path string, on bool, args []string) int {
	var g gatewayFlags
	fs := env.FlagSet(path, path+" [--json] [flags]")
	g.register(fs, systemJSONUsage)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	return g.callAndPrint(env, path, "set-heartbeats", map[string]bool{"enabled": on})
}

func runSystemPresence(env *Env, args []string) int {
	const path = "system presence"
	var g gatewayFlags
	fs := env.FlagSet(path, path+" [--json] [flags]")
	g.register(fs, systemJSONUsage)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	return g.callAndPrint(env, path, "system-presence", nil)
}
