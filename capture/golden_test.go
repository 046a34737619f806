package capture

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
)

var update = flag.Bool("update", false, "write testdata/v<major>.<minor>.usc for the current format version")

// goldenContent holds what each golden file contains, by format version.
// When the format changes, add a file (go test -run Golden -update) and an
// entry here; never rewrite an old file: proving that old files stay
// readable is the point.
var goldenContent = map[string]func() (Header, []Record){
	"1.0": goldenV1,
	"1.1": goldenV1_1,
}

// goldenV1_1 is the content of testdata/v1.1.usc: 1.0's, version 1.1,
// with the keys 1.1 added: what the proxy set on each side's request
// (exchange.Response.Injected), and the first exchange with the outbound
// calls egress recorded for it; then a descriptor record and a gRPC
// exchange that refers to it. Do not change it.
func goldenV1_1() (Header, []Record) {
	hdr, recs := goldenV1()
	hdr.Version = "1.1"
	for _, r := range recs {
		if x := r.Exchange; x != nil {
			x.Exchange.Primary.Injected = map[string]string{"Host": "primary:8080", "X-Forwarded-For": "10.0.0.1"}
			x.Exchange.Secondary.Injected = map[string]string{"Host": "secondary:8080", "X-Shadow-Request": "1"}
			x.Exchange.Candidate.Injected = map[string]string{"Host": "candidate:8080", "X-Shadow-Request": "1"}
		}
	}
	t0 := hdr.Created
	req := []byte(`{"amount":9.99,"currency":"EUR"}`)
	ans := []byte(`{"id":"ch_000001","status":"succeeded"}`)
	answer := exchange.Response{Side: exchange.Primary, Status: 201,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: ans, Size: int64(len(ans)), Latency: 900 * time.Microsecond}
	call := exchange.OutboundCall{Side: exchange.Primary, Dependency: "payments", Method: "POST", URL: "/charges",
		Template: "/charges", Header: http.Header{"Content-Type": {"application/json"}}, Body: req, BodySize: int64(len(req)),
		Started: t0, Response: answer}
	cand := call
	cand.Side, cand.Matched = exchange.Candidate, true
	cand.Response.Side = exchange.Candidate
	refused := exchange.OutboundCall{Side: exchange.Candidate, Dependency: "payments", Method: "POST", URL: "/notify",
		Template: "/notify", Started: t0, Refused: "no_match",
		Response: exchange.Response{Side: exchange.Candidate, Status: 503, Error: "the primary made no call POST payments /notify"}}
	recs[0].Exchange.Exchange.Outbound = []exchange.OutboundCall{call, cand, refused}
	t0 = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	set := goldenDescriptorSet()
	hash := DescriptorHash(set)
	msg := []byte{0, 0, 0, 0, 4, 0x0a, 0x02, 'o', 'k'} // one message: field 1 = "ok"
	recs = append(recs,
		Record{Kind: KindDescriptors, Descriptors: &DescriptorRecord{Hash: hash, Set: set}},
		Record{Kind: KindExchange, Exchange: &ExchangeRecord{
			Exchange: exchange.Exchange{
				Request: exchange.Request{
					ID: "grpc1", Method: "POST", URL: "/golden.v1.Echo/Say", Host: "echo",
					Header:   http.Header{"Content-Type": {"application/grpc"}, "Grpc-Timeout": {"1S"}},
					Body:     []byte{0, 0, 0, 0, 0},
					Received: t0,
				},
				Primary: exchange.Response{Side: exchange.Primary, Status: 200,
					Header: http.Header{"Content-Type": {"application/grpc"}}, Trailer: http.Header{"Grpc-Status": {"0"}},
					Body: msg, Size: int64(len(msg)), Latency: time.Millisecond},
				Candidate: exchange.Response{Side: exchange.Candidate, Status: 200,
					Header:  http.Header{"Content-Type": {"application/grpc"}, "Grpc-Status": {"5"}, "Grpc-Message": {"gone"}},
					Latency: time.Millisecond},
			},
			Endpoint: "POST /golden.v1.Echo/Say", Differs: true, Diffs: []string{"status", "body.$"},
			Descriptors: hash,
		}})
	return hdr, recs
}

// goldenDescriptorSet is a FileDescriptorSet, by hand: golden.proto with
// a service Echo whose method Say takes and returns a message Text with
// one string field.
func goldenDescriptorSet() []byte {
	str := func(field int, s string) []byte { return append([]byte{byte(field<<3 | 2), byte(len(s))}, s...) }
	msg := func(field int, parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return append([]byte{byte(field<<3 | 2), byte(len(b))}, b...)
	}
	fieldText := msg(2, str(1, "text"), []byte{3 << 3, 1, 4 << 3, 1, 5 << 3, 9}) // number 1, optional, string
	message := msg(4, str(1, "Text"), fieldText)
	method := msg(2, str(1, "Say"), str(2, ".golden.v1.Text"), str(3, ".golden.v1.Text"))
	service := msg(6, str(1, "Echo"), method)
	file := msg(1, str(1, "golden.proto"), str(2, "golden.v1"), message, service, str(12, "proto3"))
	return file
}

