package doctor

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
	"github.com/clawdbot/clawdbot/wire"
)

// StatusReport is `clawdbot gateway status --json`: a stable contract for
// scripts and the macOS app (which reads service.loaded from
// `gateway status --json --no-probe`). It keeps every key of the original
// (doc/supervision.md §5.4) with the same meaning; keys we add are marked.
// Absent values are omitted, never null, except service.command, which is
// null when no definition is installed (as in the original).
//
// See doc/gateway-status-json.md for the field-by-field description.
type StatusReport struct {
	Service StatusService `json:"service"`
	Config  StatusConfigs `json:"config"`
	Gateway StatusGateway `json:"gateway"`
	Port    StatusPort    `json:"port"`
	// PortCli is the CLI-resolved port when it differs from the service's.
	PortCli   *StatusPort `json:"portCli,omitempty"`
	LastError string      `json:"lastError,omitempty"`
	// RPC is absent with --no-probe.
	RPC            *StatusRPC      `json:"rpc,omitempty"`
	LegacyServices []StatusLegacy  `json:"legacyServices"`
	ExtraServices  []StatusExtra   `json:"extraServices"`
	Warnings       []StatusWarning `json:"warnings"` // ours: what is wrong, each with its fix command

	profile string
	// heldBy is the listener on the service's port that is not the
	// service's main process while the service is installed (a gateway of
	// this profile started by hand): the service cannot bind.
	heldBy *StatusListener
}

// StatusService is the supervisor's view.
type StatusService struct {
	Label         string         `json:"label"` // LaunchAgent | systemd | Windows service
	Name          string         `json:"name"`  // ours: the label / unit / service name
	Path          string         `json:"path"`  // ours: where the definition lives (or would)
	Installed     bool           `json:"installed"`
	Loaded        bool           `json:"loaded"`
	LoadedText    string         `json:"loadedText"`
	NotLoadedText string         `json:"notLoadedText"`
	Command       *StatusCommand `json:"command"`
	Runtime       StatusRuntime  `json:"runtime"`
	ConfigAudit   StatusAudit    `json:"configAudit"`
}

// StatusCommand is what the installed definition runs.
type StatusCommand struct {
	ProgramArguments []string          `json:"programArguments"`
	WorkingDirectory string            `json:"workingDirectory,omitempty"`
	Environment      map[string]string `json:"environment,omitempty"`
	SourcePath       string            `json:"sourcePath,omitempty"`
}

// StatusRuntime is the running state as the supervisor reports it.
type StatusRuntime struct {
	Status         string `json:"status"` // running | stopped | unknown
	State          string `json:"state,omitempty"`
	SubState       string `json:"subState,omitempty"`
	PID            int    `json:"pid,omitempty"`
	Restarts       int    `json:"restarts,omitempty"` // ours
	LastExitStatus *int   `json:"lastExitStatus,omitempty"`
	Detail         string `json:"detail,omitempty"`
	CachedLabel    bool   `json:"cachedLabel,omitempty"`
	MissingUnit    bool   `json:"missingUnit,omitempty"`
}

// StatusAudit is the drift of the installed definition (doc/supervision.md §6.4 codes).
type StatusAudit struct {
	OK     bool                `json:"ok"`
	Issues []supervise.Finding `json:"issues"`
}

// StatusConfigs are the config as the CLI and as the service see it.
type StatusConfigs struct {
	CLI      StatusConfig `json:"cli"`
	Daemon   StatusConfig `json:"daemon"`
	Mismatch bool         `json:"mismatch,omitempty"`
}

// StatusConfig is one config file's state.
type StatusConfig struct {
	Path      string                    `json:"path"`
	Exists    bool                      `json:"exists"`
	Valid     bool                      `json:"valid"`
	Issues    []StatusIssue             `json:"issues,omitempty"`
	ControlUI *profiles.ControlUIConfig `json:"controlUi,omitempty"`
}

