// Package doctor diagnoses a clawdbot installation and repairs what it can.
//
// It follows tailscale's doctor/health model (STYLE.md practice 7): a Check
// has a lower-kebab-case Name and returns Findings; each Finding carries a
// stable Code, a Severity, a message and the exact command that fixes it,
// and optionally a Repair that doctor --fix runs. Checks run in parallel;
// their findings come out in check order, so the report is deterministic.
// Repairs run one at a time in a fixed order (token carried out of an
// old service definition, service rewrite, legacy migration, permissions,
// token, linger, start), each printing what it did.
//
// The package also gathers `gateway status` (GatherStatus): the supervisor's
// view, the RPC view, the configs as the CLI and the service see them, the
// port and the services around it.
//
// Every effect on launchctl/systemctl/loginctl/journalctl goes through
// Context.Runner (supervise's exec seam), so tests script those answers where
// no real service manager can run.
package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// Severity ranks a finding.
type Severity string

// Severities, worst first. Only errors make doctor exit non-zero.
const (
	SevError Severity = "error"   // the gateway does not work (or will not) until fixed
	SevWarn  Severity = "warning" // it works, but something is wrong or fragile
	SevInfo  Severity = "info"    // worth knowing; nothing to fix
)

// Step orders repairs: doctor --fix runs them in this fixed order, whatever
// order the checks finished in. A token that lives only in the installed
// definition is carried into the config before anything rewrites or
// removes that definition. Rewriting the service comes next so a legacy
// migration installs next to an up-to-date definition; a new token is
// generated only after that (and after permissions are fixed, so it lands
// in a 0600 file), when no definition had one to carry.
type Step int

// Repair steps, in the order they run.
const (
	StepCarryToken  Step = iota + 1 // copy the token out of an old service definition into the config
	StepService                     // back up, then rewrite a drifted service definition
	StepLegacy                      // stop + remove legacy services, install the current one
	StepPermissions                 // chmod the config 0600 and the state dir 0700
	StepToken                       // generate a gateway token
	StepLinger                      // enable lingering for a user unit
	StepStart                       // start an installed service that is not running
)

var stepNames = map[Step]string{
	StepCarryToken: "token-carry",
	StepService:    "service", StepLegacy: "legacy", StepPermissions: "permissions",
	StepToken: "token", StepLinger: "linger", StepStart: "start",
}

// String is the step's name in reports and JSON.
func (s Step) String() string { return stepNames[s] }

// Repair is what doctor --fix does about a finding. Findings that need the
// same repair share its Key and it runs once.
type Repair struct {
	Step Step
	Key  string
	// Title says what the repair does, e.g. "rewrite clawdbot-gateway.service".
	Title string
	// Aggressive repairs overwrite or delete something clawdbot may not have
	// written (no marker); they run only with --force (doc/supervision.md §6.2).
	Aggressive bool
	// ForceReason, when set, is why this repair needs --force (the skip
	// message); the default reason is a definition without our marker.
	ForceReason string
	// Run performs the repair and returns one line per action taken.
	Run func(ctx context.Context, c *Context) ([]string, error)
}

// Finding is one problem (or notable fact) a check found. Code is stable:
// scripts and tests key on it. Fix is the exact command (profile-aware) or
// instruction that resolves it.
type Finding struct {
	Check    string   `json:"check"`
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Detail   string   `json:"detail,omitempty"`
	Fix      string   `json:"fix,omitempty"`
	// Repairable says doctor --fix can repair it (needsForce: only with --force).
	Repairable bool    `json:"repairable"`
	NeedsForce bool    `json:"needsForce,omitempty"`
	Repair     *Repair `json:"-"`
}

// Check is one diagnosis. Name is lower-kebab-case (it groups the report);
// Run must be safe to call concurrently with other checks on the same
// Context and must not change anything.
type Check interface {
	Name() string
	Run(ctx context.Context, c *Context) []Finding
}

// CheckFunc adapts a function to Check.
type CheckFunc struct {
	N string
	F func(ctx context.Context, c *Context) []Finding
}

// Name implements Check.
func (f CheckFunc) Name() string { return f.N }

