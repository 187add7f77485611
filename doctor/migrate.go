package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// Migration from the original's service definitions. The original wrote
// the gateway token into the definition itself (Environment= in the unit,
// EnvironmentVariables in the plist, `set` in gateway.cmd; doc/supervision.md
// §2.2, §3.5) and often nowhere else. Ours never does: the gateway reads it
// from the 0600 config. So before anything rewrites or removes such a
// definition, the token is carried into the config; otherwise the new
// service starts without it (or doctor generates a new one) and every
// client of the still-running gateway is locked out.

// Codes of the migration findings.
const (
	// CodeTokenOnlyInService: the installed definition holds the gateway
	// token and the config does not.
	CodeTokenOnlyInService = "gateway-token-only-in-service"
	// CodeScheduledTask: the original's Windows Scheduled Task is
	// registered for this profile.
	CodeScheduledTask = "windows-scheduled-task"
)

const envToken = "CLAWDBOT_GATEWAY_TOKEN"

// originalTask is the original's Scheduled Task of this profile, with its
// wrapper script when it could be read.
type originalTask struct {
	Name       string
	Task       supervise.ScheduledTask
	ScriptPath string // "" when no script was found
	Script     *supervise.Spec
	ScriptErr  error
}

// token is the gateway token the task's script sets ("" if none).
func (t *originalTask) token() string {
	if t == nil || t.Script == nil {
		return ""
	}
	return strings.TrimSpace(t.Script.Env[envToken])
}

// scheduledTask looks the original's task up once (Windows only): the
// token check and the task check both need it, and it costs a schtasks run.
func (c *Context) scheduledTask(ctx context.Context) (*originalTask, error) {
	c.taskMu.Lock()
	defer c.taskMu.Unlock()
	if c.taskLoaded {
		return c.task, c.taskErr
	}
	c.taskLoaded = true
	if c.Platform != supervise.Windows || c.Runner == nil {
		return nil, nil
	}
	name := cmp.Or(strings.TrimSpace(c.getenv("CLAWDBOT_WINDOWS_TASK_NAME")), supervise.OriginalTaskName(c.Profile.Name))
	task, err := supervise.QueryScheduledTask(ctx, c.Runner, name)
	if errors.Is(err, supervise.ErrTaskNotFound) {
		return nil, nil
	}
	if err != nil {
		c.taskErr = err
		return nil, err
	}
	t := &originalTask{Name: name, Task: task}
	// Where the original put the script (doc/supervision.md §1.5, §2.1): an explicit
	// CLAWDBOT_TASK_SCRIPT, what the task runs, then <state>/gateway.cmd.
	scriptName := cmp.Or(strings.TrimSpace(c.getenv("CLAWDBOT_TASK_SCRIPT_NAME")), supervise.OriginalTaskScript)
	for _, p := range []string{strings.TrimSpace(c.getenv("CLAWDBOT_TASK_SCRIPT")), task.Command, filepath.Join(c.Profile.StateDir, scriptName)} {
		if p == "" || !strings.EqualFold(filepath.Ext(p), ".cmd") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		t.ScriptPath = p
		s, err := supervise.ParseTaskScript(b)
		if err != nil {
			t.ScriptErr = err
		} else {
			t.Script = &s
		}
		break
	}
	c.task = t
	return t, nil
}

// serviceToken is the gateway token the installed definition carries (the
// original's unit or plist, or its task script on Windows) and where.
func (c *Context) serviceToken(ctx context.Context) (token, source string) {
	if inst, err := c.Installed(); err == nil {
		if v := strings.TrimSpace(inst.Env[envToken]); v != "" {
			return v, inst.File.Path
		}
	}
	if t, _ := c.scheduledTask(ctx); t.token() != "" {
		return t.token(), t.ScriptPath
	}
	return "", ""
}

// carryToken writes token into the config when the config names no gateway
// secret of its own; a token or password already there is the user's and
// stays. It returns the line to report ("" when the config already had a
// secret and nothing was written).
func carryToken(c *Context, token, source string) (string, error) {
	path := c.Profile.ConfigPath
	snap, err := profiles.LoadEnv(path, c.Getenv)
	if err != nil {
		return "", err
	}
	if snap.Exists && !snap.Valid {
		return "", fmt.Errorf("config %s is invalid (%v): fix it first (%s), or the token in %s is lost when the service is rewritten",
			path, snap.Err(), c.Hint("clawdbot config validate"), source)
	}
	if snap.Parsed != nil {
		if configuredSecret(snap.Parsed) != "" {
			return "", nil
		}
	}
	if err := SetGatewayToken(path, c.Getenv, token); err != nil {
		return "", err
	}
	return "carried the gateway token from " + source + " into " + path + " (mode 0600)", nil
}

// carryTokenRepair is the repair of CodeTokenOnlyInService. It reads the
// definition again when it runs, so it carries what is there now.
func carryTokenRepair() *Repair {
	return &Repair{Step: StepCarryToken, Key: "token-carry", Title: "carry the gateway token from the service definition into the config",
		Run: func(ctx context.Context, c *Context) ([]string, error) {
			tok, src := c.serviceToken(ctx)
			if tok == "" {
				return []string{"the service definition no longer holds a token; nothing to carry"}, nil
			}
			line, err := carryToken(c, tok, src)
			if err != nil {
				return nil, err
			}
			if line == "" {
				line = c.Profile.ConfigPath + " already has a gateway secret; kept it"
			}
			return []string{line}, nil
		}}
}

