package cli

// gateway status: the supervisor's view and the RPC view of this profile's
// gateway in one report (doctor.GatherStatus does the work). The human form
// says in its exit code whether the gateway is up; --json exits 0 whenever
// it printed the report, as the original does (doc/supervision.md §5.6): the
// macOS app and scripts run `gateway status --json --no-probe` and read the
// state from the JSON, and a non-zero exit would read as "no report".

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/profiles"
)

func init() {
	Register(&Command{Path: "gateway status", Summary: "show the gateway service (supervisor view) and whether it answers (RPC view)", Run: runGatewayStatus,
		Exits: []ExitCode{
			{ExitOK, "the gateway is running and answers the RPC probe (with --no-probe: the supervisor reports it running); with --json: the report was printed, whatever it says"},
			{ExitFailure, "not running, not installed and not answering, or the RPC probe failed (with --json: no report could be made)"},
			{Code: ExitUsage},
			{ExitMismatch, "running and reachable, but the CLI resolves a different config file or port than the service uses (health, logs and call would miss it); not with --json"},
		}})
}

// doctorContext builds the doctor context of the active profile. Its
// launchctl/systemctl/loginctl/journalctl calls go through env.ServiceRunner,
// which tests inject.
func doctorContext(env *Env, prof profiles.Profile, deep bool, probeTimeout time.Duration) *doctor.Context {
	bin := env.Executable
	if bin == "" {
		bin, _ = os.Executable()
	}
	return &doctor.Context{
		Profile: prof, Getenv: env.Getenv, Platform: env.Platform, Runner: env.ServiceRunner,
		UID: os.Getuid(), Binary: bin, Version: Version, User: currentUser(env), Deep: deep,
		ProbeTimeout: probeTimeout,
	}
}

const gatewayStatusUsage = `gateway status [--json] [--deep] [--no-probe] [--url U] [--token T] [--timeout ms]

--json prints the report described in doc/gateway-status-json.md (keys
service, config, gateway, port, portCli, lastError, rpc, legacyServices,
extraServices, warnings) and exits 0 whenever it printed it: the state is
in the JSON (service.runtime.status, rpc.ok, warnings).`

func runGatewayStatus(env *Env, args []string) int {
	var cf clientFlags
	var asJSON, deep, noProbe bool
	fs := env.FlagSet("gateway status", gatewayStatusUsage)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON (stable keys; see doc/gateway-status-json.md)")
	fs.BoolVar(&deep, "deep", false, "also scan system service locations for other gateway-like services")
	fs.BoolVar(&noProbe, "no-probe", false, "skip the RPC probe (supervisor view only)")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	prof, err := env.ResolveProfile(0)
	if err != nil {
		return env.Errorf("%v", err)
	}
	c := doctorContext(env, prof, deep, cf.timeout())
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	r := doctor.GatherStatus(ctx, c, doctor.StatusOptions{
		URL: cf.URL, Token: cf.Token, Password: cf.Password, NoProbe: noProbe, Timeout: cf.timeout(),
	})
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return env.Errorf("gateway status: %v", err)
		}
		return ExitOK // the state is in the report
	}
	r.WriteText(env.Stdout)
	if code := r.ExitCode(); code != doctor.StatusExitOK {
		env.Hintf("diagnose with '%s'", env.Hint("clawdbot doctor"))
		return code
	}
	return ExitOK
}