// StatusIssue is one config problem.
type StatusIssue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// StatusGateway is where the gateway should listen and where we probe.
type StatusGateway struct {
	BindMode       string `json:"bindMode"`
	BindHost       string `json:"bindHost"`
	CustomBindHost string `json:"customBindHost,omitempty"`
	Port           int    `json:"port"`
	PortSource     string `json:"portSource"` // service args | env/config
	ProbeURL       string `json:"probeUrl"`
	ProbeNote      string `json:"probeNote,omitempty"`
	// probeURLGiven: ProbeURL is the caller's --url, not derived from the
	// config, so the text report names it alone.
	probeURLGiven bool
}

// StatusPort is who holds a port.
type StatusPort struct {
	Port      int              `json:"port"`
	Status    string           `json:"status"` // free | busy | unknown
	Listeners []StatusListener `json:"listeners"`
	Hints     []string         `json:"hints"`
}

// StatusListener is one process listening on the port.
type StatusListener struct {
	PID         int    `json:"pid,omitempty"`
	Command     string `json:"command,omitempty"`
	CommandLine string `json:"commandLine,omitempty"`
	User        string `json:"user,omitempty"`
	Address     string `json:"address,omitempty"`
	Kind        string `json:"kind,omitempty"`    // ours: gateway | ssh | unknown
	Profile     string `json:"profile,omitempty"` // ours: CLAWDBOT_PROFILE of a gateway

	supervised bool // started by a service manager (stopping it takes the manager)
}

// StatusRPC is the RPC probe's outcome.
type StatusRPC struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	URL       string `json:"url"`
	LatencyMs *int64 `json:"latencyMs,omitempty"` // ours
	// ConfigError is ours: the running gateway refused its config file on
	// the last reload or restart and still serves the previous one.
	ConfigError *wire.ConfigError `json:"configError,omitempty"`
}

// StatusLegacy is a legacy gateway service.
type StatusLegacy struct {
	Platform string `json:"platform"`
	Label    string `json:"label"`
	Detail   string `json:"detail"`
}

// StatusExtra is another service mentioning clawdbot.
type StatusExtra struct {
	Platform string `json:"platform"`
	Label    string `json:"label"`
	Detail   string `json:"detail"`
	Scope    string `json:"scope"`
}

// StatusWarning is one problem with the exact command that fixes it.
type StatusWarning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// StatusOptions are `gateway status`'s flags.
type StatusOptions struct {
	URL      string // --url: overrides the probe target
	Token    string // --token
	Password string // --password
	NoProbe  bool
	Timeout  time.Duration // the probe's budget (0: 10 s)
}

// safeEnvKeys are the service environment keys status shows (never secrets).
var safeEnvKeys = []string{"CLAWDBOT_PROFILE", "CLAWDBOT_STATE_DIR", "CLAWDBOT_CONFIG_PATH", "CLAWDBOT_GATEWAY_PORT", "CLAWDBOT_NIX_MODE"}