// tokenOnlyInService is the finding when the config has no gateway secret
// but the installed definition has a token; nil otherwise.
func tokenOnlyInService(ctx context.Context, c *Context) *Finding {
	tok, src := c.serviceToken(ctx)
	if tok == "" {
		return nil
	}
	return &Finding{Code: CodeTokenOnlyInService, Severity: SevWarn, Repair: carryTokenRepair(),
		Message: "The gateway token is only in the installed service definition (" + src + "), not in the config: a rewritten service would start without it",
		Detail:  "the original wrote the token into the service definition; clawdbot keeps it in the 0600 config",
		Fix:     c.Hint("clawdbot doctor --fix") + " (copies it into " + c.Profile.ConfigPath + " before the service is rewritten)"}
}

// --- Windows: the original's Scheduled Task --------------------------------

func checkScheduledTask(ctx context.Context, c *Context) []Finding {
	if c.Platform != supervise.Windows {
		return nil
	}
	t, err := c.scheduledTask(ctx)
	if err != nil {
		return []Finding{{Code: CodeServiceManagerDown, Severity: SevInfo,
			Message: "Cannot ask the Task Scheduler about the original's gateway task", Detail: err.Error(),
			Fix: `run: schtasks /Query /TN "` + supervise.OriginalTaskName(c.Profile.Name) + `" /XML`}}
	}
	if t == nil {
		return nil
	}
	runs := t.Task.Command
	if t.Task.Arguments != "" {
		runs += " " + t.Task.Arguments
	}
	f := Finding{Code: CodeScheduledTask, Severity: SevError,
		Message: fmt.Sprintf("The original's Scheduled Task %q starts a gateway at logon; it and the clawdbot service fight for the port", t.Name),
		Detail:  "task runs " + runs,
		Fix:     c.Hint("clawdbot doctor --fix") + " (carries its token over, installs the service, then removes the task and its script)",
		Repair:  taskRepair(t)}
	switch {
	case t.Script == nil:
		f.Repair.Aggressive = true
		f.Repair.ForceReason = "its script could not be read, so its token cannot be carried over; rerun with --force to remove the task anyway"
		f.Detail += "; script unreadable"
		if t.ScriptErr != nil {
			f.Detail += ": " + t.ScriptErr.Error()
		}
	case t.Script.Env[supervise.EnvMarker] != supervise.MarkerValue:
		f.Repair.Aggressive = true
		f.Repair.ForceReason = "its script carries no clawdbot marker; rerun with --force to replace it"
	}
	return []Finding{f}
}

// taskRepair migrates the original's task: token into the config, task
// ended (its gateway holds the port), our service installed and started,
// and only then the task deleted and its script removed (after a backup).
// If the service cannot be installed, the task is started again and kept,
// so the user is never left without a gateway.
func taskRepair(t *originalTask) *Repair {
	return &Repair{Step: StepLegacy, Key: "task:" + t.Name, Title: fmt.Sprintf("migrate the Scheduled Task %q to the clawdbot service", t.Name),
		Run: func(ctx context.Context, c *Context) ([]string, error) {
			var lines []string
			if tok := t.token(); tok != "" {
				line, err := carryToken(c, tok, t.ScriptPath)
				if err != nil {
					return lines, fmt.Errorf("%w (the task is unchanged)", err)
				}
				if line != "" {
					lines = append(lines, line)
				}
			}
			var bak string
			if t.ScriptPath != "" {
				var err error
				if bak, err = c.backup(t.ScriptPath); err != nil {
					return lines, fmt.Errorf("%w (the task is unchanged)", err)
				}
				lines = append(lines, "backed up "+t.ScriptPath+" to "+bak)
			}
			want, err := c.Want()
			if err != nil {
				return lines, fmt.Errorf("cannot install the clawdbot service: %w (the task is unchanged)", err)
			}
			m, err := c.Manager()
			if err != nil {
				return lines, err
			}
			if err := supervise.EndScheduledTask(ctx, c.Runner, t.Name); err != nil {
				return lines, fmt.Errorf("could not stop the task's gateway: %w (the task is unchanged)", err)
			}
			lines = append(lines, `stopped: schtasks /End /TN "`+t.Name+`"`)
			res, err := m.Install(ctx, want, supervise.InstallOptions{})
			if err != nil {
				if rerr := supervise.RunScheduledTask(ctx, c.Runner, t.Name); rerr != nil {
					lines = append(lines, `could not start the task again (`+rerr.Error()+`); start it with: schtasks /Run /TN "`+t.Name+`"`)
				} else {
					lines = append(lines, `started the task again: schtasks /Run /TN "`+t.Name+`"`)
				}
				return lines, fmt.Errorf("install %s: %w; kept the task", want.Name, err)
			}
			lines = append(lines, fmt.Sprintf("%s service %s", res.Action, want.Name))
			if err := supervise.DeleteScheduledTask(ctx, c.Runner, t.Name); err != nil {
				return lines, fmt.Errorf("%w; the service runs, but remove the task by hand: schtasks /Delete /F /TN \"%s\"", err, t.Name)
			}
			lines = append(lines, `removed: schtasks /Delete /F /TN "`+t.Name+`"`)
			if t.ScriptPath != "" {
				if err := os.Remove(t.ScriptPath); err != nil && !errors.Is(err, os.ErrNotExist) {
					return lines, fmt.Errorf("remove %s: %w", t.ScriptPath, err)
				}
				lines = append(lines, "removed "+t.ScriptPath+" (it held the token in plain text)")
			}
			return lines, nil
		}}
}
