package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner is the exec seam: every launchctl, systemctl and loginctl call goes
// through it, so tests record the exact argv and script the answers.
type Runner interface {
	// Run runs name with args. The error is non-nil only when the command
	// could not run at all (not installed, context cancelled); a non-zero
	// exit is reported in Output.Code.
	Run(ctx context.Context, name string, args ...string) (Output, error)
}

// Output is what a command printed and how it exited.
type Output struct {
	Stdout string
	Stderr string
	Code   int
}

// Text is the command's trimmed stderr, else stdout: the part worth quoting
// in an error message.
func (o Output) Text() string {
	if s := strings.TrimSpace(o.Stderr); s != "" {
		return s
	}
	return strings.TrimSpace(o.Stdout)
}

// ExecRunner runs real commands with the process environment plus Env.
type ExecRunner struct {
	// Env is appended to the inherited environment (KEY=VALUE).
	Env []string
}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, name string, args ...string) (Output, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if len(r.Env) > 0 {
		cmd.Env = append(cmd.Environ(), r.Env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := Output{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		out.Code = ee.ExitCode()
		return out, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return out, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), ctx.Err())
		}
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// CommandError is a supervisor command that exited non-zero.
type CommandError struct {
	Argv []string
	Out  Output
}

func (e *CommandError) Error() string {
	msg := e.Out.Text()
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.Out.Code)
	}
	return fmt.Sprintf("%s failed: %s", strings.Join(e.Argv, " "), msg)
}

// run runs argv and turns a non-zero exit into a *CommandError.
func run(ctx context.Context, r Runner, argv ...string) (Output, error) {
	out, err := r.Run(ctx, argv[0], argv[1:]...)
	if err != nil {
		return out, err
	}
	if out.Code != 0 {
		return out, &CommandError{Argv: argv, Out: out}
	}
	return out, nil
}