// GatherStatus collects the status report. The service definition and the
// configs are read first (file reads); then the supervisor query, the port
// inspection(s), the RPC probe and the service scans run in parallel, so
// the whole gather takes about as long as the slowest of them (the probe,
// bounded by o.Timeout).
func GatherStatus(ctx context.Context, c *Context, o StatusOptions) *StatusReport {
	r := &StatusReport{profile: c.Profile.Name, LegacyServices: []StatusLegacy{}, ExtraServices: []StatusExtra{}, Warnings: []StatusWarning{}}
	want, _ := c.Want()
	inst, instErr := c.Installed()
	installed := instErr == nil
	loadedWord, notLoadedWord := supervise.LoadedWords(c.Platform)
	r.Service = StatusService{
		Label: supervise.ManagerLabel(c.Platform), Name: want.Name, Path: want.DefinitionPath(),
		LoadedText: loadedWord, NotLoadedText: notLoadedWord,
		ConfigAudit: StatusAudit{OK: true, Issues: []supervise.Finding{}},
	}
	if c.Platform == "" {
		r.Service.Label = "none"
	}

	// The service's view of profile and config: only its own environment
	// (a service does not inherit the CLI's shell), resolved like ours.
	svcProfile, svcGetenv := c.Profile, c.Getenv
	if installed {
		r.Service.Installed = true
		r.Service.Command = &StatusCommand{
			ProgramArguments: append([]string{inst.Program}, inst.Args...),
			WorkingDirectory: inst.WorkingDir, SourcePath: inst.File.Path,
		}
		for _, k := range safeEnvKeys {
			if v, ok := inst.Env[k]; ok {
				if r.Service.Command.Environment == nil {
					r.Service.Command.Environment = map[string]string{}
				}
				r.Service.Command.Environment[k] = v
			}
		}
		env := inst.Env
		svcGetenv = func(k string) string { return env[k] }
		home := cmp.Or(env["HOME"], c.Profile.Home)
		if p, err := profiles.Resolve(profiles.Input{Getenv: svcGetenv, Home: home}); err == nil {
			svcProfile = p
		}
		if want.Program != "" || inst.Program != "" {
			if want.Program != "" {
				r.Service.ConfigAudit.Issues = append(r.Service.ConfigAudit.Issues, supervise.Audit(inst, want)...)
			}
		}
		r.Service.ConfigAudit.OK = len(r.Service.ConfigAudit.Issues) == 0
	} else if !errors.Is(instErr, fs.ErrNotExist) && instErr != nil {
		r.Service.ConfigAudit = StatusAudit{OK: false, Issues: []supervise.Finding{{
			Code: CodeServiceUnreadable, Level: supervise.LevelAggressive, Message: "Service definition cannot be read", Detail: instErr.Error()}}}
	}

	cliSnap, _ := c.Config()
	r.Config.CLI = configState(c.Profile.ConfigPath, cliSnap)
	svcSnap := cliSnap
	if svcProfile.ConfigPath != c.Profile.ConfigPath {
		svcSnap, _ = profiles.LoadEnv(svcProfile.ConfigPath, svcGetenv)
		r.Config.Mismatch = true
	}
	r.Config.Daemon = configState(svcProfile.ConfigPath, svcSnap)

	port, portSource := c.Profile.Ports.Gateway, "env/config"
	if installed {
		if n := inst.Port(); n > 0 {
			port, portSource = n, "service args"
		} else {
			port = svcProfile.Ports.Gateway
		}
	}
	var svcCfg *profiles.Config
	if svcSnap != nil {
		svcCfg = svcSnap.Config
	}
	t := ProbeTarget(c.Profile, svcCfg, svcGetenv, port)
	// The probe authenticates like the CLI: flags, then the CLI's env and
	// config (the service's config is the same file unless mismatched).
	if cliSnap != nil && cliSnap.Config != nil {
		auth := cliSnap.Config.ResolvedAuth(c.Getenv)
		t.Token, t.Password = cmp.Or(auth.Token, t.Token), cmp.Or(auth.Password, t.Password)
	}
	if v := strings.TrimSpace(c.getenv("CLAWDBOT_GATEWAY_TOKEN")); v != "" {
		t.Token = v
	}
	t.Token, t.Password = cmp.Or(o.Token, t.Token), cmp.Or(o.Password, t.Password)
	t.ExplicitAuth = o.Token != "" || o.Password != ""
	if u := strings.TrimSpace(o.URL); u != "" {
		t.URL = u
	}
	r.Gateway = StatusGateway{BindMode: t.BindMode, BindHost: t.BindHost, Port: port, PortSource: portSource, ProbeURL: t.URL, ProbeNote: t.Note,
		probeURLGiven: strings.TrimSpace(o.URL) != ""}
	if svcCfg != nil && t.BindMode == "custom" {
		r.Gateway.CustomBindHost = svcCfg.Gateway.CustomBindHost
	}

	var wg sync.WaitGroup
	var st supervise.Status
	var stErr error
	var portRep, cliRep ports.Report
	cliPort := c.Profile.Ports.Gateway
	goDo := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	if m, err := c.Manager(); err == nil && want.Name != "" {
		goDo(func() { st, stErr = m.Status(ctx, want) })
	} else {
		stErr = err
		if stErr == nil {
			stErr = errors.New("no service name")
		}
	}
	goDo(func() { portRep = c.inspect(ctx, port) })
	if cliPort != port {
		goDo(func() { cliRep = c.inspect(ctx, cliPort) })
	}
	if !o.NoProbe {
		goDo(func() {
			timeout := o.Timeout
			if timeout <= 0 {
				timeout = 10 * time.Second
			}
			start := time.Now()
			res, err := ProbeWithTimeout(ctx, t, c.version(), timeout, "status")
			rpc := &StatusRPC{OK: err == nil, URL: t.URL}
			if err != nil {
				rpc.Error = err.Error()
			} else {
				ms := time.Since(start).Milliseconds()
				rpc.LatencyMs = &ms
				var st wire.StatusSummary
				if json.Unmarshal(res, &st) == nil {
					rpc.ConfigError = st.ConfigError
				}
			}
			r.RPC = rpc
		})
	}
	goDo(func() { c.scans() })
	wg.Wait()

	r.Service.Runtime = runtimeOf(st, stErr, installed)
	r.Service.Loaded = st.Loaded
	r.Port = portOf(portRep)
	if cliPort != port {
		p := portOf(cliRep)
		r.PortCli = &p
	}
	holderHints(&r.Port)
	if r.PortCli != nil {
		holderHints(r.PortCli)
	}
	if installed {
		r.heldBy = heldNotByService(r.Port, r.Service.Runtime.PID, c.Profile.Name)
	}
	found, legacy := c.scans()
	for _, l := range legacy {
		r.LegacyServices = append(r.LegacyServices, StatusLegacy{Platform: string(l.Platform), Label: l.Label, Detail: l.Detail})
	}
	for _, f := range found {
		if f.Class != "other" {
			continue
		}
		r.ExtraServices = append(r.ExtraServices, StatusExtra{Platform: string(f.Platform), Label: f.Name, Detail: f.Detail, Scope: string(f.Scope)})
	}
	if r.Service.Runtime.Status == "running" && r.Port.Status != string(ports.StatusBusy) {
		r.LastError = LastGatewayError(ctx, c, inst, svcProfile)
	}
	r.Warnings = statusWarnings(c, r)
	return r
}

