package channels

import (
	"context"
	"encoding/json"
	"maps"
	"sync"
	"time"
)

// Probe timeouts of channels.status (doc/messaging.md §1.14): 10 s by
// default, a given value raised to at least 1 s; ours is also capped so a
// client cannot hold a handler for long.
const (
	DefaultProbeTimeout = 10 * time.Second
	MinProbeTimeout     = time.Second
	MaxProbeTimeout     = 60 * time.Second
)

// ChannelMetaJSON is one channelMeta entry.
type ChannelMetaJSON struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	DetailLabel string `json:"detailLabel"`
	SystemImage string `json:"systemImage"`
}

// StatusSnapshot is channels.status's answer.
type StatusSnapshot struct {
	TS                      int64                       `json:"ts"`
	ChannelOrder            []string                    `json:"channelOrder"`
	ChannelLabels           map[string]string           `json:"channelLabels"`
	ChannelDetailLabels     map[string]string           `json:"channelDetailLabels"`
	ChannelSystemImages     map[string]string           `json:"channelSystemImages"`
	ChannelMeta             []ChannelMetaJSON           `json:"channelMeta"`
	Channels                map[string]map[string]any   `json:"channels"`
	ChannelAccounts         map[string][]map[string]any `json:"channelAccounts"`
	ChannelDefaultAccountID map[string]string           `json:"channelDefaultAccountId"`
}

// row is the account's status row: the manager's common fields, then the
// plugin's config-derived and runtime fields over them. The probe result
// is shown only in the answer of the call that probed (withProbe);
// lastProbeAt stays.
func (r *accountRunner) row(withProbe bool) map[string]any {
	a := r.acct()
	desc := Description{Enabled: Enabled(r.cfg.Section, r.cfg.Merged)}
	if a != nil {
		if err := safeCall(func() error { desc = a.Describe(); return nil }); err != nil {
			desc.Fields = map[string]any{}
		}
	}
	out := map[string]any{"accountId": r.id, "enabled": desc.Enabled, "configured": desc.Configured}
	maps.Copy(out, desc.Fields)
	r.mu.Lock()
	defer r.mu.Unlock()
	out["running"] = r.running
	out["lastStartAt"] = r.lastStartAt
	out["lastStopAt"] = r.lastStopAt
	out["lastError"] = r.lastError
	out["lastInboundAt"] = r.lastInboundAt
	out["lastOutboundAt"] = r.lastOutboundAt
	maps.Copy(out, r.status)
	if r.lastProbeAt != nil {
		out["lastProbeAt"] = r.lastProbeAt
	}
	if withProbe && r.probe != nil {
		out["probe"] = *r.probe
	}
	return out
}

// runProbe probes the account when it can be probed (enabled, configured,
// a Prober), bounded by ctx.
func (r *accountRunner) runProbe(ctx context.Context) {
	a := r.acct()
	p, ok := a.(Prober)
	if !ok {
		return
	}
	d := a.Describe()
	if !d.Enabled || !d.Configured {
		return
	}
	var res ProbeResult
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := safeCall(func() error { res = p.Probe(ctx); return nil }); err != nil {
			res = ProbeResult{Error: err.Error()}
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		res = ProbeResult{Error: "probe timed out"}
	}
	if res.ElapsedMs == 0 {
		res.ElapsedMs = time.Since(start).Milliseconds()
	}
	r.mu.Lock()
	r.probe, r.lastProbeAt = &res, r.nowMs()
	r.mu.Unlock()
}

