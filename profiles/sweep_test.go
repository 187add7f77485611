package profiles

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// helperCrashEnv names the config a re-executed test binary saves while it
// kills itself between writing the temp file and renaming it.
const helperCrashEnv = "PROFILES_TEST_CRASH_TARGET"

func TestHelperCrashDuringSave(t *testing.T) {
	target := os.Getenv(helperCrashEnv)
	if target == "" {
		t.Skip("helper process of TestCrashDuringSaveLeavesTempThatSweepRemoves")
	}
	testHookBeforeRename = func(string) {
		p, _ := os.FindProcess(os.Getpid())
		p.Kill() // SIGKILL on Unix: no deferred cleanup runs
		select {}
	}
	_ = Save(target, []byte("{gateway: {auth: {token: 'new-secret'}}}\n"))
	t.Fatal("survived the kill")
}

// A kill -9 during a save leaves a temp copy (with the token inside); it is
// recognisable, 0600, and SweepTemp removes it once stale, and nothing else.
func TestCrashDuringSaveLeavesTempThatSweepRemoves(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "clawdbot.json")
	old := "{gateway: {auth: {token: 'old-secret'}}}\n"
	if err := os.WriteFile(cfg, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashDuringSave$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperCrashEnv+"="+cfg)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("helper exited cleanly, want killed:\n%s", out)
	}
	if b, _ := os.ReadFile(cfg); string(b) != old {
		t.Fatalf("config changed by the interrupted save: %q", b)
	}
	var temps []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if IsTempName(e.Name()) {
			temps = append(temps, filepath.Join(dir, e.Name()))
		}
	}
	if len(temps) != 1 || !strings.Contains(filepath.Base(temps[0]), ".clawdbot.json") {
		t.Fatalf("temp files left = %v (dir %v), want one recognisable copy", temps, entries)
	}
	if fi, _ := os.Stat(temps[0]); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("temp mode %v, want 0600 (it holds the token)", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(temps[0]); !strings.Contains(string(b), "secret") {
		t.Errorf("temp content %q: expected a copy holding a token (the point of sweeping)", b)
	}

	// A fresh temp may be a save in progress: kept.
	if got, err := SweepTemp(dir, 2); err != nil || len(got) != 0 {
		t.Fatalf("sweep of fresh temps removed %v (%v)", got, err)
	}

	past := time.Now().Add(-time.Minute)
	mk := func(rel string, stale bool) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if stale {
			os.Chtimes(p, past, past)
		}
		return p
	}
	os.Chtimes(temps[0], past, past)
	nested := mk("identity/.device.json"+TempInfix+"12345", true)
	keep := []string{
		mk(".other.tmp-123", true),                    // not ours
		mk("clawdbot.json"+TempInfix+"1", true),       // no leading dot
		mk(".x"+TempInfix+"abc", true),                // not CreateTemp's digits
		mk("."+TempInfix+"1", true),                   // no target name
		mk(".y.json"+TempInfix+"5", false),            // fresh: a write in progress
		mk("a/b/c/.deep.json"+TempInfix+"7", true),    // deeper than depth
		mk("notes"+TempInfix+"1.txt", true),           // a user's file
		mk(".clawdbot.json.bak"+TempInfix+"x1", true), // not digits
	}
	os.Mkdir(filepath.Join(dir, ".d"+TempInfix+"1"), 0o700) // a directory: never removed
	got, err := SweepTemp(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{temps[0], nested}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	for _, p := range append(keep, cfg, filepath.Join(dir, ".d"+TempInfix+"1")) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

func TestTempPatternMatchesIsTempName(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, TempPattern(filepath.Join(dir, "device-auth.json")))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if name := filepath.Base(f.Name()); !IsTempName(name) || !strings.HasPrefix(name, ".device-auth.json"+TempInfix) {
		t.Errorf("CreateTemp(TempPattern) made %q, which IsTempName does not recognise", name)
	}
}
