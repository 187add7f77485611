package doctor_test

import (
	"context"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

// BenchmarkGatherStatusNoProbe is `gateway status --no-probe` minus
// printing: read the installed unit and both configs, ask the (fake)
// supervisor, inspect the port with the real lsof, scan the service dirs.
// Target: well under 100 ms per gather.
func BenchmarkGatherStatusNoProbe(b *testing.B) {
	f := newFixture(b, supervise.Systemd, "", "")
	want, _ := f.c.Want()
	body, _ := supervise.Render(want)
	supervise.WriteFileAtomic(want.DefinitionPath(), body, 0o644)
	f.fake.loaded[want.Name], f.fake.running[want.Name] = true, true
	b.ResetTimer()
	for b.Loop() {
		f.c.Refresh()
		r := doctor.GatherStatus(context.Background(), f.c, doctor.StatusOptions{NoProbe: true})
		if !r.Service.Installed {
			b.Fatal("unit not seen")
		}
	}
}
