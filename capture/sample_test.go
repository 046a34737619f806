package capture

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/understudy-dev/understudy/exchange"
)

// base is a fixed instant so that sample records are deterministic.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// sampleExchange returns an exchange record without secrets, numbered i.
func sampleExchange(i int) *ExchangeRecord {
	body := fmt.Sprintf(`{"id":%d,"items":[{"sku":"A-%d","qty":2}],"total":"12.50"}`, i, i)
	x := exchange.Exchange{
		Request: exchange.Request{
			ID:       fmt.Sprintf("req-%d", i),
			Method:   http.MethodGet,
			URL:      fmt.Sprintf("/orders/%d?expand=items", i),
			Host:     "orders.internal",
			Header:   http.Header{"Accept": {"application/json"}, "X-Request-Id": {fmt.Sprint(i)}},
			Received: base.Add(time.Duration(i) * time.Millisecond),
		},
		Route: "orders",
		Primary: exchange.Response{
			Side: exchange.Primary, Status: 200,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    []byte(body),
			Size:    int64(len(body)),
			Latency: 3 * time.Millisecond,
		},
		Secondary: &exchange.Response{
			Side: exchange.Secondary, Status: 200,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    []byte(body),
			Size:    int64(len(body)),
			Latency: 4 * time.Millisecond,
		},
		Candidate: exchange.Response{
			Side: exchange.Candidate, Status: 500,
			Header:  http.Header{"Content-Type": {"text/plain"}},
			Trailer: http.Header{"X-Checksum": {"abc"}},
			Body:    []byte("boom"),
			Size:    4096, Truncated: true,
			Latency: 2 * time.Second,
			Error:   "context deadline exceeded", Timeout: true,
		},
	}
	return &ExchangeRecord{
		Exchange: x,
		Endpoint: "GET /orders/{id}",
		Differs:  i%2 == 0,
		Diffs:    []string{"status", "body"},
		Noise:    []string{"header.Date"},
	}
}

// sampleSynth returns a synthetic step result without secrets, numbered i.
func sampleSynth(i int) *SynthRecord {
	return &SynthRecord{
		RunID:     "run-7",
		Scenario:  "checkout",
		Journey:   "buy-one",
		JourneyID: fmt.Sprintf("j-%d", i),
		Step:      "create-order",
		Tags:      map[string]string{"X-Synthetic": "true", "X-Synthetic-Run": "run-7"},
		Method:    http.MethodPost,
		URL:       fmt.Sprintf("https://shop.example/orders?n=%d", i),
		Status:    201,
		Latency:   time.Duration(i) * time.Millisecond,
		Intended:  base.Add(time.Duration(i) * time.Second),
		ErrorKind: "",
		Passed:    i%3 != 0,
		Failures:  []string{"status: want 201"},
	}
}

// sampleRecords alternates exchanges and synth results.
func sampleRecords(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		if i%2 == 0 {
			out[i] = Record{Kind: KindExchange, Exchange: sampleExchange(i)}
		} else {
			out[i] = Record{Kind: KindSynth, Synth: sampleSynth(i)}
		}
	}
	return out
}

// recordOpts compares records read back with records written: times by
// instant, nil and empty containers alike.
var recordOpts = cmp.Options{cmpopts.EquateEmpty()}

func writeRecord(t testing.TB, w *Writer, r Record) {
	t.Helper()
	var err error
	switch r.Kind {
	case KindExchange:
		err = w.WriteExchange(r.Exchange)
	case KindSynth:
		err = w.WriteSynth(r.Synth)
	case KindDescriptors:
		var ok bool
		if ok, err = w.AddDescriptors(r.Descriptors); err == nil && !ok {
			err = errors.New("descriptor record refused")
		}
	}
	if err != nil {
		t.Fatalf("write record: %v", err)
	}
}

// writeFile writes records into a fresh directory and returns the one file.
func writeFile(t testing.TB, recs []Record) string {
	t.Helper()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), Header: Header{Tool: "test", Host: "h"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		writeRecord(t, w, r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	return files[0]
}

func readFileBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAllRecords reads every record of r.
func readAllRecords(t testing.TB, r *Reader) []Record {
	t.Helper()
	var out []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		out = append(out, rec)
	}
}

// dirFiles lists a directory's file names.
func dirFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func hasSuffixAll(names []string, suffix string) bool {
	for _, n := range names {
		if !strings.HasSuffix(n, suffix) {
			return false
		}
	}
	return true
}
