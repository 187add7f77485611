package system

import (
	"slices"
	"testing"
	"time"
)

// TestSystemLines is the original's prependSystemEvents over a queue: the
// time in the configured zone, heartbeat and periodic lines dropped, a
// Node: line without its "last input" part (the original's regexp takes the
// space before the next "·" too).
func TestSystemLines(t *testing.T) {
	at := time.Date(2026, 12, 2, 2, 41, 30, 0, time.UTC)
	events := []Event{
		{"Wake: check the mail", at},
		{"heartbeat poll", at},
		{"Node: mac-mini (10.0.0.2) · app 1.2 · last input 5m ago · mode node", at},
		{"cron: reason periodic", at},
		{"  ", at},
		{"Hook mail: 3 new", at.Add(time.Second)},
	}
	for _, tc := range []struct {
		envelope, user string
		want           []string
	}{
		{"utc", "", []string{"[2026-12-02T02:41:30Z] Wake: check the mail", "[2026-12-02T02:41:30Z] Node: mac-mini (10.0.0.2) · app 1.2· mode node", "[2026-12-02T02:41:31Z] Hook mail: 3 new"}},
		{"America/New_York", "", []string{"[2026-12-01 21:41:30 EST] Wake: check the mail", "[2026-12-01 21:41:30 EST] Node: mac-mini (10.0.0.2) · app 1.2· mode node", "[2026-12-01 21:41:31 EST] Hook mail: 3 new"}},
		{"user", "Asia/Kolkata", []string{"[2026-12-02 08:11:30 GMT+5:30] Wake: check the mail", "[2026-12-02 08:11:30 GMT+5:30] Node: mac-mini (10.0.0.2) · app 1.2· mode node", "[2026-12-02 08:11:31 GMT+5:30] Hook mail: 3 new"}},
	} {
		if got := SystemLines(events, tc.envelope, tc.user); !slices.Equal(got, tc.want) {
			t.Errorf("%s/%s:\n got %q\nwant %q", tc.envelope, tc.user, got, tc.want)
		}
	}
}

func TestEventTimeZones(t *testing.T) {
	at := time.Date(2026, 12, 2, 2, 41, 30, 0, time.UTC)
	for _, tc := range []struct{ envelope, user, want string }{
		{"GMT", "", "2026-12-02T02:41:30Z"},
		{"Europe/Berlin", "", "2026-12-02 03:41:30 GMT+1"},
		{"Europe/London", "", "2026-12-02 02:41:30 GMT"},
		{"America/Los_Angeles", "", "2026-12-01 18:41:30 PST"},
		{"Asia/Kathmandu", "", "2026-12-02 08:26:30 GMT+5:45"},
		{"Etc/GMT+3", "", "2026-12-01 23:41:30 GMT-3"},
		{"Not/AZone", "", at.Local().Format("2006-01-02 15:04:05") + " " + zoneName(at.Local())},
		{"local", "", at.Local().Format("2006-01-02 15:04:05") + " " + zoneName(at.Local())},
	} {
		if got := EventTime(at, tc.envelope, tc.user); got != tc.want {
			t.Errorf("EventTime(%q) = %q, want %q", tc.envelope, got, tc.want)
		}
	}
}

// TestDrainEmpties: the queue is taken once.
func TestDrainEmpties(t *testing.T) {
	s := &State{}
	s.Enqueue("one")
	s.Enqueue("one") // a consecutive duplicate is skipped
	s.Enqueue("two")
	if got := s.Drain(); len(got) != 2 || got[0].Text != "one" || got[1].Text != "two" || got[0].At.IsZero() {
		t.Fatalf("Drain = %+v", got)
	}
	if got := s.Drain(); len(got) != 0 {
		t.Errorf("second Drain = %+v", got)
	}
}

func zoneName(t time.Time) string { return zoned(t)[len("2006-01-02 15:04:05 "):] }
