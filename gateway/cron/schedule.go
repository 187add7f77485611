package cron

import (
	"fmt"
	"strings"
	"sync"
	"time"

	robfig "github.com/robfig/cron/v3"

	"github.com/clawdbot/clawdbot/wire"
)

// exprParser reads the expressions the original's croner accepts in
// practice: five fields, or six with leading seconds, and the @hourly-style
// descriptors.
var exprParser = robfig.NewParser(robfig.SecondOptional | robfig.Minute | robfig.Hour | robfig.Dom |
	robfig.Month | robfig.Dow | robfig.Descriptor)

// parsedExprs caches parsed expressions: the timer recomputes every job's
// next run after each run.
var parsedExprs sync.Map // string → robfig.Schedule

// ParseExpr parses a cron expression, with a one-line error naming the
// accepted forms.
func ParseExpr(expr string) (robfig.Schedule, error) {
	expr = strings.TrimSpace(expr)
	if v, ok := parsedExprs.Load(expr); ok {
		return v.(robfig.Schedule), nil
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, fmt.Errorf("invalid cron expression %q: give the time zone as tz, not in the expression", expr)
	}
	s, err := exprParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %v (use 5 fields \"m h dom mon dow\", 6 with leading seconds, or @daily/@hourly/...)", expr, err)
	}
	parsedExprs.Store(expr, s)
	return s, nil
}

// loadZone resolves a schedule's tz ("" : the host's zone).
func loadZone(tz string) (*time.Location, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("invalid time zone %q: use an IANA name such as Europe/Vienna", tz)
	}
	return loc, nil
}

// ValidateSchedule reports why s cannot be scheduled (nil: it can).
func ValidateSchedule(s wire.CronSchedule) error {
	switch s.Kind {
	case wire.CronAt:
		if s.AtMs == nil || *s.AtMs < 0 {
			return fmt.Errorf("schedule kind %q requires atMs (ms since the epoch) or at (an ISO time)", s.Kind)
		}
	case wire.CronEvery:
		if s.EveryMs == nil || *s.EveryMs < 1 {
			return fmt.Errorf("schedule kind %q requires everyMs >= 1", s.Kind)
		}
	case wire.CronExpr:
		if strings.TrimSpace(s.Expr) == "" {
			return fmt.Errorf("schedule kind %q requires expr", s.Kind)
		}
		if _, err := ParseExpr(s.Expr); err != nil {
			return err
		}
		if _, err := loadZone(s.TZ); err != nil {
			return err
		}
	default:
		return fmt.Errorf("schedule kind must be at, every or cron (got %q)", s.Kind)
	}
	return nil
}

// NextRunAt is the original's computeNextRunAtMs: the first run strictly
// after now (ms since the epoch), or nil when there is none. "at" runs
// once at atMs; "every" runs at anchor + k·everyMs (anchor defaults to
// now, so an unanchored job runs everyMs after each computation); "cron"
// runs at the expression's next match in tz, DST included: a local time
// skipped by a spring-forward gap does not run that day, a repeated one
// runs once (robfig's rules).
func NextRunAt(s wire.CronSchedule, nowMs int64) *int64 {
	switch s.Kind {
	case wire.CronAt:
		if s.AtMs != nil && *s.AtMs > nowMs {
			return ptr(*s.AtMs)
		}
		return nil
	case wire.CronEvery:
		if s.EveryMs == nil {
			return nil
		}
		every := max(1, *s.EveryMs)
		anchor := nowMs
		if s.AnchorMs != nil {
			anchor = max(0, *s.AnchorMs)
		}
		if nowMs < anchor {
			return ptr(anchor)
		}
		steps := max(1, (nowMs-anchor+every-1)/every)
		return ptr(anchor + steps*every)
	case wire.CronExpr:
		sched, err := ParseExpr(s.Expr)
		if err != nil {
			return nil
		}
		loc, err := loadZone(s.TZ)
		if err != nil {
			return nil
		}
		next := sched.Next(time.UnixMilli(nowMs).In(loc))
		if next.IsZero() {
			return nil
		}
		return ptr(next.UnixMilli())
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
