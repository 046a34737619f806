package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/exchange"
)

// candidatesFixture is fixture() with two named candidates: v2 answers
// exactly as the primary does, v3 as fixture's candidate; v4 was not sent
// the /health requests (its queue was full) and failed the rest, so it is
// inconclusive (unreachable), neither passing nor failing.
func candidatesFixture() []*exchange.Exchange {
	xs := fixture()
	for _, x := range xs {
		v3 := x.Candidate
		v3.Name = "v3"
		v2 := x.Primary
		v2.Side, v2.Name = exchange.Candidate, "v2"
		if !v2.OK() {
			v2 = answer(200, "{}")
			v2.Side, v2.Name = exchange.Candidate, "v2"
		}
		v4 := exchange.Response{Side: exchange.Candidate, Name: "v4", Error: "send: connection refused", ErrorKind: "refused"}
		if strings.HasPrefix(x.Request.URL, "/health") {
			v4 = exchange.Response{Side: exchange.Candidate, Name: "v4", NotSent: "queue_full"}
		}
		x.Candidate, x.OtherCandidates = v2, []exchange.Response{v3, v4}
	}
	return xs
}

func candidatesReport(t *testing.T) *Report {
	t.Helper()
	e := mustEngine(t, Config{Seed: 42, Exemplars: 2, Normalizers: []Normalizer{{Kind: Ignore, Path: "$.items[*].eta"}}})
	for _, x := range candidatesFixture() {
		e.Observe(x)
	}
	return e.Report()
}

// Each candidate is judged on its own against the primary, with the same
// secondary answers: the one that answers like the primary passes, the
// one that changes a field fails, and the report fails naming it only.
func TestSeveralCandidatesJudgedEachOnItsOwn(t *testing.T) {
	t.Parallel()
	r := candidatesReport(t)
	single := fixtureReport(t)
	if len(r.Candidates) != 3 {
		t.Fatalf("Candidates = %d, want 3", len(r.Candidates))
	}
	v2, v3, v4 := r.Candidates[0], r.Candidates[1], r.Candidates[2]
	if v2.Name != "v2" || v2.Verdict != Pass || v2.Totals.Diffs != 0 || v2.Totals.Pairs != single.Totals.Pairs+single.Totals.CandidateErrors {
		t.Errorf("v2 = %s %s, %d diffs of %d pairs; want a pass with no diffs", v2.Name, v2.Verdict, v2.Totals.Diffs, v2.Totals.Pairs)
	}
	if v3.Name != "v3" || v3.Verdict != single.Verdict || !reflect.DeepEqual(v3.Totals, single.Totals) || len(v3.Endpoints) != len(single.Endpoints) {
		t.Errorf("v3 = %s %s %+v; want exactly the single-candidate report's %s %+v", v3.Name, v3.Verdict, v3.Totals, single.Verdict, single.Totals)
	}
	// v3 sees the same noise as the single candidate did: the secondary's
	// answers apply to every candidate.
	for i := range v3.Endpoints {
		got, want := v3.Endpoints[i], single.Endpoints[i]
		if got.SecondarySamples != want.SecondarySamples || got.NoiseOnly != want.NoiseOnly || got.Verdict != want.Verdict {
			t.Errorf("v3 %s: secondary %d noise-only %d %s; single candidate %d %d %s", endpointName(&got),
				got.SecondarySamples, got.NoiseOnly, got.Verdict, want.SecondarySamples, want.NoiseOnly, want.Verdict)
		}
	}
	if v4.Totals.Exchanges != single.Totals.Exchanges-3 || v4.Totals.Pairs != 0 || v4.Totals.CandidateErrorKinds["refused"] == 0 {
		t.Errorf("v4 totals %+v: want the 3 requests it was not sent left out, every other one a refused error", v4.Totals)
	}
	if v3.Verdict != Fail || r.Verdict != Fail {
		t.Fatalf("verdicts: v3 %s, report %s; want both fail", v3.Verdict, r.Verdict)
	}
	if r.Reasons[0] != "candidate v3 fails; candidate v4 is inconclusive; candidate v2 passes" {
		t.Errorf("first reason %q: want it to name v3 and v4 as failing and v2 as passing", r.Reasons[0])
	}
	for _, why := range r.Reasons[1:] {
		if !strings.HasPrefix(why, "v3: ") && !strings.HasPrefix(why, "v4: ") && !strings.HasPrefix(why, "v2: ") {
			t.Errorf("reason %q names no candidate", why)
		}
		if strings.HasPrefix(why, "v2: ") && strings.Contains(why, "differ (max") {
			t.Errorf("reason %q fails v2", why)
		}
	}
	// The top level stays a valid one-candidate report: the first one's.
	if !reflect.DeepEqual(r.Totals, v2.Totals) || len(r.Endpoints) != len(v2.Endpoints) {
		t.Errorf("top-level totals %+v, want the first candidate's %+v", r.Totals, v2.Totals)
	}
}

