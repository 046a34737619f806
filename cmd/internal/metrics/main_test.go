package metrics

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

// update rewrites golden files under testdata/ instead of comparing.
var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// wait bounds every wait of the tests: long enough never to be reached on
// a loaded machine, short enough that a hang fails rather than stalls.
const wait = 30 * time.Second

// TestMain fails the package if a goroutine outlives the tests: every
// proxy, runner and server a test starts must be stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// series gathers g and flattens the families named (all when none are
// named) into one value per series, keyed like the text format:
// `name{label="value",...}`. Counters and gauges give their value;
// histograms and summaries give only name_count, the one figure of theirs
// that does not depend on timing (sums, buckets and quantiles are checked
// where they matter, through families).
func series(t testing.TB, g prometheus.Gatherer, names ...string) map[string]float64 {
	t.Helper()
	out, err := flatten(g, false, names...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flatten is series without a testing.TB, for goroutines other than the
// test's; with sums it adds name_sum of histograms and summaries.
func flatten(g prometheus.Gatherer, sums bool, names ...string) (map[string]float64, error) {
	mfs, err := gather(g, names...)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key(name, m.GetLabel())] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key(name, m.GetLabel())] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key(name+"_count", m.GetLabel())] = float64(m.GetHistogram().GetSampleCount())
				if sums {
					out[key(name+"_sum", m.GetLabel())] = m.GetHistogram().GetSampleSum()
				}
			case dto.MetricType_SUMMARY:
				out[key(name+"_count", m.GetLabel())] = float64(m.GetSummary().GetSampleCount())
				if sums {
					out[key(name+"_sum", m.GetLabel())] = m.GetSummary().GetSampleSum()
				}
			default:
				return nil, fmt.Errorf("%s: unexpected metric type %s", name, mf.GetType())
			}
		}
	}
	return out, nil
}

// families gathers g and returns the families named (all when none are
// named).
func families(t testing.TB, g prometheus.Gatherer, names ...string) []*dto.MetricFamily {
	t.Helper()
	mfs, err := gather(g, names...)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func gather(g prometheus.Gatherer, names ...string) ([]*dto.MetricFamily, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	if len(names) == 0 {
		return mfs, nil
	}
	var out []*dto.MetricFamily
	for _, mf := range mfs {
		if slices.Contains(names, mf.GetName()) {
			out = append(out, mf)
		}
	}
	return out, nil
}

// key names a series as the text format does.
func key(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// sk builds a series key from a name and label pairs in label-name order:
// sk("x_total", "route", "GET /a") is `x_total{route="GET /a"}`.
func sk(name string, kv ...string) string {
	labels := make([]*dto.LabelPair, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		labels = append(labels, &dto.LabelPair{Name: &kv[i], Value: &kv[i+1]})
	}
	return key(name, labels)
}

// checkSeries fails t when got differs from want, showing the difference.
func checkSeries(t testing.TB, got, want map[string]float64) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series differ (-want +got):\n%s", diff)
	}
}

// lintClean fails t when g exposes metrics that break the Prometheus
// naming and documentation conventions (what promtool check metrics and
// testutil.CollectAndLint report).
func lintClean(t testing.TB, g prometheus.Gatherer) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	if len(mfs) == 0 {
		t.Fatal("nothing gathered to lint")
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// waitFor receives from ch or fails t after wait.
func waitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
