package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/schedule"
)

var (
	descScheduleRuns = prometheus.NewDesc("synth_schedule_runs_total",
		"Scheduled starts by scenario (the schedule entry's name) and result: passed, failed, aborted, stopped, error (could not run), skipped_overlap (the scenario was still running), skipped_blackout.",
		[]string{"scenario", "result"}, nil)
	descScheduleRetries = prometheus.NewDesc("synth_schedule_retries_total",
		"Retries of failed scheduled runs.", []string{"scenario"}, nil)
	descScheduleRunning = prometheus.NewDesc("synth_schedule_running",
		"1 while a scheduled run of the entry is in progress, else 0.", []string{"scenario"}, nil)
	descScheduleNext = prometheus.NewDesc("synth_schedule_next_run_timestamp_seconds",
		"When the entry is next due, as a Unix time; absent when it is disabled.", []string{"scenario"}, nil)
	descScheduleLastPass = prometheus.NewDesc("synth_schedule_last_success_timestamp_seconds",
		"When a run of the entry last passed, as a Unix time; absent before the first. Alert on time() minus this.",
		[]string{"scenario"}, nil)
)

// NewSchedule registers the scheduler's metrics on reg; status
// (schedule.Scheduler.Status) is read at every scrape. Entry names are the
// scenario label: they come from the schedule file, so they are few.
func NewSchedule(reg prometheus.Registerer, status func() []schedule.EntryStatus) error {
	if status == nil {
		return errors.New("schedule metrics: status: required")
	}
	if err := reg.Register(scheduleCollector{status}); err != nil {
		return fmt.Errorf("schedule metrics: %w", err)
	}
	return nil
}

// scheduleCollector emits the scheduler's status at scrape time.
type scheduleCollector struct{ status func() []schedule.EntryStatus }

func (c scheduleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descScheduleRuns, descScheduleRetries, descScheduleRunning,
		descScheduleNext, descScheduleLastPass} {
		ch <- d
	}
}

func (c scheduleCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.status() {
		for _, r := range schedule.Results {
			ch <- prometheus.MustNewConstMetric(descScheduleRuns, prometheus.CounterValue, float64(st.Counts[r]), st.Name, string(r))
		}
		ch <- prometheus.MustNewConstMetric(descScheduleRetries, prometheus.CounterValue, float64(st.Retries), st.Name)
		running := 0.0
		if st.Running {
			running = 1
		}
		ch <- prometheus.MustNewConstMetric(descScheduleRunning, prometheus.GaugeValue, running, st.Name)
		if !st.Next.IsZero() {
			ch <- prometheus.MustNewConstMetric(descScheduleNext, prometheus.GaugeValue, float64(st.Next.Unix()), st.Name)
		}
		if !st.LastPassed.IsZero() {
			ch <- prometheus.MustNewConstMetric(descScheduleLastPass, prometheus.GaugeValue, float64(st.LastPassed.Unix()), st.Name)
		}
	}
}
