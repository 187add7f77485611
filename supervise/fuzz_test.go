package supervise

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// addSeeds adds every testdata file matching pattern to the fuzz corpus:
// our own renderings and the original's definitions.
func addSeeds(f *testing.F, patterns ...string) {
	f.Helper()
	for _, p := range patterns {
		files, err := filepath.Glob(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// checkRoundTrip: whatever Parse accepted and Render can write must read
// back to the same command, environment and account, or doctor's rewrite
// would silently change what the service runs.
func checkRoundTrip(t *testing.T, pl Platform, s Spec) {
	s.Platform = pl
	body, err := Render(s)
	if err != nil {
		return // not a definition we would write (no markers, bad names)
	}
	back, err := Parse(pl, body)
	if err != nil {
		t.Fatalf("our own rendering does not parse: %v\n%s", err, body)
	}
	if back.Program != s.Program || !slices.Equal(back.Args, s.Args) || !maps.Equal(back.Env, s.Env) ||
		back.WorkingDir != s.WorkingDir || back.User != s.User {
		t.Fatalf("round trip changed the spec:\n in: %q %q %q wd=%q user=%q\nout: %q %q %q wd=%q user=%q\n%s",
			s.Program, s.Args, s.Env, s.WorkingDir, s.User, back.Program, back.Args, back.Env, back.WorkingDir, back.User, body)
	}
}

// FuzzParseSystemd feeds arbitrary unit files to the parser doctor and
// status run on whatever is installed: it must never panic, and a parsed
// unit must survive render → parse.
func FuzzParseSystemd(f *testing.F) {
	addSeeds(f, "render/systemd-*.service", "original/*.service")
	f.Add([]byte("[Service]\nExecStart=\"/a b/c\" 'd e' f\\\\g %%h $$i\nEnvironment=\"A=1 2\" B=3\n"))
	f.Add([]byte("[Service]\nExecStart=\n"))
	f.Add([]byte("[Service]\nExecStart=\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSystemd(data)
		if err != nil {
			return
		}
		checkRoundTrip(t, Systemd, s)
	})
}

// FuzzParseLaunchd does the same for plists (XML and binary).
func FuzzParseLaunchd(f *testing.F) {
	addSeeds(f, "render/launchd-*.plist", "original/*.plist")
	f.Add([]byte(`<plist><dict><key>Label</key><string>x</string><key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict><key>Program</key><string>/bin/x</string></dict></plist>`))
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseLaunchd(data)
		if err != nil {
			return
		}
		checkRoundTrip(t, Launchd, s)
	})
}
