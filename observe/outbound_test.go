package observe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/traceparent"
)

// A Pipeline with an OutboundSource attaches the calls made under an
// exchange's trace id, taken from a real egress once, to what it judges
// and records, redacted; the exchange the proxy holds stays as it was.
func TestPipelineTakesOutboundCalls(t *testing.T) {
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer dep.Close()
	e, err := egress.New(egress.Config{Dependencies: []egress.Dependency{{Name: "payments", Upstream: dep.URL,
		Listeners: egress.Listeners{PrimaryListen: "127.0.0.1:0", CandidateListen: "127.0.0.1:0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	defer func() { cancel(); <-ran }()

	tp := traceparent.New()
	req, _ := http.NewRequest("POST", e.URL("payments", exchange.Primary)+"/charges", strings.NewReader(`{"amount":1}`))
	req.Header.Set(traceparent.Header, tp.Child().String())
	req.Header.Set("Authorization", "Bearer sk_live_outbound_1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	w := &slowWriter{release: make(chan struct{})}
	close(w.release)
	p := newPipeline(t, Config{Judge: newEngine(t), Writer: w, Dir: "mem", Outbound: e})
	x := jsonExchange("1", `{"a":1}`, `{"a":1}`)
	x.Request.Header.Set(traceparent.Header, tp.String())
	p.Observe(x)
	p.Observe(x) // taken once: the second finds nothing
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if x.Outbound != nil {
		t.Errorf("Observe wrote the calls into the proxy's exchange")
	}
	if len(w.got) != 2 || len(w.got[0].Exchange.Outbound) != 1 || len(w.got[1].Exchange.Outbound) != 0 {
		t.Fatalf("records %+v, want the first with the one call, the second with none", w.got)
	}
	c := w.got[0].Exchange.Outbound[0]
	if c.Dependency != "payments" || c.URL != "/charges" || c.Response.Status != http.StatusCreated ||
		c.Header.Get("Authorization") != capture.Redacted {
		t.Errorf("call %+v: want POST payments /charges answered 201, its Authorization redacted", c)
	}
}
