package cli

import (
	"strings"
	"testing"
)

// `clawdbot status` ends with what to do next. "Start it" is only right
// when nothing answers: a gateway that answered and refused this CLI (token
// mismatch) is running, and starting another one fails on the port.
func TestStatusNextStepsFollowTheFailure(t *testing.T) {
	tests := []struct {
		name     string
		serve    bool
		args     []string
		want     []string
		dontWant []string
	}{
		{"nothing listens", false, nil,
			[]string{"Start it:  clawdbot gateway", "Diagnose:  clawdbot doctor"}, nil},
		{"gateway refuses the token", true, []string{"--token", "not-the-token"},
			[]string{"Diagnose:  clawdbot doctor", "token"}, []string{"Start it"}},
		{"reachable", true, nil,
			[]string{"Follow logs:  clawdbot logs --follow"}, []string{"Start it"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatusFixture(t)
			if tc.serve {
				f.serve(t, f.port)
			}
			if code := Main(append([]string{"status", "--timeout", "3000"}, tc.args...), f.env); code != ExitOK {
				t.Fatalf("exit %d: %s", code, f.errb.String())
			}
			out := f.out.String()
			next := out[strings.Index(out, "Next steps:"):]
			for _, w := range tc.want {
				if !strings.Contains(next, w) {
					t.Errorf("next steps lack %q:\n%s", w, out)
				}
			}
			for _, w := range tc.dontWant {
				if strings.Contains(next, w) {
					t.Errorf("next steps contain %q:\n%s", w, out)
				}
			}
		})
	}
}
