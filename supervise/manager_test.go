package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fakeRunner records every argv and answers from a script. It stands in for
// launchctl (no launchd on Linux) and for systemctl where the test is about
// the exact command sequence; the real systemctl is exercised by
// TestSystemdSandbox.
type fakeRunner struct {
	mu    sync.Mutex
	calls []string
	// answer returns the output for an argv; nil means exit 0, no output.
	answer func(argv string) *Output
}

func (f *fakeRunner) Run(_ context.Context, name string, args ...string) (Output, error) {
	argv := strings.Join(append([]string{name}, args...), " ")
	f.mu.Lock()
	f.calls = append(f.calls, argv)
	f.mu.Unlock()
	if f.answer != nil {
		if o := f.answer(argv); o != nil {
			return *o, nil
		}
	}
	return Output{}, nil
}

func (f *fakeRunner) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// homeSpec is a spec whose HOME (and so its definition path) is a temp dir.
func homeSpec(t *testing.T, pl Platform, scope Scope) Spec {
	t.Helper()
	s := testSpec(t, "dev", pl, scope)
	home := t.TempDir()
	s.Env["HOME"] = home
	s.Env[EnvStateDir] = filepath.Join(home, ".clawdbot-dev")
	s.StdoutPath = strings.Replace(s.StdoutPath, "/home/alice", home, 1)
	s.StderrPath = strings.Replace(s.StderrPath, "/home/alice", home, 1)
	return s
}

func wantCalls(t *testing.T, step string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: argv sequence\n got %q\nwant %q", step, got, want)
	}
}

func TestInstallRefusesForeignFile(t *testing.T) {
	f := &fakeRunner{}
	m := &SystemdManager{Runner: f}
	s := homeSpec(t, Systemd, ScopeUser)
	foreign := []byte("[Service]\nExecStart=/usr/bin/other\n")
	if err := WriteFileAtomic(s.DefinitionPath(), foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := m.Install(context.Background(), s, InstallOptions{})
	if !errors.Is(err, ErrForeignDefinition) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v, want ErrForeignDefinition naming --force", err)
	}
	if b, _ := os.ReadFile(s.DefinitionPath()); string(b) != string(foreign) {
		t.Fatal("foreign unit was modified")
	}
	if len(f.take()) != 0 {
		t.Error("systemctl ran although install refused")
	}
	res, err := m.Install(context.Background(), s, InstallOptions{Force: true})
	if err != nil || res.Action != ActionUpdated {
		t.Fatalf("forced: %+v, %v", res, err)
	}
}

func TestLinger(t *testing.T) {
	f := &fakeRunner{answer: func(argv string) *Output {
		if strings.Contains(argv, "show-user") {
			return &Output{Stdout: "no\n"}
		}
		return nil
	}}
	on, err := LingerEnabled(context.Background(), f, "alice")
	if err != nil || on {
		t.Fatalf("linger = %v %v", on, err)
	}
	if err := EnableLinger(context.Background(), f, "alice"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "linger", f.take(), []string{"loginctl show-user alice --property=Linger --value", "loginctl enable-linger alice"})
	if LingerCommand("alice") != "loginctl enable-linger alice" {
		t.Error(LingerCommand("alice"))
	}
}
