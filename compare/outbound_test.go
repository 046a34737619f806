package compare_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/exchange"
)

// charge is one side's call to POST payments /charges with body.
func charge(side exchange.Side, body string) exchange.OutboundCall {
	return exchange.OutboundCall{Side: side, Dependency: "payments", Method: "POST", URL: "/charges", Template: "/charges",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body), BodySize: int64(len(body)),
		Response: exchange.Response{Side: side, Status: 201}}
}

// orderExchange is a POST /orders whose answers agree, with calls.
func orderExchange(calls ...exchange.OutboundCall) *exchange.Exchange {
	ok := exchange.Response{Status: 201, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"status":"placed"}`)}
	p, s, c := ok, ok, ok
	p.Side, s.Side, c.Side = exchange.Primary, exchange.Secondary, exchange.Candidate
	return &exchange.Exchange{Request: exchange.Request{ID: "x1", Method: "POST", URL: "/orders", Header: http.Header{}},
		Primary: p, Secondary: &s, Candidate: c, Outbound: calls}
}

// With egress's Differ as the engine's outbound judge, a candidate whose
// answers agree but whose charge differs differs; so does one that makes
// another number of calls. Noise (the secondary's call differs the same
// way) and an engine without a judge leave the pair alone. The report
// counts the pairs and the refused calls, and says it in sentences.
func TestOutboundJudged(t *testing.T) {
	d, err := egress.NewDiffer(compare.Config{})
	if err != nil {
		t.Fatal(err)
	}
	refused := charge(exchange.Candidate, `{}`)
	refused.URL, refused.Template, refused.Refused = "/notify", "/notify", "no_match"
	tests := []struct {
		name        string
		x           *exchange.Exchange
		judge       bool
		wantDiffers bool
		wantFields  []string
	}{
		{"same charge", orderExchange(charge(exchange.Primary, `{"amount":10.00}`), charge(exchange.Secondary, `{"amount":10.00}`), charge(exchange.Candidate, `{"amount":10.00}`)),
			true, false, nil},
		{"other amount", orderExchange(charge(exchange.Primary, `{"items":[{"p":1},{"p":10.00}]}`), charge(exchange.Secondary, `{"items":[{"p":1},{"p":10.00}]}`), charge(exchange.Candidate, `{"items":[{"p":1},{"p":10.01}]}`)),
			true, true, []string{"outbound POST payments /charges $.items[*].p"}},
		{"noise", orderExchange(charge(exchange.Primary, `{"amount":10.00,"key":"a"}`), charge(exchange.Secondary, `{"amount":10.00,"key":"b"}`), charge(exchange.Candidate, `{"amount":10.00,"key":"c"}`)),
			true, false, nil},
		{"extra call", orderExchange(charge(exchange.Primary, `{"amount":10.00}`), charge(exchange.Candidate, `{"amount":10.00}`), refused),
			true, true, []string{"outbound POST payments /notify calls"}},
		{"no judge", orderExchange(charge(exchange.Primary, `{"amount":10.00}`), charge(exchange.Candidate, `{"amount":10.01}`)),
			false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := compare.Config{Verdict: compare.VerdictRule{MinPairs: 1}}
			if tt.judge {
				cfg.Outbound = d
			}
			e, err := compare.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := e.Record(tt.x)
			if res.Differs != tt.wantDiffers {
				t.Errorf("Differs = %v, want %v (outbound %+v)", res.Differs, tt.wantDiffers, res.Outbound)
			}
			rep := e.Report()
			var fields []string
			for _, f := range rep.Endpoints[0].Fields {
				fields = append(fields, f.Path)
			}
			if strings.Join(fields, "|") != strings.Join(tt.wantFields, "|") {
				t.Errorf("fields %q, want %q", fields, tt.wantFields)
			}
			wantDiffs := int64(0)
			if tt.wantDiffers {
				wantDiffs = 1
			}
			if c := rep.Totals; c.Diffs != wantDiffs || c.OutboundDiffs != wantDiffs {
				t.Errorf("totals: %d diffs, %d outbound diffs; want %d", c.Diffs, c.OutboundDiffs, wantDiffs)
			}
			if tt.name == "extra call" {
				if rep.Totals.OutboundRefused != 1 || rep.Verdict != compare.Fail {
					t.Errorf("refused %d, verdict %s; want 1 and fail", rep.Totals.OutboundRefused, rep.Verdict)
				}
				var md bytes.Buffer
				if err := rep.WriteMarkdown(&md); err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"## Outbound calls", "candidate made 1 call to POST payments /notify where the primary made none",
					"| Candidate outbound calls refused by egress | 1 |"} {
					if !strings.Contains(md.String(), want) {
						t.Errorf("markdown lacks %q:\n%s", want, md.String())
					}
				}
				var page bytes.Buffer
				if err := rep.WriteHTML(&page); err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"Candidate outbound calls refused by egress", "outbound POST payments /notify calls",
					"candidate made 1 call to POST payments /notify where the primary made none"} {
					if !strings.Contains(page.String(), want) {
						t.Errorf("html report lacks %q", want)
					}
				}
			}
		})
	}
}
