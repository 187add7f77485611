package reload

import (
	"reflect"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		path string
		want Action
	}{
		{"gateway.remote.url", Action{Noop, "", "gateway.remote"}},
		{"gateway.reload", Action{Noop, "", "gateway.reload"}},
		{"gateway.reload.mode", Action{Noop, "", "gateway.reload"}},
		{"gateway.reloadX", Action{Restart, "", "gateway"}}, // prefix must end at a dot
		{"gateway.port", Action{Restart, "", "gateway"}},
		{"gateway.auth.token", Action{Restart, "", "gateway"}},
		{"hooks.gmail.account", Action{Hot, KindGmail, "hooks.gmail"}},
		{"hooks.gmail", Action{Hot, KindGmail, "hooks.gmail"}},
		{"hooks.token", Action{Hot, KindHooks, "hooks"}},
		{"hooks", Action{Hot, KindHooks, "hooks"}},
		{"hooksX", Action{Restart, "", ""}},
		{"agents.defaults.heartbeat.every", Action{Hot, KindHeartbeat, "agents.defaults.heartbeat"}},
		{"agent.heartbeat", Action{Hot, KindHeartbeat, "agent.heartbeat"}},
		{"agents.defaults.workspace", Action{Noop, "", "agents"}}, // first match wins: heartbeat only for its subtree
		{"agent.model", Action{Noop, "", "agent"}},
		{"cron.enabled", Action{Hot, KindCron, "cron"}},
		{"browser.controlUrl", Action{Hot, KindBrowser, "browser"}},
		{"channels.telegram.botToken", Action{Hot, "channel:telegram", "channels.telegram"}},
		{"channels.nextcloud-talk", Action{Hot, "channel:nextcloud-talk", "channels.nextcloud-talk"}},
		{"channels.zalouser.x", Action{Hot, "channel:zalouser", "channels.zalouser"}},
		{"channels.zalo.x", Action{Hot, "channel:zalo", "channels.zalo"}},
		{"web.enabled", Action{Hot, "channel:whatsapp", "web"}},
		{"channels.whatsapp.allowFrom", Action{Noop, "", "channels.whatsapp"}},
		{"channels.unknownthing", Action{Restart, "", ""}},
		{"logging.level", Action{Noop, "", "logging"}},
		{"models.providers", Action{Noop, "", "models"}},
		{"ui.seamColor", Action{Noop, "", "ui"}},
		{"skills", Action{Noop, "", "skills"}},
		{"plugins.entries", Action{Restart, "", "plugins"}},
		{"discovery.wideArea", Action{Restart, "", "discovery"}},
		{"canvasHost.root", Action{Restart, "", "canvasHost"}},
		{"commands.restart", Action{Restart, "", ""}},
		{"env.FOO", Action{Restart, "", ""}},
		{"auth.profiles", Action{Restart, "", ""}},
		{"diagnostics", Action{Restart, "", ""}},
		{Root, Action{Restart, "", ""}},
	}
	for _, tt := range tests {
		if got := Classify(tt.path); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Classify(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
	}
}