func configState(path string, snap *profiles.Snapshot) StatusConfig {
	s := StatusConfig{Path: path}
	if snap == nil {
		return s
	}
	s.Exists, s.Valid = snap.Exists, snap.Valid
	for i, is := range snap.Issues {
		if i == 5 {
			break
		}
		s.Issues = append(s.Issues, StatusIssue{Path: is.Path, Message: is.Message})
	}
	if snap.Config != nil && (snap.Config.Gateway.ControlUI.Enabled != nil || snap.Config.Gateway.ControlUI.BasePath != "") {
		ui := snap.Config.Gateway.ControlUI
		s.ControlUI = &ui
	}
	return s
}

func runtimeOf(st supervise.Status, err error, installed bool) StatusRuntime {
	rt := StatusRuntime{State: st.ActiveState, SubState: st.SubState, PID: st.PID, Restarts: st.Restarts, LastExitStatus: st.LastExitStatus, Detail: st.Detail}
	switch {
	case err != nil:
		rt.Status = "unknown"
		rt.Detail = err.Error()
	case st.Running:
		rt.Status = "running"
	default:
		rt.Status = "stopped"
		if st.SubState == "auto-restart" && rt.Detail == "" {
			// systemd is waiting RestartSec before the next start: the
			// gateway exited, and keeps exiting if restarts climb.
			rt.Detail = "exited; systemd restarts it after RestartSec (" + strconv.Itoa(st.Restarts) + " restarts so far; a rising count is a crash loop, see the logs)"
		}
	}
	if rt.State == rt.Status {
		rt.State = ""
	}
	rt.MissingUnit = !installed && !st.Loaded
	rt.CachedLabel = st.Manager == supervise.Launchd && st.Loaded && !st.Installed
	return rt
}

