package supervise

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

const fixtureToken = "9b2e4d6f8a0c1e3f5a7b9c0d2e4f6a8b1c3d5e7f9a0b2c4d"

func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// The original's task XML, both as schtasks prints it into a pipe (8-bit
// text that still declares UTF-16) and as UTF-16 with a BOM (how the Task
// Scheduler stores and exports it).
func TestParseTaskXMLOriginal(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "original", "clawdbot-gateway-task.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"pipe": raw, "utf16": utf16LE(string(raw))} {
		t.Run(name, func(t *testing.T) {
			task, err := ParseTaskXML(data)
			if err != nil {
				t.Fatal(err)
			}
			want := ScheduledTask{Name: "Clawdbot Gateway", Command: `C:\Users\alice\.clawdbot\gateway.cmd`, OnLogon: true, Enabled: true,
				UserID: "S-1-5-21-3623811015-3361044348-30300820-1001", RunLevel: "LeastPrivilege"}
			if task != want {
				t.Errorf("task = %+v\nwant %+v", task, want)
			}
		})
	}
	if _, err := ParseTaskXML([]byte("<Task><Actions/></Task>")); err == nil {
		t.Error("a task without an Exec action parsed")
	}
}

func TestParseTaskScriptOriginal(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "original", "gateway.cmd"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseTaskScript(raw)
	if err != nil {
		t.Fatal(err)
	}
	if s.Program != `C:\Program Files\nodejs\node.exe` ||
		!slices.Equal(s.Args, []string{`C:\Users\alice\AppData\Roaming\npm\node_modules\clawdbot\dist\entry.js`, "gateway", "--port", "18789"}) {
		t.Errorf("command = %q %q", s.Program, s.Args)
	}
	if s.Env["CLAWDBOT_GATEWAY_TOKEN"] != fixtureToken || s.Env[EnvMarker] != MarkerValue || s.Version != "2026.1.24" || s.Port() != 18789 {
		t.Errorf("env = %v", s.Env)
	}
	if _, err := ParseTaskScript([]byte("@echo off\r\nrem nothing\r\n")); err == nil {
		t.Error("a script without a command line parsed")
	}
}

func TestSplitCmdLine(t *testing.T) {
	for in, want := range map[string][]string{
		`"C:\a b\node.exe" x "y z" "q\"r"`: {`C:\a b\node.exe`, "x", "y z", `q"r`},
		`a  ""  b`:                         {"a", "", "b"},
	} {
		if got := splitCmdLine(in); !slices.Equal(got, want) {
			t.Errorf("splitCmdLine(%q) = %q, want %q", in, got, want)
		}
	}
}

type taskRunner struct {
	calls []string
	out   Output
}

func (r *taskRunner) Run(_ context.Context, name string, args ...string) (Output, error) {
	r.calls = append(r.calls, name+" "+strings.Join(args, " "))
	return r.out, nil
}

func TestQueryScheduledTask(t *testing.T) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "original", "clawdbot-gateway-task.xml"))
	r := &taskRunner{out: Output{Stdout: string(raw)}}
	task, err := QueryScheduledTask(context.Background(), r, OriginalTaskName("work"))
	if err != nil || task.Command == "" {
		t.Fatalf("task %+v, %v", task, err)
	}
	if r.calls[0] != "schtasks /Query /TN Clawdbot Gateway (work) /XML" {
		t.Errorf("argv = %q", r.calls)
	}
	r.out = Output{Code: 1, Stderr: "ERROR: The system cannot find the file specified.\r\n"}
	if _, err := QueryScheduledTask(context.Background(), r, "x"); !errors.Is(err, ErrTaskNotFound) {
		t.Errorf("missing task err = %v", err)
	}
	r.out = Output{Code: 1, Stderr: "ERROR: The task is not running.\r\n"}
	if err := EndScheduledTask(context.Background(), r, "x"); err != nil {
		t.Errorf("ending a stopped task: %v", err)
	}
}