// Record returns each candidate's judgement, in order, named.
func TestRecordJudgesEveryCandidate(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	p := answer(200, `{"a":1}`)
	x := pairOf("GET", "/a", p, p)
	x.Candidate.Name = "v2"
	c := answer(200, `{"a":2}`)
	c.Side, c.Name = exchange.Candidate, "v3"
	x.OtherCandidates = []exchange.Response{c, {Side: exchange.Candidate, Name: "v4", NotSent: "stale"}}
	res := e.Record(x)
	if res.Candidate != "v2" || res.Differs || len(res.Others) != 2 {
		t.Fatalf("Record = %s differs=%v with %d others; want v2 equal, 2 others", res.Candidate, res.Differs, len(res.Others))
	}
	if o := res.Others[0]; o.Candidate != "v3" || !o.Differs || len(o.Body) != 1 || o.Body[0].Path != "$.a" {
		t.Errorf("Others[0] = %s differs=%v %v; want v3 differing at $.a", o.Candidate, o.Differs, o.Body)
	}
	if o := res.Others[1]; o.Candidate != "v4" || o.Outcome != NotSent {
		t.Errorf("Others[1] = %s %s; want v4 not sent", o.Candidate, o.Outcome)
	}
	if got := e.Compare(x); len(got.Others) != 2 || !got.Others[0].Differs {
		t.Errorf("Compare = %+v; want the same judgements", got)
	}
}

// A single unnamed candidate's report has no candidates list: its JSON is
// what it was before several candidates existed.
func TestSingleCandidateReportHasNoCandidates(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := fixtureReport(t).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["candidates"]; ok {
		t.Error(`a single candidate's report has "candidates"`)
	}
}

// Names past MaxCandidates are not judged, and the report says so.
func TestCandidatesAreBounded(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	p := answer(200, `{}`)
	x := pairOf("GET", "/a", p, p)
	x.Candidate.Name = "c0"
	for i := range MaxCandidates + 4 {
		c := p
		c.Side, c.Name = exchange.Candidate, "c"+strings.Repeat("x", i+1)
		x.OtherCandidates = append(x.OtherCandidates, c)
	}
	e.Observe(x)
	r := e.Report()
	if len(r.Candidates) != MaxCandidates {
		t.Errorf("Candidates = %d, want %d", len(r.Candidates), MaxCandidates)
	}
	if last := r.Reasons[len(r.Reasons)-1]; !strings.Contains(last, "5 answers of candidates past the first 16 were not judged") {
		t.Errorf("last reason %q, want the refused answers counted", last)
	}
}

