package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// largeSnapshot is a busy instance: 200 endpoints with fields and
// exemplars, and a runner with 50 steps.
func largeSnapshot(i int) Snapshot {
	sh := shadowAt(i)
	base := sh.Endpoints
	sh.Endpoints = make([]Endpoint, 0, 200)
	for j := range 200 {
		e := base[j%len(base)]
		e.Route = fmt.Sprintf("%s/v%d", e.Route, j)
		e.Pairs += uint64(j * 17)
		e.DiffRate = float64((j*37)%100) / 1000
		sh.Endpoints = append(sh.Endpoints, e)
	}
	sy := synthAt(i)
	steps := sy.Steps
	sy.Steps = make([]Step, 0, 50)
	for j := range 50 {
		s := steps[j%len(steps)]
		s.Name = fmt.Sprintf("%s #%d", s.Name, j)
		sy.Steps = append(sy.Steps, s)
	}
	return Snapshot{Time: t0.Add(time.Duration(i) * time.Second), Shadow: sh, Synth: sy}
}

// loadedModel returns a dashboard at w×h that has applied 120 large
// snapshots (a full chart history).
func loadedModel(w, h int) Model {
	var m tea.Model = New(nil, Options{Controller: &fakeController{}})
	m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for i := range historyLen {
		m, _ = m.Update(snapshotMsg{seq: uint64(i + 1), snap: largeSnapshot(i)})
	}
	return m.(Model)
}

// BenchmarkView measures one redraw of a busy dashboard: what the program
// pays per frame, at most 10 times a second.
func BenchmarkView(b *testing.B) {
	for _, tc := range []struct {
		name string
		keys []tea.KeyMsg
	}{
		{name: "shadow"},
		{name: "synth", keys: []tea.KeyMsg{keyTab}},
		{name: "exemplar", keys: []tea.KeyMsg{keyEnter, keyEnter}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var m tea.Model = loadedModel(120, 40)
			for _, k := range tc.keys {
				m, _ = m.Update(k)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkSnapshot measures applying one large snapshot: sorting 200
// endpoints, laying out the views, and redrawing both charts once per
// second of snapshot time. "poll" spaces snapshots 100ms apart (the
// default interval: one chart redraw in ten), "second" 1s apart (a redraw
// every time).
func BenchmarkSnapshot(b *testing.B) {
	for _, tc := range []struct {
		name    string
		spacing time.Duration
	}{{"poll", DefaultInterval}, {"second", time.Second}} {
		b.Run(tc.name, func(b *testing.B) {
			var m tea.Model = loadedModel(120, 40)
			snaps := make([]Snapshot, 64)
			for i := range snaps {
				snaps[i] = largeSnapshot(historyLen + i)
			}
			start := t0.Add(historyLen * time.Second)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				s := snaps[i%len(snaps)]
				s.Time = start.Add(time.Duration(i) * tc.spacing)
				m, _ = m.Update(snapshotMsg{seq: uint64(historyLen + i + 1), snap: s})
				i++
			}
		})
	}
}