// Run implements Check.
func (f CheckFunc) Run(ctx context.Context, c *Context) []Finding { return f.F(ctx, c) }

// Context is what checks and repairs work on. Build it with the exported
// fields set; the lazily computed views (config snapshot, service specs,
// scans) are shared by concurrent checks.
type Context struct {
	Profile profiles.Profile
	// Getenv is the CLI's environment (for ${ENV} in the config and auth).
	Getenv func(string) string
	// Platform is the service manager ("" where none is supported).
	Platform supervise.Platform
	// Runner runs launchctl/systemctl/loginctl/journalctl.
	Runner supervise.Runner
	// UID selects the launchd gui/<uid> domain.
	UID int
	// Binary is this clawdbot binary: what a rewritten service should run.
	Binary string
	// Version is the CLI version written into service definitions.
	Version string
	// User is the login user (lingering).
	User string
	// Deep widens service scans to system locations and other users.
	Deep bool
	// ProbeTimeout bounds one RPC probe (0: 3 s).
	ProbeTimeout time.Duration
	// Inspect reports who holds a port (nil: ports.Inspect).
	Inspect func(ctx context.Context, port int) ports.Report
	// Now is the clock for backup names (nil: time.Now).
	Now func() time.Time
	// CheckTimeout bounds one check (0: 20 s, or the probe timeout plus
	// 5 s when that is longer). A check past it is reported as
	// check-timeout and no longer waited for, so doctor always finishes
	// even when systemctl or launchctl hangs.
	CheckTimeout time.Duration
	// RepairTimeout bounds one repair (0: 2 min); its commands are killed
	// at the deadline (the Runner runs them under the context).
	RepairTimeout time.Duration
	// ServiceManager, when set, is the manager checks and repairs use
	// instead of supervise.NewManager over Runner (the Windows SCM, which
	// no Runner can stand in for, is replaced this way in tests).
	ServiceManager supervise.Manager

	// The lazily computed views. Each is guarded by its own mutex rather
	// than a sync.Once so that Refresh can reset them while a check that
	// Run gave up on is still running (reassigning a Once would race).
	cfgMu      sync.Mutex
	cfgLoaded  bool
	snap       *profiles.Snapshot
	snapErr    error
	specMu     sync.Mutex
	specLoaded bool
	want       supervise.Spec
	wantErr    error
	inst       *supervise.Spec
	instErr    error
	scanMu     sync.Mutex
	scanLoaded bool
	found      []supervise.Found
	legacy     []LegacyService
	mgrOnce    sync.Once
	mgr        supervise.Manager
	mgrErr     error
	taskMu     sync.Mutex
	taskLoaded bool
	task       *originalTask
	taskErr    error
}

// Hint makes a clawdbot command target this context's profile.
func (c *Context) Hint(cmd string) string { return profiles.FormatHint(c.Profile.Name, cmd) }

func (c *Context) getenv(k string) string {
	if c.Getenv == nil {
		return ""
	}
	return c.Getenv(k)
}

func (c *Context) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Context) probeTimeout() time.Duration {
	if c.ProbeTimeout > 0 {
		return c.ProbeTimeout
	}
	return 3 * time.Second
}

func (c *Context) checkTimeout() time.Duration {
	if c.CheckTimeout > 0 {
		return c.CheckTimeout
	}
	return max(20*time.Second, c.probeTimeout()+5*time.Second)
}

func (c *Context) repairTimeout() time.Duration {
	if c.RepairTimeout > 0 {
		return c.RepairTimeout
	}
	return 2 * time.Minute
}

func (c *Context) inspect(ctx context.Context, port int) ports.Report {
	if c.Inspect != nil {
		return c.Inspect(ctx, port)
	}
	return ports.Inspect(ctx, port)
}

// sameProfile compares profile names ("" and "default" are the default).
func sameProfile(a, b string) bool {
	norm := func(p string) string {
		p = strings.TrimSpace(p)
		if strings.EqualFold(p, "default") {
			return ""
		}
		return p
	}
	return strings.EqualFold(norm(a), norm(b))
}