// goldenV1 is the content of testdata/v1.0.usc. Do not change it.
func goldenV1() (Header, []Record) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	hdr := Header{
		Version: "1.0", Tool: "golden", ToolVersion: "v0.0.0-golden", Host: "golden-host",
		Created: t0, Labels: map[string]string{"service": "orders", "env": "test"},
	}
	var recs []Record
	for i := range 4 {
		body := []byte(fmt.Sprintf(`{"id":%d,"total":"9.99"}`, i))
		recs = append(recs, Record{Kind: KindExchange, Exchange: &ExchangeRecord{
			Exchange: exchange.Exchange{
				Request: exchange.Request{
					ID: fmt.Sprintf("g%d", i), Method: "GET", URL: fmt.Sprintf("/orders/%d", i),
					Host: "orders", Header: http.Header{"Accept": {"application/json"}},
					Received: t0.Add(time.Duration(i) * time.Second),
				},
				Route: "orders",
				Primary: exchange.Response{Side: exchange.Primary, Status: 200,
					Header: http.Header{"Content-Type": {"application/json"}}, Body: body,
					Size: int64(len(body)), Latency: 1500 * time.Microsecond},
				Secondary: &exchange.Response{Side: exchange.Secondary, Status: 200, Body: body,
					Size: int64(len(body)), Latency: 1700 * time.Microsecond},
				Candidate: exchange.Response{Side: exchange.Candidate, Status: 502, Error: "connection refused",
					Latency: time.Millisecond, Truncated: true, Timeout: false},
			},
			Endpoint: "GET /orders/{id}", Differs: i%2 == 1,
			Diffs: []string{"status"}, Noise: []string{"header.Date"},
		}})
		recs = append(recs, Record{Kind: KindSynth, Synth: &SynthRecord{
			RunID: "golden-run", Scenario: "checkout", Journey: "buy", JourneyID: fmt.Sprintf("j%d", i),
			Step: "pay", Tags: map[string]string{"X-Synthetic": "true"}, Method: "POST",
			URL: "https://shop.example/pay", Status: 201, Latency: 42 * time.Millisecond,
			Intended: t0.Add(time.Duration(i) * time.Second), ErrorKind: "", Passed: i != 2,
			Failures: []string{"latency: want < 40ms"},
		}})
	}
	return hdr, recs
}

func TestGoldenFilesStayReadable(t *testing.T) {
	if *update {
		writeGolden(t)
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "*"+FileSuffix))
	if err != nil {
		t.Fatal(err)
	}
	current := fmt.Sprintf("v%d.%d%s", FormatMajor, FormatMinor, FileSuffix)
	if !fileIn(paths, current) {
		t.Errorf("no golden file for the current format version: run go test -run Golden -update to write testdata/%s", current)
	}
	for _, path := range paths {
		version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "v"), FileSuffix)
		content, ok := goldenContent[version]
		if !ok {
			t.Errorf("%s: no expected content for version %s in goldenContent", path, version)
			continue
		}
		wantHdr, wantRecs := content()
		r, err := Open(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got := readAllRecords(t, r)
		r.Close()
		if diff := cmp.Diff(wantHdr, r.Header()); diff != "" {
			t.Errorf("%s: header (-want +got):\n%s", path, diff)
		}
		if diff := cmp.Diff(wantRecs, got, recordOpts); diff != "" {
			t.Errorf("%s: records (-want +got):\n%s", path, diff)
		}
		if got, want := r.Stats(), (ReadStats{Files: 1, Records: int64(len(wantRecs))}); !cmp.Equal(got, want) {
			t.Errorf("%s: stats %+v, want %+v", path, got, want)
		}
	}
}

func fileIn(paths []string, name string) bool {
	for _, p := range paths {
		if filepath.Base(p) == name {
			return true
		}
	}
	return false
}

// writeGolden writes the current version's golden file.
func writeGolden(t *testing.T) {
	version := fmt.Sprintf("%d.%d", FormatMajor, FormatMinor)
	content, ok := goldenContent[version]
	if !ok {
		t.Fatalf("add goldenContent[%q] before -update", version)
	}
	hdr, recs := content()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), Header: hdr})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		writeRecord(t, w, r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := readFileBytes(t, w.Files()[0])
	dst := filepath.Join("testdata", "v"+version+FileSuffix)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", dst, len(b))
}