func portOf(rep ports.Report) StatusPort {
	p := StatusPort{Port: rep.Port, Status: string(rep.Status), Listeners: []StatusListener{}, Hints: []string{}}
	if p.Status == "" {
		p.Status = string(ports.StatusUnknown)
	}
	for _, l := range rep.Listeners {
		p.Listeners = append(p.Listeners, StatusListener{PID: l.PID, Command: l.Command, CommandLine: l.CommandLine,
			User: l.User, Address: l.Address, Kind: string(l.Kind), Profile: l.Profile, supervised: l.Supervised()})
	}
	p.Hints = append(p.Hints, rep.Hints...)
	return p
}

// heldNotByService is the gateway of profile on port p that is not the
// service's main process (pid), if there is one: the original's trap of a
// foreground `clawdbot gateway` left running while the service is
// installed. A supervised listener with no main PID to compare (status
// failed) is taken to be the service.
func heldNotByService(p StatusPort, pid int, profile string) *StatusListener {
	if p.Status != string(ports.StatusBusy) {
		return nil
	}
	for i, l := range p.Listeners {
		if l.PID == 0 || l.PID == pid || l.Kind != string(ports.KindGateway) || !sameProfile(l.Profile, profile) {
			continue
		}
		if l.supervised && pid == 0 {
			continue
		}
		return &p.Listeners[i]
	}
	return nil
}

// holderHints replaces the generic "stop it (clawdbot gateway stop)" hint
// with what stops the holder at hand: the service command of its profile
// for a supervised gateway, Ctrl+C or kill for one started by hand (which
// 'gateway stop' cannot reach).
func holderHints(p *StatusPort) {
	var hs []string
	for _, h := range p.Hints {
		if h != ports.HintGateway {
			hs = append(hs, h)
			continue
		}
		for _, l := range p.Listeners {
			if l.Kind != string(ports.KindGateway) {
				continue
			}
			if l.supervised {
				hs = append(hs, "Gateway already running under the service manager (pid "+strconv.Itoa(l.PID)+"). Stop it ("+ports.StopCommand(l.Profile)+") or use a different port.")
			} else {
				hs = append(hs, "Gateway already running in the foreground (pid "+strconv.Itoa(l.PID)+", started by hand). Stop it (Ctrl+C where it runs, or kill "+strconv.Itoa(l.PID)+") or use a different port.")
			}
		}
	}
	p.Hints = hs
	if p.Hints == nil {
		p.Hints = []string{}
	}
}

// Running reports whether a gateway is up: the supervisor says its process
// runs, or (for a gateway started by hand) the RPC probe got an answer.
func (r *StatusReport) Running() bool {
	return r.Service.Runtime.Status == "running" || (r.RPC != nil && r.RPC.OK)
}

// Exit codes of `gateway status` (documented in its --help).
const (
	StatusExitOK        = 0 // running and reachable (or running, with --no-probe)
	StatusExitDown      = 1 // not running, or the RPC probe failed
	StatusExitMisconfig = 3 // running and reachable, but the CLI would not find it (config path or port differs)
)

// ExitCode is the exit status the report maps to.
func (r *StatusReport) ExitCode() int {
	switch {
	case !r.Running():
		return StatusExitDown
	case r.heldBy != nil:
		// What answers is not the installed service, which cannot bind.
		return StatusExitDown
	case r.RPC != nil && !r.RPC.OK:
		return StatusExitDown
	case r.Config.Mismatch || r.PortCli != nil:
		return StatusExitMisconfig
	}
	return StatusExitOK
}