// Config is the profile's config snapshot, read once.
func (c *Context) Config() (*profiles.Snapshot, error) {
	c.cfgMu.Lock()
	defer c.cfgMu.Unlock()
	if !c.cfgLoaded {
		c.snap, c.snapErr = profiles.LoadEnv(c.Profile.ConfigPath, c.Getenv)
		c.cfgLoaded = true
	}
	return c.snap, c.snapErr
}

// Refresh forgets the cached views (config snapshot, service definitions,
// scans), so the next check reads the disk again. Fix calls it after repairs.
func (c *Context) Refresh() {
	c.cfgMu.Lock()
	c.cfgLoaded, c.snap, c.snapErr = false, nil, nil
	c.cfgMu.Unlock()
	c.resetSpecs()
	c.scanMu.Lock()
	c.scanLoaded, c.found, c.legacy = false, nil, nil
	c.scanMu.Unlock()
	c.taskMu.Lock()
	c.taskLoaded, c.task, c.taskErr = false, nil, nil
	c.taskMu.Unlock()
}

func (c *Context) resetSpecs() {
	c.specMu.Lock()
	c.specLoaded, c.inst, c.instErr, c.wantErr = false, nil, nil, nil
	c.specMu.Unlock()
}

// Manager is the platform's service manager over Runner.
func (c *Context) Manager() (supervise.Manager, error) {
	c.mgrOnce.Do(func() {
		if c.ServiceManager != nil {
			c.mgr = c.ServiceManager
			return
		}
		if c.Platform == "" {
			c.mgrErr = errors.New("no supported service manager on this OS")
			return
		}
		c.mgr, c.mgrErr = supervise.NewManager(c.Platform, c.Runner, c.UID)
	})
	return c.mgr, c.mgrErr
}

// Want is the service definition `gateway install` would write now for this
// profile and binary. When the binary cannot be installed (a `go run`
// build) the error says so, and the returned Spec still names the service
// and its path.
func (c *Context) Want() (supervise.Spec, error) {
	c.specMu.Lock()
	defer c.specMu.Unlock()
	c.loadSpecs()
	return c.want, c.wantErr
}

// Installed is the profile's installed definition (error wrapping
// fs.ErrNotExist when there is none).
func (c *Context) Installed() (supervise.Spec, error) {
	c.specMu.Lock()
	defer c.specMu.Unlock()
	c.loadSpecs()
	if c.inst == nil {
		return supervise.Spec{}, c.instErr
	}
	return *c.inst, c.instErr
}

// loadSpecs fills the spec views once; the caller holds specMu.
func (c *Context) loadSpecs() {
	if c.specLoaded {
		return
	}
	c.specLoaded = true
	func() {
		if c.Platform == "" {
			c.wantErr = errors.New("no supported service manager on this OS")
			c.instErr = c.wantErr
			return
		}
		opts := supervise.Options{Platform: c.Platform, Version: c.version()}
		c.want, c.wantErr = supervise.SpecFor(c.Profile, c.Binary, opts)
		if c.wantErr != nil {
			// Names and paths do not depend on the binary; "/" always exists.
			if s, err := supervise.SpecFor(c.Profile, "/", opts); err == nil {
				s.Program = ""
				c.want = s
			}
		}
		path := c.want.DefinitionPath()
		if path == "" {
			c.instErr = fmt.Errorf("cannot tell where the service definition lives: %w", c.wantErr)
			return
		}
		s, err := supervise.ReadInstalled(c.Platform, path)
		c.instErr = err
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			c.inst = &s
		}
	}()
}

func (c *Context) version() string {
	if c.Version == "" {
		return "dev"
	}
	return c.Version
}

// scans are the service definitions around ours: supervise.Scan's view
// (files that mention clawdbot, classified) plus ScanLegacy's, which finds
// legacy names by file name even when the file never mentions clawdbot.
func (c *Context) scans() ([]supervise.Found, []LegacyService) {
	c.scanMu.Lock()
	defer c.scanMu.Unlock()
	if !c.scanLoaded && c.Platform != "" && c.Platform != supervise.Windows {
		c.found = supervise.Scan(supervise.ScanOptions{Platform: c.Platform, Home: c.Profile.Home, Deep: c.Deep})
		c.legacy = ScanLegacy(c.Platform, c.Profile.Home, c.Deep)
	}
	c.scanLoaded = true
	return c.found, c.legacy
}

