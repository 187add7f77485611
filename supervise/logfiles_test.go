//go:build unix

package supervise

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestPrepareLogFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "logs")
	out, errp := filepath.Join(dir, "gateway.log"), filepath.Join(dir, "gateway.err.log")
	if err := prepareLogFiles([]string{out, errp, ""}, ""); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{out, errp} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want a 0600 file", p, err, fi)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("log dir mode %v, want 0700", fi.Mode().Perm())
	}
	os.WriteFile(out, []byte("kept\n"), 0o600)
	if err := prepareLogFiles([]string{out}, ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "kept\n" {
		t.Errorf("existing log truncated: %q", b)
	}

	// A system daemon's account owns its logs (needs root to chown).
	if os.Geteuid() != 0 {
		t.Skip("chown needs root; ran the unowned part only")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no 'nobody' account here")
	}
	if err := prepareLogFiles([]string{out, errp}, "nobody"); err != nil {
		t.Fatal(err)
	}
	want, _ := strconv.Atoi(nobody.Uid)
	for _, p := range []string{dir, out, errp} {
		fi, _ := os.Stat(p)
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != want {
			t.Errorf("%s owned by %v, want uid %d", p, fi.Sys(), want)
		}
	}
	if err := prepareLogFiles([]string{out}, "no-such-account-xyz"); err == nil {
		t.Error("an unknown account was accepted")
	}
}