func TestDiff(t *testing.T) {
	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name     string
		old, new map[string]any
		want     []string
	}{
		{"equal", obj("a", 1.0, "b", obj("c", "x")), obj("a", 1.0, "b", obj("c", "x")), nil},
		{"both nil", nil, nil, nil},
		{"scalar change", obj("gateway", obj("port", 1.0)), obj("gateway", obj("port", 2.0)), []string{"gateway.port"}},
		{"added key", obj(), obj("hooks", obj("token", "t")), []string{"hooks"}},
		{"removed key", obj("hooks", obj("token", "t"), "x", 1.0), obj("x", 1.0), []string{"hooks"}},
		{"nested several", obj("a", obj("b", 1.0, "c", 2.0, "d", 3.0)), obj("a", obj("b", 9.0, "c", 2.0, "e", 3.0)),
			[]string{"a.b", "a.d", "a.e"}},
		{"type change object to string gives the parent path",
			obj("channels", obj("telegram", obj("botToken", "x"))), obj("channels", obj("telegram", "off")),
			[]string{"channels.telegram"}},
		{"type change number to string", obj("a", 1.0), obj("a", "1"), []string{"a"}},
		{"array element change reports the array", obj("agents", obj("list", []any{"a", "b"})),
			obj("agents", obj("list", []any{"a", "c"})), []string{"agents.list"}},
		{"array length change", obj("l", []any{1.0}), obj("l", []any{1.0, 2.0}), []string{"l"}},
		{"equal arrays of objects are unchanged", obj("l", []any{obj("id", "x")}), obj("l", []any{obj("id", "x")}), nil},
		{"null vs missing differ", obj("a", nil), obj(), []string{"a"}},
		{"null vs value", obj("a", nil), obj("a", 1.0), []string{"a"}},
		{"empty vs nil map", obj(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.old, tt.new)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in    string
		want  Mode
		valid bool
	}{
		{"", ModeHybrid, true}, {"off", ModeOff, true}, {"HOT", ModeHot, true}, {" restart ", ModeRestart, true},
		{"hybrid", ModeHybrid, true}, {"sometimes", ModeHybrid, false},
	}
	for _, tt := range tests {
		if got, valid := ParseMode(tt.in); got != tt.want || valid != tt.valid {
			t.Errorf("ParseMode(%q) = %q,%v want %q,%v", tt.in, got, valid, tt.want, tt.valid)
		}
	}
}

func TestNewPlan(t *testing.T) {
	hotOnly := []string{"hooks.token", "hooks.gmail.account", "logging.level", "channels.telegram.botToken", "hooks.path"}
	withRestart := []string{"hooks.token", "gateway.port"}
	tests := []struct {
		name     string
		paths    []string
		mode     Mode
		restart  bool
		hot      []string
		ignored  []string
		noop     []string
		restartP []string
	}{
		{"hybrid hot only", hotOnly, ModeHybrid, false, []string{KindHooks, KindGmail, "channel:telegram"}, nil,
			[]string{"logging.level"}, nil},
		{"hybrid with restart skips hot", withRestart, ModeHybrid, true, nil, nil, nil, []string{"gateway.port"}},
		{"invalid mode is hybrid", withRestart, "bogus", true, nil, nil, nil, []string{"gateway.port"}},
		{"empty mode is hybrid", hotOnly, "", false, []string{KindHooks, KindGmail, "channel:telegram"}, nil,
			[]string{"logging.level"}, nil},
		{"hot ignores restart", withRestart, ModeHot, false, []string{KindHooks}, []string{"gateway.port"}, nil,
			[]string{"gateway.port"}},
		{"restart mode restarts on noop change", []string{"logging.level"}, ModeRestart, true, nil, nil,
			[]string{"logging.level"}, nil},
		{"restart mode no change", nil, ModeRestart, false, nil, nil, nil, nil},
		{"off ignores all", withRestart, ModeOff, false, nil, withRestart, nil, []string{"gateway.port"}},
		{"noop only", []string{"gateway.reload.debounceMs", "ui.x"}, ModeHybrid, false, nil, nil,
			[]string{"gateway.reload.debounceMs", "ui.x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlan(tt.paths, tt.mode)
			if p.Restart != tt.restart || !reflect.DeepEqual(p.HotKinds, tt.hot) ||
				!reflect.DeepEqual(p.Ignored, tt.ignored) || !reflect.DeepEqual(p.Noop, tt.noop) ||
				!reflect.DeepEqual(p.RestartPaths, tt.restartP) {
				t.Errorf("NewPlan(%q, %q) = restart %v hot %q ignored %q noop %q restartPaths %q",
					tt.paths, tt.mode, p.Restart, p.HotKinds, p.Ignored, p.Noop, p.RestartPaths)
			}
			if p.Empty() != (!tt.restart && len(tt.hot) == 0) {
				t.Errorf("Empty() = %v", p.Empty())
			}
		})
	}
}