// Codes of findings about the checks themselves.
const (
	CodeCheckCrashed = "check-crashed" // a check panicked (a bug)
	CodeCheckTimeout = "check-timeout" // a check did not finish within CheckTimeout
)

// checkGrace is how long Run still waits, after a check's deadline, for
// the check to return its own findings (a killed systemctl becomes a
// precise "service manager unavailable" rather than a bare timeout).
const checkGrace = time.Second

// Run runs checks in parallel and returns their findings in check order
// (within a check, in the order it reported them). Each check runs under
// the context's CheckTimeout; one that has not returned shortly after it is
// reported as check-timeout and left behind, so Run always returns.
func Run(ctx context.Context, c *Context, checks []Check) []Finding {
	res := make([]chan []Finding, len(checks))
	timeout := c.checkTimeout()
	for i, ch := range checks {
		res[i] = make(chan []Finding, 1) // buffered: an abandoned check never blocks
		go func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			defer func() {
				if r := recover(); r != nil {
					res[i] <- []Finding{{Code: CodeCheckCrashed, Severity: SevError,
						Message: fmt.Sprintf("check %s crashed: %v (please report it)", ch.Name(), r)}}
				}
			}()
			res[i] <- ch.Run(cctx, c)
		}()
	}
	deadline := time.NewTimer(timeout + checkGrace)
	defer deadline.Stop()
	expired := false
	var out []Finding
	for i, ch := range checks {
		var fs []Finding
		if expired {
			select {
			case fs = <-res[i]:
			default:
				fs = []Finding{timeoutFinding(ch, timeout)}
			}
		} else {
			select {
			case fs = <-res[i]:
			case <-deadline.C:
				expired = true
				select {
				case fs = <-res[i]:
				default:
					fs = []Finding{timeoutFinding(ch, timeout)}
				}
			}
		}
		for _, f := range fs {
			f.Check = ch.Name()
			if f.Repair != nil {
				f.Repairable, f.NeedsForce = true, f.Repair.Aggressive
			}
			out = append(out, f)
		}
	}
	return out
}

func timeoutFinding(ch Check, timeout time.Duration) Finding {
	return Finding{Code: CodeCheckTimeout, Severity: SevError,
		Message: fmt.Sprintf("Check %s did not finish within %s; its result is unknown", ch.Name(), timeout),
		Detail:  "a service manager command (systemctl, launchctl, loginctl) or a file system did not answer",
		Fix:     "run the commands doctor uses by hand (e.g. systemctl --user status, launchctl print gui/$UID) to see what hangs"}
}

// Action is one repair doctor --fix ran (or skipped).
type Action struct {
	Step   string   `json:"step"`
	Title  string   `json:"title"`
	Codes  []string `json:"codes"`
	Status string   `json:"status"` // done | failed | skipped
	Lines  []string `json:"lines,omitempty"`
	Error  string   `json:"error,omitempty"`
	Reason string   `json:"reason,omitempty"`
}

// Action statuses.
const (
	ActionDone    = "done"
	ActionFailed  = "failed"
	ActionSkipped = "skipped"
)

// FixOptions say which repairs may run.
type FixOptions struct {
	// Force allows aggressive repairs (overwriting or removing definitions
	// without our marker).
	Force bool
	// Only, when non-nil, limits the repairs to these steps (e.g. the
	// token for --generate-gateway-token without --fix).
	Only []Step
	// Logf, when set, is told about each action as it happens.
	Logf func(format string, args ...any)
}

