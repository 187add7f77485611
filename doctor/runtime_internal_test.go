package doctor

import (
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/supervise"
)

func TestRuntimeOfCrashLoop(t *testing.T) {
	st := supervise.Status{Manager: supervise.Systemd, Installed: true, Loaded: true,
		ActiveState: "activating", SubState: "auto-restart", Restarts: 7}
	rt := runtimeOf(st, nil, true)
	if rt.Status != "stopped" || !strings.Contains(rt.Detail, "7 restarts so far") || !strings.Contains(rt.Detail, "crash loop") {
		t.Errorf("runtime %+v: want stopped with a crash-loop detail", rt)
	}
	st.SubState, st.ActiveState = "dead", "inactive"
	if rt := runtimeOf(st, nil, true); rt.Detail != "" {
		t.Errorf("a plain stop got detail %q", rt.Detail)
	}
}
