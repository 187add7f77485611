package device

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clawdbot/clawdbot/profiles"
)

// The device files' temp names follow profiles' scheme, so the sweep at
// gateway start removes a copy of the key or token that a crash left.
// (A test-only import: wire itself never imports profiles.)
func TestTempNameIsSweptByProfiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "device-auth.json")
	if tempPattern(target) != profiles.TempPattern(target) {
		t.Fatalf("tempPattern %q != profiles.TempPattern %q", tempPattern(target), profiles.TempPattern(target))
	}
	f, err := os.CreateTemp(dir, tempPattern(target))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !profiles.IsTempName(filepath.Base(f.Name())) {
		t.Errorf("%s is not recognised by profiles.IsTempName", f.Name())
	}
}
