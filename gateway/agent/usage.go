package agent

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// costTTL is how long a usage.cost summary is reused per days value.
const costTTL = 30 * time.Second

type costCache struct {
	at  time.Time
	res wire.UsageCostResult
}

// usageStatus is usage.status: provider quota APIs need the providers'
// OAuth logins, which this gateway does not hold, so the list is empty
// (what the original answers offline).
func (h *handlers) usageStatus(c *rpc.Call) (any, *wire.ErrorShape) {
	return wire.UsageStatusResult{UpdatedAt: h.r.now().UnixMilli(), Providers: []json.RawMessage{}}, nil
}

// usageCost is usage.cost {days?}: token and cost totals of the default
// agent's transcripts modified within the window, per local day.
func (h *handlers) usageCost(c *rpc.Call) (any, *wire.ErrorShape) {
	var p struct {
		Days any `json:"days"`
	}
	_ = json.Unmarshal(c.Params, &p)
	days := 30
	switch v := p.Days.(type) {
	case float64:
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			days = int(math.Floor(v))
		}
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			days = int(math.Floor(f))
		}
	}
	days = max(days, 1)
	now := h.r.now()
	h.costMu.Lock()
	defer h.costMu.Unlock()
	if cc, ok := h.cost[days]; ok && now.Sub(cc.at) < costTTL {
		return cc.res, nil
	}
	dir := filepath.Join(h.r.d.StateDir, "agents", h.r.d.Config().DefaultAgentID(), "sessions")
	res := scanCost(dir, days, now)
	h.cost[days] = costCache{at: now, res: res}
	return res, nil
}

func scanCost(dir string, days int, now time.Time) wire.UsageCostResult {
	since := now.AddDate(0, 0, -(days - 1))
	res := wire.UsageCostResult{UpdatedAt: now.UnixMilli(), Days: days, Daily: []wire.UsageDay{}}
	daily := map[string]*wire.UsageTotals{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil || !st.Mode().IsRegular() || st.ModTime().Before(since) {
			continue
		}
		scanFile(f, since, daily, &res.Totals)
	}
	for d, t := range daily {
		res.Daily = append(res.Daily, wire.UsageDay{Date: d, UsageTotals: *t})
	}
	sort.Slice(res.Daily, func(i, j int) bool { return res.Daily[i].Date < res.Daily[j].Date })
	return res
}

type costLine struct {
	Timestamp string `json:"timestamp"`
	Message   *struct {
		Role      string `json:"role"`
		Timestamp int64  `json:"timestamp"`
		Usage     *struct {
			Input       int64 `json:"input"`
			Output      int64 `json:"output"`
			CacheRead   int64 `json:"cacheRead"`
			CacheWrite  int64 `json:"cacheWrite"`
			TotalTokens int64 `json:"totalTokens"`
			Cost        *struct {
				Total *float64 `json:"total"`
			} `json:"cost"`
		} `json:"usage"`
	} `json:"message"`
}

func scanFile(path string, since time.Time, daily map[string]*wire.UsageTotals, totals *wire.UsageTotals) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		b := sc.Bytes()
		if !strings.Contains(string(b), `"assistant"`) {
			continue
		}
		var l costLine
		if json.Unmarshal(b, &l) != nil || l.Message == nil || l.Message.Role != "assistant" || l.Message.Usage == nil {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, l.Timestamp)
		if err != nil {
			if l.Message.Timestamp == 0 {
				continue
			}
			ts = time.UnixMilli(l.Message.Timestamp)
		}
		if ts.Before(since) {
			continue
		}
		day := ts.Local().Format("2006-01-02")
		bucket := daily[day]
		if bucket == nil {
			bucket = &wire.UsageTotals{}
			daily[day] = bucket
		}
		for _, t := range []*wire.UsageTotals{bucket, totals} {
			u := l.Message.Usage
			t.Input += u.Input
			t.Output += u.Output
			t.CacheRead += u.CacheRead
			t.CacheWrite += u.CacheWrite
			tot := u.TotalTokens
			if tot == 0 {
				tot = u.Input + u.Output + u.CacheRead + u.CacheWrite
			}
			t.TotalTokens += tot
			if u.Cost == nil || u.Cost.Total == nil || *u.Cost.Total < 0 {
				t.MissingCostEntries++
			} else {
				t.TotalCost += *u.Cost.Total
			}
		}
	}
}
