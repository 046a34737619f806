package capture

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/content"
)

// TestEncodedSecretsReachNoReportNorFile: an upstream echoes the request's
// credentials in answers under each coding compare undoes, and a stack of
// them. Redacted as the observer pipeline does it, before judging, no
// secret reaches the compare engine's result or reports (JSON and
// Markdown, with their exemplars), and none reaches a capture file, whose
// bodies still decode; the plain data beside the secrets reaches both.
func TestEncodedSecretsReachNoReportNorFile(t *testing.T) {
	t.Parallel()
	secrets := []string{"sec-bearer-0101", "sec-pw-0202", "sec-key-0303"}
	for _, enc := range []string{"gzip", "deflate", "br", "zstd", "gzip, br", "zstd, deflate"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			x := encodedEcho(t, enc)
			red := &Redactor{}

			shown := *x
			red.Redact(&shown)
			e, err := compare.New(compare.Config{Exemplars: 4})
			if err != nil {
				t.Fatal(err)
			}
			res := e.Record(&shown)
			if !res.Differs {
				t.Fatalf("the answers do not differ: %+v", res)
			}
			var seen bytes.Buffer
			if err := json.NewEncoder(&seen).Encode(res); err != nil {
				t.Fatal(err)
			}
			rep := e.Report()
			if err := rep.WriteJSON(&seen); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteMarkdown(&seen); err != nil {
				t.Fatal(err)
			}
			mustShowNoSecret(t, "the engine's result and reports", seen.Bytes(), secrets)

			dir := t.TempDir()
			w, err := NewWriter(WriterOptions{Dir: dir, Redactor: red})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteExchange(&ExchangeRecord{Exchange: *x, Endpoint: "POST /echo"}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			var onDisk []byte
			for _, name := range dirFiles(t, dir) {
				path := filepath.Join(dir, name)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				onDisk = append(onDisk, b...)
				r, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, rec := range readAllRecords(t, r) {
					got := rec.Exchange.Exchange
					for _, a := range []exchange.Response{got.Primary, *got.Secondary, got.Candidate} {
						codings, _ := content.Codings(a.Header.Values("Content-Encoding"))
						plain, _, err := content.Decode(a.Body, codings, false, 1<<20)
						if err != nil {
							t.Fatalf("a redacted %s body does not decode: %v", enc, err)
						}
						onDisk = append(onDisk, plain...)
					}
				}
				r.Close()
			}
			mustShowNoSecret(t, "the capture file", onDisk, secrets)
		})
	}
}

// encodedEcho is an exchange whose three answers echo the request's
// credentials, compressed with enc; the candidate's differs from the
// primary's in the echoed strings, so that reports show them.
func encodedEcho(t *testing.T, enc string) *exchange.Exchange {
	t.Helper()
	codings, _ := content.Codings([]string{enc})
	answer := func(side exchange.Side, n string) exchange.Response {
		plain := []byte(`{"headers":{"Authorization":"Bearer sec-bearer-0101","X-Api-Key":"sec-key-0303"},` +
			`"data":"` + canary + ` password=sec-pw-0202&try=` + n + `",` +
			`"url":"/echo?api_key=sec-key-0303&` + canary + `=` + n + `"}`)
		body, err := content.Encode(plain, codings)
		if err != nil {
			t.Fatal(err)
		}
		return exchange.Response{
			Side: side, Status: 200, Body: body, Size: int64(len(body)),
			Header: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {enc}},
		}
	}
	sec := answer(exchange.Secondary, "1")
	return &exchange.Exchange{
		Request: exchange.Request{
			ID: "e1", Method: http.MethodPost, URL: "/echo?api_key=sec-key-0303",
			Header: http.Header{"Authorization": {"Bearer sec-bearer-0101"}, "Content-Type": {"application/x-www-form-urlencoded"}},
			Body:   []byte("password=sec-pw-0202&try=1"),
		},
		Primary:   answer(exchange.Primary, "1"),
		Secondary: &sec,
		Candidate: answer(exchange.Candidate, "2"),
	}
}

// mustShowNoSecret fails the test when b holds a secret, or does not hold
// the canary that proves the search sees plain data.
func mustShowNoSecret(t *testing.T, where string, b []byte, secrets []string) {
	t.Helper()
	if !bytes.Contains(b, []byte(canary)) {
		t.Fatalf("%s: canary not found, the search cannot see plain data", where)
	}
	for _, s := range secrets {
		if i := bytes.Index(b, []byte(s)); i >= 0 {
			lo, hi := max(0, i-60), min(len(b), i+len(s)+20)
			t.Errorf("%s holds %q: ...%q...", where, s, b[lo:hi])
		}
	}
}