func TestCandidatesReportGolden(t *testing.T) {
	t.Parallel()
	r := candidatesReport(t)
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"candidates.json", func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
		{"candidates.md", func(b *bytes.Buffer) error { return r.WriteMarkdown(b) }},
		{"candidates.xml", func(b *bytes.Buffer) error { return r.WriteJUnit(b) }},
		{"candidates.html", func(b *bytes.Buffer) error { return r.WriteHTML(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, f.name, b.Bytes())
	}
}

// Every report shows a column per candidate: the JUnit file a suite per
// candidate with a case per endpoint, the HTML page a column per
// candidate in its table and a section of endpoints each.
func TestCandidatesReportColumns(t *testing.T) {
	t.Parallel()
	r := candidatesReport(t)
	var h, x, m bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJUnit(&x); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&m); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"v2", "v3", "v4"} {
		if n := strings.Count(h.String(), `<th data-candidate="`+name+`">`); n != 1 {
			t.Errorf("HTML: %d columns for %s, want 1", n, name)
		}
		if n := strings.Count(h.String(), `<section class="candidate" id="`); n != 3 {
			t.Errorf("HTML: %d candidate sections, want 3", n)
		}
		want := 4 // 3 endpoints and the verdict
		if name == "v4" {
			want = 3 // never sent GET /health
		}
		if n := strings.Count(x.String(), `classname="shadow.`+name+`"`); n != want {
			t.Errorf("JUnit: %d cases for %s, want %d", n, name, want)
		}
		if !strings.Contains(m.String(), "# Candidate `"+name+"`") {
			t.Errorf("Markdown: no section for %s", name)
		}
	}
	if !strings.Contains(m.String(), "|  | `v2` | `v3` | `v4` |") {
		t.Error("Markdown: no table with a column per candidate")
	}
}

// BenchmarkRecordCandidates measures recording one exchange of 1 KiB
// order bodies with a secondary, judged for one candidate and for two
// (the second changing a price), so the cost of a second candidate is
// the ratio of the two in one run.
func BenchmarkRecordCandidates(b *testing.B) {
	order, _, priceChanged, tsChanged := benchBodies(b)
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("candidates=%d", n), func(b *testing.B) {
			e := mustEngine(b, Config{Seed: 1})
			x := tripleOf("GET", "/orders/1", answer(200, string(order)), answer(200, string(tsChanged)), answer(200, string(order)))
			if n > 1 {
				x.Candidate.Name = "v2"
				c := answer(200, string(priceChanged))
				c.Side, c.Name = exchange.Candidate, "v3"
				x.OtherCandidates = []exchange.Response{c}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e.Record(x)
			}
		})
	}
}

// FewestPairs counts every candidate's endpoints: a run waiting for
// enough pairs waits for the slowest candidate too.
func TestFewestPairsCountsEveryCandidate(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	p := answer(200, `{}`)
	for i := range 5 {
		x := pairOf("GET", "/a", p, p)
		x.Candidate.Name = "v2"
		v3 := p
		v3.Side, v3.Name = exchange.Candidate, "v3"
		if i >= 2 {
			v3 = exchange.Response{Side: exchange.Candidate, Name: "v3", NotSent: "queue_full"}
		}
		x.OtherCandidates = []exchange.Response{v3}
		e.Observe(x)
	}
	if pairs, eps := e.FewestPairs(); pairs != 2 || eps != 1 {
		t.Errorf("FewestPairs = %d pairs over %d endpoints, want v3's 2 over 1", pairs, eps)
	}
}

// The secondary is compared with the primary once per exchange, whatever
// the number of candidates: every candidate's Result holds the same noise.
func TestNoiseComparedOncePerExchange(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	x := tripleOf("GET", "/a", answer(200, `{"a":1,"ts":1}`), answer(200, `{"a":1,"ts":2}`), answer(200, `{"a":1,"ts":3}`))
	x.Candidate.Name = "v2"
	c := answer(200, `{"a":2,"ts":4}`)
	c.Side, c.Name = exchange.Candidate, "v3"
	x.OtherCandidates = []exchange.Response{c}
	res := e.Record(x)
	if len(res.Noise) != 1 || len(res.Others) != 1 || len(res.Others[0].Noise) != 1 {
		t.Fatalf("noise %v and %v, want $.ts once each", res.Noise, res.Others)
	}
	if &res.Noise[0] != &res.Others[0].Noise[0] {
		t.Error("each candidate compared the secondary again: their noise lists are not one")
	}
	if res.Differs || !res.Others[0].Differs {
		t.Errorf("v2 differs=%v, v3 differs=%v; want only v3 ($.a)", res.Differs, res.Others[0].Differs)
	}
}
