package profiles

import (
	"strings"
	"testing"
)

func TestBindHost(t *testing.T) {
	tailnet := TailnetIPv4()
	if tailnet == "" {
		tailnet = "127.0.0.1"
	}
	tests := []struct {
		mode, custom string
		want         string
		wantErr      string
	}{
		{mode: "", want: "127.0.0.1"},
		{mode: "loopback", want: "127.0.0.1"},
		{mode: "auto", want: "127.0.0.1"},
		{mode: "lan", want: "0.0.0.0"},
		{mode: "tailnet", want: tailnet},
		{mode: "custom", custom: "192.168.1.5", want: "192.168.1.5"},
		{mode: "custom", custom: "", wantErr: "not an IPv4 address"},
		{mode: "custom", custom: "::1", wantErr: "not an IPv4 address"},
		{mode: "10.0.0.7", want: "10.0.0.7"},
		{mode: "::1", want: "::1"},
		{mode: "localhost", want: "localhost"},
		{mode: "everywhere", wantErr: `invalid --bind "everywhere"`},
	}
	for _, tt := range tests {
		got, err := BindHost(tt.mode, tt.custom)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("BindHost(%q, %q) err = %v, want %q", tt.mode, tt.custom, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("BindHost(%q, %q) = %q, %v; want %q", tt.mode, tt.custom, got, err, tt.want)
		}
	}
	for h, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "0.0.0.0": false, "10.1.2.3": false} {
		if IsLoopbackHost(h) != want {
			t.Errorf("IsLoopbackHost(%q) = %v", h, !want)
		}
	}
}
