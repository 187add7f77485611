package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The prompt policy without a TTY (doc/supervision.md §6.2 and its issue): repairs only
// with --fix/--repair/--yes and, with no TTY, only with --yes;
// --non-interactive never repairs; --generate-gateway-token is an explicit
// request and runs on its own. Exit codes: 0 no errors remain, 1 errors
// remain, 2 usage.
func TestDoctorPromptPolicyWithoutTTY(t *testing.T) {
	tests := []struct {
		args      []string
		chmodded  bool // the config-permissions repair ran
		token     bool // a token was generated
		code      int
		stdoutHas string
	}{
		{[]string{}, false, false, 0, ""},
		{[]string{"--fix"}, false, false, 0, "Not repairing: no TTY"},
		{[]string{"--repair"}, false, false, 0, "Not repairing: no TTY"},
		{[]string{"--yes"}, true, true, 0, "Repairs:"},
		{[]string{"--fix", "--yes"}, true, true, 0, "Repairs:"},
		{[]string{"--repair", "--yes"}, true, true, 0, "Repairs:"},
		{[]string{"--fix", "--yes", "--non-interactive"}, false, false, 0, "Not repairing: --non-interactive"},
		{[]string{"--fix", "--non-interactive"}, false, false, 0, "Not repairing: --non-interactive"},
		// The token is saved 0600 (profiles.Save), hence "chmodded".
		{[]string{"--generate-gateway-token"}, true, true, 0, ""},
		{[]string{"--generate-gateway-token", "--non-interactive"}, true, true, 0, ""},
		{[]string{"--bogus"}, false, false, 2, ""},
		{[]string{"extra-arg"}, false, false, 2, ""},
	}
	// Stdin that is no terminal: a pipe or buffer, and /dev/null, which is
	// a character device but not a terminal (cron, a unit's stdin).
	stdins := map[string]func(t *testing.T) *os.File{
		"buffer": func(*testing.T) *os.File { return nil },
		"devnull": func(t *testing.T) *os.File {
			f, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
	}
	for _, tt := range tests {
		for stdinName, stdin := range stdins {
			t.Run(strings.Join(tt.args, " ")+"/"+stdinName, func(t *testing.T) {
				f := newStatusFixture(t)
				if in := stdin(t); in != nil {
					f.env.Stdin = in
				}
				cfg := fmt.Sprintf(`{"gateway": {"mode": "local", "port": %d}}`, f.port)
				os.WriteFile(f.prof.ConfigPath, []byte(cfg), 0o644)
				os.Chmod(f.prof.ConfigPath, 0o644)
				code := Main(append([]string{"doctor", "--timeout", "300"}, tt.args...), f.env)
				if strings.Contains(f.out.String(), "[y/N]") {
					t.Errorf("prompted without a terminal:\n%s", f.out)
				}
				if code != tt.code {
					t.Errorf("exit %d, want %d\n%s%s", code, tt.code, f.out, f.errb)
				}
				fi, _ := os.Stat(f.prof.ConfigPath)
				if got := fi.Mode().Perm() == 0o600; got != tt.chmodded {
					t.Errorf("config mode %o: chmod ran = %v, want %v", fi.Mode().Perm(), got, tt.chmodded)
				}
				b, _ := os.ReadFile(f.prof.ConfigPath)
				if got := strings.Contains(string(b), `"token"`); got != tt.token {
					t.Errorf("token generated = %v, want %v", got, tt.token)
				}
				if testing.Verbose() {
					t.Logf("%s", f.out)
				}
				if tt.stdoutHas != "" && !strings.Contains(f.out.String(), tt.stdoutHas) {
					t.Errorf("stdout lacks %q:\n%s", tt.stdoutHas, f.out)
				}
			})
		}
	}
}

// Errors that remain make doctor exit 1, in text and JSON; ok is false.
func TestDoctorExitOneWhenErrorsRemain(t *testing.T) {
	f := newStatusFixture(t)
	os.WriteFile(f.prof.ConfigPath, []byte(`{"gateway": {"mode": "local", "port": "not-a-number"}}`), 0o600)
	if code := Main([]string{"doctor", "--timeout", "300"}, f.env); code != 1 {
		t.Errorf("text: exit %d, want 1\n%s", code, f.out)
	}
	f.out.Reset()
	if code := Main([]string{"doctor", "--timeout", "300", "--json", "--fix", "--yes"}, f.env); code != 1 {
		t.Errorf("json: exit %d, want 1", code)
	}
	var d doctorJSON
	if err := json.Unmarshal(f.out.Bytes(), &d); err != nil || d.OK {
		t.Errorf("json ok=%v err=%v\n%s", d.OK, err, f.out)
	}
}
