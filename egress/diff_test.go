package egress

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// oc builds an outbound call for diff tests.
func oc(side exchange.Side, dep, method, url string, ord int, body string, header ...string) exchange.OutboundCall {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	path := url
	for i := range url {
		if url[i] == '?' {
			path = url[:i]
			break
		}
	}
	return exchange.OutboundCall{Side: side, Dependency: dep, Method: method, URL: url, Template: path, Ordinal: ord, Header: h, Body: []byte(body), BodySize: int64(len(body))}
}

func TestDiffFindings(t *testing.T) {
	t.Parallel()
	P, S, C := exchange.Primary, exchange.Secondary, exchange.Candidate
	charge := `{"customer":"ann","amount":3.33,"request_id":"r1"}`
	tests := []struct {
		name  string
		calls []exchange.OutboundCall
		side  exchange.Side
		want  []string
	}{
		{
			name:  "same calls",
			calls: []exchange.OutboundCall{oc(P, "payments", "POST", "/charges", 0, charge), oc(C, "payments", "POST", "/charges", 0, charge)},
			side:  C,
		},
		{
			name: "amount changed, noise left out",
			calls: []exchange.OutboundCall{
				oc(P, "payments", "POST", "/charges", 0, charge),
				oc(S, "payments", "POST", "/charges", 0, `{"customer":"ann","amount":3.33,"request_id":"r2"}`),
				oc(C, "payments", "POST", "/charges", 0, `{"customer":"ann","amount":3.34,"request_id":"r3"}`),
			},
			side: C,
			want: []string{"candidate called POST payments /charges with $.amount 3.34 where the primary sent 3.33"},
		},
		{
			name: "one call more",
			calls: []exchange.OutboundCall{
				oc(P, "payments", "POST", "/charges", 0, charge),
				oc(C, "payments", "POST", "/charges", 0, charge),
				oc(C, "payments", "POST", "/charges", 1, charge),
			},
			side: C,
			want: []string{"candidate made 2 calls to POST payments /charges where the primary made 1"},
		},
		{
			name: "call missing, call added",
			calls: []exchange.OutboundCall{
				oc(P, "mail", "POST", "/notify", 0, `{"to":"ann"}`),
				oc(C, "payments", "POST", "/refunds", 0, `{}`),
			},
			side: C,
			want: []string{
				"candidate did not call POST mail /notify",
				"candidate made 1 call to POST payments /refunds where the primary made none",
			},
		},
		{
			name: "query, header and fields",
			calls: []exchange.OutboundCall{
				oc(P, "payments", "POST", "/charges?capture=true", 0, `{"amount":1,"currency":"EUR"}`, "X-Client-Version", "1"),
				oc(C, "payments", "POST", "/charges?capture=false", 0, `{"amount":1,"coupon":"X"}`, "X-Client-Version", "2"),
			},
			side: C,
			want: []string{
				"candidate called POST payments /charges with url /charges?capture=false where the primary sent /charges?capture=true",
				"candidate called POST payments /charges with header.X-Client-Version 2 where the primary sent 1",
				`candidate called POST payments /charges with $.coupon "X", which the primary did not send`,
				`candidate called POST payments /charges without $.currency, which the primary sent as "EUR"`,
			},
		},
		{
			name: "second of two calls differs",
			calls: []exchange.OutboundCall{
				oc(P, "payments", "POST", "/charges", 0, `{"amount":1}`),
				oc(P, "payments", "POST", "/charges", 1, `{"amount":2}`),
				oc(C, "payments", "POST", "/charges", 1, `{"amount":3}`),
				oc(C, "payments", "POST", "/charges", 0, `{"amount":1}`),
			},
			side: C,
			want: []string{"candidate called POST payments /charges (call 2) with $.amount 3 where the primary sent 2"},
		},
		{
			name: "the secondary compared on its own",
			calls: []exchange.OutboundCall{
				oc(P, "payments", "POST", "/charges", 0, charge),
				oc(S, "payments", "POST", "/charges", 0, `{"customer":"ann","amount":3.33,"request_id":"r2"}`),
				oc(C, "payments", "POST", "/charges", 0, `{"customer":"ann","amount":9,"request_id":"r1"}`),
			},
			side: S,
			want: []string{`secondary called POST payments /charges with $.request_id "r2" where the primary sent "r1"`},
		},
	}
	d, err := NewDiffer(compare.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			differs := false
			for _, ed := range d.Diff(tt.calls, tt.side) {
				got = append(got, ed.Findings()...)
				differs = differs || ed.Differs()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings differ (-want +got):\n%s", diff)
			}
			if differs != (len(tt.want) > 0) {
				t.Errorf("Differs() = %v, want %v", differs, len(tt.want) > 0)
			}
		})
	}
}

func TestDiffPairs(t *testing.T) {
	t.Parallel()
	d, err := NewDiffer(compare.Config{})
	if err != nil {
		t.Fatal(err)
	}
	calls := []exchange.OutboundCall{
		oc(exchange.Primary, "payments", "POST", "/charges", 0, `{"amount":1}`),
		oc(exchange.Candidate, "payments", "POST", "/charges", 0, `{"amount":1}`),
		oc(exchange.Candidate, "payments", "POST", "/charges", 1, `{"amount":1}`),
	}
	eds := d.Diff(calls, exchange.Candidate)
	if len(eds) != 1 {
		t.Fatalf("Diff = %d endpoints, want 1", len(eds))
	}
	ed := eds[0]
	if ed.Endpoint.String() != "POST payments /charges" || ed.PrimaryCalls != 1 || ed.OtherCalls != 2 || len(ed.Pairs) != 2 {
		t.Fatalf("EndpointDiff = %+v", ed)
	}
	if p := ed.Pairs[0]; p.Primary == nil || p.Other == nil || p.Differs || len(p.Differences) != 0 {
		t.Errorf("pair 0 = %+v, want two equal calls", p)
	}
	if p := ed.Pairs[1]; p.Primary != nil || p.Other == nil || p.Ordinal != 1 {
		t.Errorf("pair 1 = %+v, want the candidate's extra call alone", p)
	}
}
