package capture

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
)

// A record of several candidates keeps which candidate each answer came
// from and each one's verdict, and redacts every candidate's answer: a
// second candidate echoing the client's cookie writes no cookie to disk.
func TestWriterSeveralCandidates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const cookie = "sec-cookie-0123456789"
	echo := exchange.Response{Side: exchange.Candidate, Name: "v3", Status: 200,
		Header: http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"sid=" + cookie}},
		Body:   []byte(`{"echo":"session=` + cookie + `","password":"hunter2-long"}`)}
	rec := &ExchangeRecord{
		Exchange: exchange.Exchange{
			Request: exchange.Request{ID: "m1", Method: "GET", URL: "/a", Header: http.Header{"Cookie": {"session=" + cookie}}},
			Primary: exchange.Response{Side: exchange.Primary, Status: 200, Body: []byte(`{"a":1}`)},
			Candidate: exchange.Response{Side: exchange.Candidate, Name: "v2", Status: 200,
				Body: []byte(`{"a":1}`)},
			OtherCandidates: []exchange.Response{echo, {Side: exchange.Candidate, Name: "v4", NotSent: "queue_full"}},
		},
		Endpoint: "GET /a",
		Candidates: []CandidateVerdict{
			{Name: "v3", Differs: true, Diffs: []string{"body.$.echo"}},
			{Name: "v4"},
		},
	}
	if err := w.WriteExchange(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(w.Files()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{cookie, "hunter2-long"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("secret %q of the second candidate's answer is on disk", s)
		}
	}
	if rec.Exchange.OtherCandidates[0].Header.Get("Set-Cookie") != "sid="+cookie {
		t.Error("writing redacted the caller's record")
	}
	r, err := Open(filepath.Join(dir, filepath.Base(w.Files()[0])))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAllRecords(t, r)
	if len(got) != 1 {
		t.Fatalf("read %d records, want 1", len(got))
	}
	x := got[0].Exchange
	if x.Exchange.Candidate.Name != "v2" || len(x.Exchange.OtherCandidates) != 2 ||
		x.Exchange.OtherCandidates[0].Name != "v3" || x.Exchange.OtherCandidates[1].NotSent != "queue_full" {
		t.Errorf("candidates read back: %q, %+v", x.Exchange.Candidate.Name, x.Exchange.OtherCandidates)
	}
	if diff := cmp.Diff(rec.Candidates, x.Candidates); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
}