// Fix runs the repairs attached to findings, once per Key, in Step order.
// A failed repair does not stop the later ones (each reports its own
// outcome). The Context's cached views are reset afterwards, so a
// following Run sees the repaired state.
func Fix(ctx context.Context, c *Context, findings []Finding, opts FixOptions) []Action {
	type group struct {
		r     *Repair
		codes []string
		first int
	}
	groups := map[string]*group{}
	for i, f := range findings {
		if f.Repair == nil {
			continue
		}
		if opts.Only != nil && !slices.Contains(opts.Only, f.Repair.Step) {
			continue
		}
		g := groups[f.Repair.Key]
		if g == nil {
			g = &group{r: f.Repair, first: i}
			groups[f.Repair.Key] = g
		}
		if f.Repair.Aggressive && !g.r.Aggressive {
			// A copy: the finding's own Repair stays as the check made it.
			r := *g.r
			r.Aggressive, r.ForceReason = true, f.Repair.ForceReason
			g.r = &r
		}
		if !slices.Contains(g.codes, f.Code) {
			g.codes = append(g.codes, f.Code)
		}
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].r.Step != list[j].r.Step {
			return list[i].r.Step < list[j].r.Step
		}
		return list[i].first < list[j].first
	})
	var acts []Action
	for _, g := range list {
		a := Action{Step: g.r.Step.String(), Title: g.r.Title, Codes: g.codes}
		switch {
		case g.r.Aggressive && !opts.Force:
			a.Status = ActionSkipped
			a.Reason = "it would overwrite or remove a definition clawdbot did not write; rerun with --force"
			if g.r.ForceReason != "" {
				a.Reason = g.r.ForceReason
			}
		default:
			rctx, cancel := context.WithTimeout(ctx, c.repairTimeout())
			lines, err := g.r.Run(rctx, c)
			cancel()
			a.Lines = lines
			a.Status = ActionDone
			if err != nil {
				a.Status, a.Error = ActionFailed, err.Error()
			}
		}
		if opts.Logf != nil {
			opts.Logf("%s", a.String())
		}
		acts = append(acts, a)
	}
	c.Refresh()
	return acts
}

// CountRepairs counts the repairs Fix would consider for findings (one per
// Key, as Fix groups them): run will run with this force setting, needForce
// would be skipped for lack of --force. A repair shared by several findings
// needs --force when any of them does.
func CountRepairs(findings []Finding, force bool) (run, needForce int) {
	aggressive := map[string]bool{}
	var keys []string
	for _, f := range findings {
		if f.Repair == nil {
			continue
		}
		if _, seen := aggressive[f.Repair.Key]; !seen {
			keys = append(keys, f.Repair.Key)
		}
		aggressive[f.Repair.Key] = aggressive[f.Repair.Key] || f.Repair.Aggressive
	}
	for _, k := range keys {
		if aggressive[k] && !force {
			needForce++
		} else {
			run++
		}
	}
	return run, needForce
}

// String renders an action as report lines.
func (a Action) String() string {
	var b strings.Builder
	switch a.Status {
	case ActionDone:
		fmt.Fprintf(&b, "fixed: %s", a.Title)
	case ActionFailed:
		fmt.Fprintf(&b, "FAILED: %s: %s", a.Title, a.Error)
	default:
		fmt.Fprintf(&b, "skipped: %s (%s)", a.Title, a.Reason)
	}
	for _, l := range a.Lines {
		fmt.Fprintf(&b, "\n    %s", l)
	}
	return b.String()
}

// backup copies path into <state>/backups/services/ (never next to the
// definition: a launchd or systemd directory would pick up extra files)
// and returns the copy's path. Copies are named <file>.<UTC time>, with a
// -2, -3… suffix when that name is taken, so no backup is ever overwritten.
// When an existing backup of the same file already holds these exact
// bytes, that one is returned instead: doctor --fix rerun from cron against
// a manager that keeps failing does not pile up identical copies.
func (c *Context) backup(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c.Profile.StateDir, "backups", "services")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create backup dir: %w", err)
	}
	base := filepath.Base(path)
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), base+".") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
				return p, nil
			}
		}
	}
	stem := filepath.Join(dir, base+"."+c.now().UTC().Format("20060102T150405.000Z"))
	dst := stem
	for n := 2; ; n++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = fmt.Sprintf("%s-%d", stem, n)
	}
	if err := profiles.WriteFileAtomic(dst, data, 0o600); err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	return dst, nil
}

// Summary counts findings by severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// Summarize counts findings by severity.
func Summarize(fs []Finding) Summary {
	var s Summary
	for _, f := range fs {
		switch f.Severity {
		case SevError:
			s.Errors++
		case SevWarn:
			s.Warnings++
		default:
			s.Infos++
		}
	}
	return s
}
