package supervise

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/clawdbot/clawdbot/profiles"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const testBinary = "/usr/local/bin/clawdbot"

// testProfile is a resolved profile for user alice, as profiles.Resolve
// would build it, without touching the real environment.
func testProfile(t *testing.T, name string) profiles.Profile {
	t.Helper()
	flag := name
	if name == "default" {
		flag = ""
	}
	p, err := profiles.Resolve(profiles.Input{
		ProfileFlag: flag,
		Getenv:      func(string) string { return "" },
		Home:        "/home/alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testSpec builds a spec with a fixed binary path: SpecFor resolves the
// real path of its binary, so tests use a real file and then pin Program.
func testSpec(t *testing.T, profile string, pl Platform, scope Scope) Spec {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clawdbot")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := Options{Platform: pl, Scope: scope, Version: "2026.1.24"}
	if scope == ScopeSystem {
		opts.User = "alice"
	}
	s, err := SpecFor(testProfile(t, profile), bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Program = testBinary
	return s
}

type renderCase struct {
	file    string
	profile string
	pl      Platform
	scope   Scope
}

func renderCases() []renderCase {
	var cs []renderCase
	for _, p := range []string{"default", "dev", "rescue"} {
		cs = append(cs,
			renderCase{"launchd-user-" + p + ".plist", p, Launchd, ScopeUser},
			renderCase{"systemd-user-" + p + ".service", p, Systemd, ScopeUser},
			renderCase{"systemd-system-" + p + ".service", p, Systemd, ScopeSystem},
			renderCase{"windows-" + p + ".json", p, Windows, ScopeSystem},
		)
	}
	cs = append(cs, renderCase{"launchd-system-default.plist", "default", Launchd, ScopeSystem})
	return cs
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "render", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./supervise -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (rerun with -update if intended)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, c := range renderCases() {
		t.Run(c.file, func(t *testing.T) {
			s := testSpec(t, c.profile, c.pl, c.scope)
			got, err := Render(s)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.file, got)

			back, err := Parse(c.pl, got)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("Parse(Render(spec)) != spec\n got %+v\nwant %+v", back, s)
			}
		})
	}
}

// TestRenderIsPure: rendering twice gives the same bytes (maps are sorted).
func TestRenderIsPure(t *testing.T) {
	for _, c := range renderCases() {
		s := testSpec(t, c.profile, c.pl, c.scope)
		a, _ := Render(s)
		b, _ := Render(s)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: two renders differ", c.file)
		}
	}
}

func TestLaunchdPlistParsesWithHowett(t *testing.T) {
	s := testSpec(t, "rescue", Launchd, ScopeUser)
	b, err := RenderLaunchd(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	format, err := plist.Unmarshal(b, &m)
	if err != nil {
		t.Fatal(err)
	}
	if format != plist.XMLFormat {
		t.Errorf("format = %d, want XML", format)
	}
	for key, want := range map[string]any{
		"Label": "com.clawdbot.rescue", "RunAtLoad": true, "KeepAlive": true, "ThrottleInterval": uint64(5),
		"Comment":           "Clawdbot Gateway (profile: rescue, v2026.1.24)",
		"StandardOutPath":   "/home/alice/.clawdbot-rescue/logs/gateway.log",
		"StandardErrorPath": "/home/alice/.clawdbot-rescue/logs/gateway.err.log",
	} {
		if !reflect.DeepEqual(m[key], want) {
			t.Errorf("%s = %#v, want %#v", key, m[key], want)
		}
	}
	args, _ := m["ProgramArguments"].([]any)
	if len(args) != 4 || args[0] != testBinary || args[1] != "gateway" || args[2] != "--port" {
		t.Errorf("ProgramArguments = %v", args)
	}
	env, _ := m["EnvironmentVariables"].(map[string]any)
	for _, k := range []string{"HOME", "PATH", EnvProfile, EnvStateDir, EnvConfig, EnvMarker, EnvKind, EnvVersion} {
		if env[k] == nil {
			t.Errorf("EnvironmentVariables lacks %s", k)
		}
	}
	for k := range env {
		if looksSecret(k) {
			t.Errorf("plist embeds secret-looking %s", k)
		}
	}
}

// TestSystemdQuoting pins the escaping the original got wrong (doc/supervision.md §3.3):
// spaces, quotes, backslashes, "%" and "$" in every value.
func TestSystemdQuoting(t *testing.T) {
	cases := []struct{ in, exec, env string }{
		{"plain", "plain", "K=plain"},
		{"/opt/my dir/clawdbot", `"/opt/my dir/clawdbot"`, `"K=/opt/my dir/clawdbot"`},
		{`say "hi"`, `"say \"hi\""`, `"K=say \"hi\""`},
		{`back\slash`, `"back\\slash"`, `"K=back\\slash"`},
		{"100%", "100%%", "K=100%%"},
		{"$HOME", "$$HOME", "K=$HOME"},
		{"it's", `"it's"`, `"K=it's"`},
		{"", `""`, "K="},
		{";", `\;`, "K=;"},
		{"tab\there", "\"tab\there\"", "\"K=tab\there\""},
	}
	for _, c := range cases {
		if got := quoteWord(c.in, true); got != c.exec {
			t.Errorf("exec quote %q = %s, want %s", c.in, got, c.exec)
		}
		if got := quoteWord("K="+c.in, false); got != c.env {
			t.Errorf("env quote %q = %s, want %s", c.in, got, c.env)
		}
		// and back
		w, err := splitWords(unescapeSpecifiers(c.exec))
		if err != nil || len(w) != 1 || strings.ReplaceAll(w[0], "$$", "$") != c.in {
			t.Errorf("split(%s) = %q, %v; want [%q]", c.exec, w, err, c.in)
		}
	}
}

// TestSystemdRoundTripAwkwardValues renders values with every special
// character and parses them back unchanged.
func TestSystemdRoundTripAwkwardValues(t *testing.T) {
	s := testSpec(t, "dev", Systemd, ScopeUser)
	// systemd refuses quotes in an executable path ("Executable name contains
	// special characters"), so the program has spaces and "%" only; quotes are
	// exercised in the arguments and the environment.
	s.Program = filepath.Join(t.TempDir(), "my dir", "100% bot", "clawdbot")
	s.Args = []string{"gateway", "--port", "19001", "a b", `c\d`, "$X", "%h", "", ";"}
	s.WorkingDir = "/srv/work dir/%i"
	s.Description = "Clawdbot 100% (profile: dev)"
	s.Env["WEIRD"] = `a "b" c\d $e %f 'g'`
	b, err := RenderSystemd(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSystemd(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip differs\n got %+v\nwant %+v\nunit:\n%s", back, s, b)
	}
	if verifyUnit(t, b, ScopeUser, s.Program) {
		t.Log("systemd-analyze verify accepted the awkward unit")
	}
}

func TestRenderRejectsNewlines(t *testing.T) {
	for _, pl := range []Platform{Launchd, Systemd, Windows} {
		s := testSpec(t, "dev", pl, ScopeUser)
		s.Env["BAD"] = "a\nb"
		if _, err := Render(s); err == nil || !strings.Contains(err.Error(), "newline") {
			t.Errorf("%s: err = %v, want a newline error", pl, err)
		}
	}
}

// TestSystemdAnalyzeVerify runs the real systemd-analyze on the golden
// units, with ExecStart pointed at an existing binary (verify checks that the
// program exists on this machine).
func TestSystemdAnalyzeVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd); unit verification skipped")
	}
	for _, c := range renderCases() {
		if c.pl != Systemd {
			continue
		}
		t.Run(c.file, func(t *testing.T) {
			s := testSpec(t, c.profile, c.pl, c.scope)
			s.Program = "/bin/true"
			if c.scope == ScopeSystem {
				s.User = "root" // verify resolves User= on this machine
			}
			b, err := RenderSystemd(s)
			if err != nil {
				t.Fatal(err)
			}
			verifyUnit(t, b, c.scope, "/bin/true")
		})
	}
}

// verifyUnit runs systemd-analyze verify on unit text; any output is a
// failure (unknown keys and bad values are only warnings with exit 0).
// It returns false when the tool is absent.
func verifyUnit(t *testing.T, body []byte, scope Scope, program string) bool {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return false
	}
	if _, err := os.Stat(program); err != nil {
		// verify insists the binary exists; make it exist (callers pass a
		// path under t.TempDir()).
		if err := os.MkdirAll(filepath.Dir(program), 0o755); err != nil {
			t.Logf("cannot create %s for verify: %v", program, err)
			return false
		}
		if err := os.WriteFile(program, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Logf("cannot create %s for verify: %v", program, err)
			return false
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "clawdbot-gateway-verify.service")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify", "--recursive-errors=no"}
	if scope == ScopeUser {
		args = append(args, "--user")
	}
	cmd := exec.Command("systemd-analyze", append(args, path)...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	// Lines about units other than ours (the host's own units) are noise.
	var ours []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, "clawdbot-gateway-verify") {
			ours = append(ours, l)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, out, body)
	}
	return true
}