// statusWarnings lists what is wrong, each with the exact fix command.
func statusWarnings(c *Context, r *StatusReport) []StatusWarning {
	ws := []StatusWarning{}
	add := func(code, msg, fix string) { ws = append(ws, StatusWarning{Code: code, Message: msg, Fix: fix}) }
	rt := r.Service.Runtime
	probeFailed := r.RPC != nil && !r.RPC.OK
	// The config comes first: without a valid one the gateway does not
	// start, so installing or starting the service cannot help yet.
	if r.Config.CLI.Exists && !r.Config.CLI.Valid {
		add(CodeConfigInvalid, "Config "+r.Config.CLI.Path+" is invalid", c.Hint("clawdbot config validate"))
	} else if !r.Config.CLI.Exists {
		add(CodeConfigMissing, "No config at "+r.Config.CLI.Path, c.Hint("clawdbot setup"))
	}
	switch {
	case c.Platform == "":
	case r.heldBy != nil:
		l := r.heldBy
		pid := strconv.Itoa(l.PID)
		add(CodePortHeldNotByService, "The port is held by pid "+pid+" (not the service): a gateway of this profile started by hand ("+
			cmp.Or(l.CommandLine, l.Command, "clawdbot gateway")+") holds port "+strconv.Itoa(r.Port.Port)+
			", so the installed service cannot bind it and keeps failing; what answers the probe is that process",
			"stop pid "+pid+" (Ctrl+C where it runs, or kill "+pid+"); the service binds the port on its next restart ("+
				c.Hint("clawdbot gateway restart")+"). To keep the hand-started gateway instead: "+c.Hint("clawdbot gateway uninstall"))
	case !r.Service.Installed && rt.Status != "running":
		if r.RPC != nil && r.RPC.OK {
			add(CodeServiceNotInstalled, "A gateway answers, but not under the service manager (started by hand?); it will not survive a reboot",
				c.Hint("clawdbot gateway install"))
		} else {
			add(CodeServiceNotInstalled, "Service not installed", c.Hint("clawdbot gateway install"))
		}
	case rt.Status == "unknown":
		add(CodeServiceManagerDown, supervise.ManagerLabel(c.Platform)+" cannot be asked about the service: "+rt.Detail, managerFix(c.Platform))
	case rt.Status == "stopped" && r.Service.Loaded:
		add(CodeServiceNotRunning, "Service is "+r.Service.LoadedText+" but not running (stopped, or it exited immediately)"+lastExit(rt),
			c.Hint("clawdbot gateway start")+"; logs: "+logsHint(c, r))
	case rt.Status == "stopped":
		add(CodeServiceNotRunning, "Service is installed but "+r.Service.NotLoadedText, c.Hint("clawdbot gateway start"))
	}
	if rt.CachedLabel {
		add("launchd-cached-label", "LaunchAgent label is loaded but its plist is gone", "launchctl bootout gui/$UID/"+r.Service.Name+" && "+c.Hint("clawdbot gateway install"))
	}
	if rt.Status == "running" && probeFailed {
		add(CodeGatewayUnreachable, "Supervisor says running, but the RPC probe failed: the process is up but not answering at "+r.RPC.URL+" (still starting, bound elsewhere, or auth mismatch)",
			c.Hint("clawdbot doctor"))
	}
	if r.RPC != nil && r.RPC.ConfigError != nil {
		add(CodeGatewayConfigRejected, "The running gateway rejected its config file and still serves the previous config: "+r.RPC.ConfigError.Message,
			"fix "+r.RPC.ConfigError.Path+" (check with "+c.Hint("clawdbot config validate")+"); the gateway applies it when saved")
	}
	if rt.Status == "running" && r.Port.Status != string(ports.StatusBusy) {
		msg := "Gateway port " + strconv.Itoa(r.Port.Port) + " is not listening (service appears running)"
		if r.LastError != "" {
			msg += "; last gateway error: " + r.LastError
		}
		add("port-not-listening", msg, "logs: "+logsHint(c, r))
	}
	if r.Port.Status == string(ports.StatusBusy) && (r.RPC == nil || !r.RPC.OK) {
		for _, l := range r.Port.Listeners {
			if l.PID != 0 && l.PID == rt.PID {
				continue
			}
			if l.Kind == string(ports.KindGateway) && !sameProfile(l.Profile, c.Profile.Name) {
				add(CodePortOtherProfile, "Port "+strconv.Itoa(r.Port.Port)+" is held by the gateway of profile "+displayProfile(l.Profile)+
					" (pid "+strconv.Itoa(l.PID)+"), not by this profile's: health, logs and call reach that gateway (and fail its auth)",
					stopGatewayHint(l.Profile, l.PID, l.supervised)+", or give this profile its own gateway.port (20+ apart), then "+c.Hint("clawdbot gateway install --force"))
			}
			if l.Kind != string(ports.KindGateway) {
				add(CodePortForeign, "Port "+strconv.Itoa(r.Port.Port)+" is held by pid "+strconv.Itoa(l.PID)+" ("+cmp.Or(l.CommandLine, l.Command, "unknown")+"), not by a clawdbot gateway",
					"stop that process, or move the gateway to another port (gateway.port, then "+c.Hint("clawdbot gateway install --force")+")")
			}
		}
	}
	for _, is := range r.Service.ConfigAudit.Issues {
		fix := c.Hint("clawdbot doctor --fix")
		if is.Level == supervise.LevelAggressive {
			fix = c.Hint("clawdbot doctor --fix --force")
		}
		add(is.Code, "Service config: "+is.Message+detailSuffix(is.Detail), fix)
	}
	if r.Config.Mismatch {
		add("config-mismatch", "CLI and service use different config files ("+r.Config.CLI.Path+" vs "+r.Config.Daemon.Path+"): likely a profile or CLAWDBOT_STATE_DIR mismatch",
			"rerun "+c.Hint("clawdbot gateway install --force")+" from the --profile / CLAWDBOT_STATE_DIR you expect")
	}
	if r.PortCli != nil {
		add("port-mismatch", "The CLI resolves port "+strconv.Itoa(r.PortCli.Port)+" ("+r.PortCli.Status+") but the service uses "+strconv.Itoa(r.Port.Port)+
			" ("+r.Gateway.PortSource+"): health, logs and call will miss the gateway",
			c.Hint("clawdbot gateway install --force")+" (service follows the config), or set gateway.port to "+strconv.Itoa(r.Port.Port))
	}
	for _, l := range r.LegacyServices {
		add(CodeLegacyService, "Legacy gateway service "+l.Label+" ("+l.Detail+")", c.Hint("clawdbot doctor --fix"))
	}
	for _, e := range r.ExtraServices {
		add(CodeExtraService, "Other gateway-like service "+e.Label+" ("+e.Scope+", "+e.Detail+"); run one gateway per machine, or isolate ports and state dirs per profile", "")
	}
	return ws
}

func lastExit(rt StatusRuntime) string {
	if rt.LastExitStatus != nil {
		return "; last exit status " + strconv.Itoa(*rt.LastExitStatus)
	}
	return ""
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

// logsHint is where to look for the gateway's own words.
func logsHint(c *Context, r *StatusReport) string {
	switch c.Platform {
	case supervise.Systemd:
		return "journalctl --user -u " + r.Service.Name + " -n 200 --no-pager"
	case supervise.Launchd:
		if inst, err := c.Installed(); err == nil && inst.StderrPath != "" {
			return inst.StderrPath
		}
	}
	return c.Hint("clawdbot logs")
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