// Status is channels.status: every loaded channel and its accounts, probed
// first (in parallel, within timeout) when probe is set.
func (m *Manager) Status(ctx context.Context, probe bool, timeout time.Duration) StatusSnapshot {
	m.ensure()
	if probe {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		var wg sync.WaitGroup
		for _, p := range m.plugins {
			for _, r := range m.accountsOf(p.Meta().ID) {
				wg.Go(func() { r.runProbe(ctx) })
			}
		}
		wg.Wait()
		cancel()
	}
	s := StatusSnapshot{TS: m.d.Now().UnixMilli(), ChannelOrder: []string{}, ChannelLabels: map[string]string{},
		ChannelDetailLabels: map[string]string{}, ChannelSystemImages: map[string]string{}, ChannelMeta: []ChannelMetaJSON{},
		Channels: map[string]map[string]any{}, ChannelAccounts: map[string][]map[string]any{}, ChannelDefaultAccountID: map[string]string{}}
	for _, p := range m.plugins {
		meta := p.Meta()
		id := meta.ID
		s.ChannelOrder = append(s.ChannelOrder, id)
		s.ChannelLabels[id] = meta.Label
		s.ChannelDetailLabels[id] = meta.DetailLabel
		s.ChannelSystemImages[id] = meta.SystemImage
		s.ChannelMeta = append(s.ChannelMeta, ChannelMetaJSON{ID: id, Label: meta.Label, DetailLabel: meta.DetailLabel, SystemImage: meta.SystemImage})
		def := m.defaultAccountOf(id)
		s.ChannelDefaultAccountID[id] = def
		rows := []map[string]any{}
		var defRow map[string]any
		for _, r := range m.accountsOf(id) {
			row := r.row(probe)
			rows = append(rows, row)
			if r.id == def {
				defRow = row
			}
		}
		s.ChannelAccounts[id] = rows
		s.Channels[id] = summaryOf(p, defRow)
	}
	return s
}

// summaryOf is the channel summary: the plugin's Summarizer, else the
// default account's row without accountId and enabled.
func summaryOf(p Plugin, defRow map[string]any) map[string]any {
	if defRow == nil {
		defRow = map[string]any{"configured": false, "running": false, "lastError": nil}
	}
	if s, ok := p.(Summarizer); ok {
		return s.Summary(maps.Clone(defRow))
	}
	out := maps.Clone(defRow)
	delete(out, "accountId")
	delete(out, "enabled")
	delete(out, "lastInboundAt")
	delete(out, "lastOutboundAt")
	if _, ok := out["lastProbeAt"]; !ok {
		out["lastProbeAt"] = nil
	}
	return out
}

// HealthChannels is the health summary's channels section: per channel
// the default account's summary plus "accounts" {id: row}, and the
// channel order and labels (doc/messaging.md §1.14).
func (m *Manager) HealthChannels() (channels map[string]json.RawMessage, order []string, labels map[string]string) {
	s := m.Status(context.Background(), false, 0)
	channels = map[string]json.RawMessage{}
	for _, id := range s.ChannelOrder {
		sum := maps.Clone(s.Channels[id])
		accts := map[string]any{}
		for _, row := range s.ChannelAccounts[id] {
			accts[row["accountId"].(string)] = row
		}
		sum["accounts"] = accts
		sum["accountId"] = s.ChannelDefaultAccountID[id]
		b, err := json.Marshal(sum)
		if err == nil {
			channels[id] = b
		}
	}
	return channels, s.ChannelOrder, s.ChannelLabels
}

// SummaryLines is status's channelSummary: "<Label>: <state>" per channel
// (linked / not linked for channels that report linked, else configured /
// not configured, or disabled), then a line per account when there are
// several.
func (m *Manager) SummaryLines() []string {
	s := m.Status(context.Background(), false, 0)
	lines := []string{}
	for _, id := range s.ChannelOrder {
		sum := s.Channels[id]
		rows := s.ChannelAccounts[id]
		anyEnabled := false
		for _, r := range rows {
			if e, _ := r["enabled"].(bool); e {
				anyEnabled = true
			}
		}
		state := "not configured"
		if c, _ := sum["configured"].(bool); c {
			state = "configured"
		}
		if l, ok := sum["linked"].(bool); ok {
			state = "not linked"
			if l {
				state = "linked"
			}
		}
		if !anyEnabled {
			state = "disabled"
		}
		lines = append(lines, s.ChannelLabels[id]+": "+state)
		if len(rows) > 1 {
			for _, r := range rows {
				lines = append(lines, "  - "+r["accountId"].(string))
			}
		}
	}
	return lines
}

// LinkChannel is the first channel whose summary reports linked (status's
// linkChannel), or ok false.
func (m *Manager) LinkChannel() (id, label string, linked bool, authAgeMs *int64, ok bool) {
	s := m.Status(context.Background(), false, 0)
	for _, cid := range s.ChannelOrder {
		sum := s.Channels[cid]
		l, has := sum["linked"].(bool)
		if !has {
			continue
		}
		switch v := sum["authAgeMs"].(type) {
		case int64:
			authAgeMs = &v
		case *int64:
			authAgeMs = v
		case float64:
			n := int64(v)
			authAgeMs = &n
		}
		return cid, s.ChannelLabels[cid], l, authAgeMs, true
	}
	return "", "", false, nil, false
}
