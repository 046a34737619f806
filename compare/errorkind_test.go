package compare

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
)

// TestCandidateErrorKinds counts candidate errors by the kind the proxy
// gave them, per endpoint and in total, and names them in the Markdown
// summary.
func TestCandidateErrorKinds(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	ok := answer(200, `{"a":1}`)
	kinded := func(msg, kind string, timeout bool) *exchange.Response {
		r := failed(msg, timeout)
		r.ErrorKind = kind
		return &r
	}
	e.Observe(pairOf("GET", "/a", ok, *kinded("send: tls: failed to verify certificate", "tls", false)))
	e.Observe(pairOf("GET", "/a", ok, *kinded("send: tls: failed to verify certificate", "tls", false)))
	e.Observe(pairOf("GET", "/b", ok, *kinded("send: no complete answer within 5s", "timeout", true)))
	e.Observe(pairOf("GET", "/b", ok, *kinded("recorded before kinds existed", "", false)))
	e.Observe(pairOf("GET", "/b", ok, ok))
	r := e.Report()
	want := map[string]int64{"tls": 2, "timeout": 1}
	if diff := cmp.Diff(want, r.Totals.CandidateErrorKinds); diff != "" {
		t.Errorf("totals by kind (-want +got):\n%s", diff)
	}
	for _, ep := range r.Endpoints {
		want := map[string]map[string]int64{"/a": {"tls": 2}, "/b": {"timeout": 1}}[ep.Route]
		if diff := cmp.Diff(want, ep.CandidateErrorKinds); diff != "" {
			t.Errorf("%s by kind (-want +got):\n%s", ep.Route, diff)
		}
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if line := "| Candidate errors | 4 (80%; 1 timeout; by kind: tls 2, timeout 1) |"; !strings.Contains(md.String(), line) {
		t.Errorf("the summary has no line %q:\n%s", line, md.String())
	}
}
