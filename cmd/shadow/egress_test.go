package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/internal/traceparent"
	"github.com/understudy-dev/understudy/tui"
)

// dependency is a real payment service that counts every call it gets,
// by method and path.
type dependency struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string]int
	n     atomic.Int64
}

func newDependency(t *testing.T) *dependency {
	t.Helper()
	d := &dependency{calls: map[string]int{}}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		d.mu.Lock()
		d.calls[r.Method+" "+r.URL.Path]++
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":"ch_%06d","status":"succeeded"}`, d.n.Add(1))
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *dependency) snapshot() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.calls {
		out[k] = v
	}
	return out
}

// orderService is a real service behind shadow that charges its payment
// dependency on POST /orders through the base URL it is configured with
// (set once shadow has bound its egress listeners), passing on the trace
// context as an instrumented service does. The candidate version charges
// one cent more, also notifies /notify (a call the primary never makes),
// and makes one call without trace context: the three ways a candidate's
// calls go wrong.
func orderService(t *testing.T, candidate bool, base *atomic.Pointer[string]) *httptest.Server {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	call := func(r *http.Request, path, body string, traced bool) (int, string) {
		req, _ := http.NewRequestWithContext(r.Context(), "POST", *base.Load()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tp, ok := traceparent.FromHeader(r.Header); ok && traced {
			req.Header.Set(traceparent.Header, tp.Child().String())
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var order struct{ Amount float64 }
		if err := json.NewDecoder(r.Body).Decode(&order); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		amount := order.Amount
		if candidate {
			amount += 0.01
		}
		status, charge := call(r, "/charges", fmt.Sprintf(`{"amount":%.2f,"currency":"EUR"}`, amount), true)
		if candidate {
			if st, body := call(r, "/notify", `{"event":"charged"}`, true); st != http.StatusServiceUnavailable {
				t.Errorf("candidate's /notify answered %d %s, want egress's 503", st, body)
			}
			if st, body := call(r, "/untraced", `{}`, false); st != http.StatusServiceUnavailable {
				t.Errorf("candidate's untraced call answered %d %s, want egress's 503", st, body)
			}
		}
		if status != http.StatusCreated {
			http.Error(w, "charge failed: "+charge, http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"status":"placed"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// The done-when test of mirroring writes, with real servers: under
// concurrent load through `shadow run` with a secondary and a candidate,
// the payment dependency sees exactly one charge per client order and no
// other call (the candidate's call with no match got egress's 503, its
// call without trace context never arrived); the candidate's different
// charge, its extra call and the refusals are in the JSON report, in the
// Markdown report of the capture files and in the dashboard's exemplar.
func TestRunMirrorsWritesThroughEgress(t *testing.T) {
	dep := newDependency(t)
	var primaryURL, secondaryURL, candidateURL atomic.Pointer[string]
	primary, secondary, candidate := orderService(t, false, &primaryURL), orderService(t, false, &secondaryURL), orderService(t, true, &candidateURL)
	tmp := t.TempDir()
	report, captures := filepath.Join(tmp, "report.json"), filepath.Join(tmp, "captures")
	config := writeFile(t, "shadow.yaml", fmt.Sprintf(`
mirror:
  max_queue_wait: -1s # every copy is sent, however loaded the machine: the test counts them
  routes:
    - {name: create-order, methods: [POST], path: /orders, unsafe: true, egress: [payments]}
compare:
  verdict: {min_pairs: 1}
egress:
  - name: payments
    upstream: %s
    primary_listen: 127.0.0.1:0
    secondary_listen: 127.0.0.1:0
    candidate_listen: 127.0.0.1:0
`, dep.URL))
	base, adminURL, stop, code, out := startShadowAdmin(t, "--config", config, "--primary", primary.URL,
		"--secondary", secondary.URL, "--candidate", candidate.URL, "--report-out", report, "--capture", captures)
	m := regexp.MustCompile(`egress payments \(\S+\): primary (\S+) secondary (\S+) candidate (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		stop()
		t.Fatalf("no egress listeners printed:\n%s", out.String())
	}
	primaryURL.Store(&m[1])
	secondaryURL.Store(&m[2])
	candidateURL.Store(&m[3])

	const orders, clients = 60, 6
	var wg sync.WaitGroup
	var placed atomic.Int64
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < orders; i += clients {
				resp, err := http.Post(base+"/orders", "application/json", strings.NewReader(`{"amount": 10.00}`))
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated || string(body) != `{"status":"placed"}` {
					t.Errorf("order %d: client got %d %s, want the primary's 201", i, resp.StatusCode, body)
				}
				placed.Add(1)
			}
		}()
	}
	wg.Wait()
	var snap []byte
	testio.Eventually(t, "every order compared", func() bool {
		snap = httpGet(t, adminURL+"/snapshot")
		return regexp.MustCompile(fmt.Sprintf(`"compared":\s*%d\b`, orders)).Match(snap)
	})
	metrics := string(httpGet(t, adminURL+"/metrics"))
	for _, want := range []string{
		fmt.Sprintf(`shadow_egress_primary_calls_total{outcome="forwarded"} %d`, orders),
		fmt.Sprintf(`shadow_egress_copy_calls_total{outcome="answered",side="candidate"} %d`, orders),
		fmt.Sprintf(`shadow_egress_copy_calls_total{outcome="no_match",side="candidate"} %d`, orders),
		fmt.Sprintf(`shadow_egress_copy_calls_total{outcome="no_trace",side="candidate"} %d`, orders),
		fmt.Sprintf(`shadow_egress_copy_calls_total{outcome="answered",side="secondary"} %d`, orders),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(metrics, "shadow_egress"))
		}
	}
	stop()
	select {
	case c := <-code:
		if c != cli.ExitFail {
			t.Fatalf("exit code %d, want %d: the candidate charges differently\n%s", c, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow did not stop")
	}

	if got, want := dep.snapshot(), map[string]int{"POST /charges": orders}; fmt.Sprint(got) != fmt.Sprint(want) || placed.Load() != orders {
		t.Errorf("the dependency saw %v for %d orders placed, want exactly %v: one charge per client order, nothing else", got, placed.Load(), want)
	}
	summary := fmt.Sprintf("egress: %d primary calls forwarded (%d recorded), candidate %d calls answered from them, %d refused (no_match %d, no_trace %d), secondary %d answered, 0 refused",
		orders, orders, orders, 2*orders, orders, orders, orders)
	if !strings.Contains(out.String(), summary) {
		t.Errorf("output lacks %q:\n%s", summary, out.String())
	}

	var rep compare.Report
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	charge := "candidate called POST payments /charges with $.amount 10.01 where the primary sent 10.00"
	notify := "candidate made 1 call to POST payments /notify where the primary made none"
	if len(rep.Endpoints) != 1 {
		t.Fatalf("report endpoints %+v, want POST /orders alone", rep.Endpoints)
	}
	ep := rep.Endpoints[0]
	details := map[string]string{}
	for _, f := range ep.Fields {
		if len(f.Exemplars) > 0 {
			details[f.Path] = f.Exemplars[0].Difference.Detail
		}
		if f.Diffs != orders {
			t.Errorf("field %s differs in %d pairs, want %d", f.Path, f.Diffs, orders)
		}
	}
	wantFields := map[string]string{
		"outbound POST payments /charges $.amount": charge,
		"outbound POST payments /notify calls":     notify,
	}
	if fmt.Sprint(details) != fmt.Sprint(wantFields) {
		t.Errorf("report fields %v, want %v", details, wantFields)
	}
	if ep.Verdict != compare.Fail || ep.Diffs != orders || ep.OutboundDiffs != orders || ep.OutboundRefused != orders || rep.Totals.OutboundRefused != orders {
		t.Errorf("POST /orders: verdict %s, %d diffs, %d outbound diffs, %d refused (totals %d); want fail with %d of each",
			ep.Verdict, ep.Diffs, ep.OutboundDiffs, ep.OutboundRefused, rep.Totals.OutboundRefused, orders)
	}

	// The capture files hold the calls: `shadow report` finds the same.
	rc, md, stderr := runReport(t, captures)
	if rc != cli.ExitFail {
		t.Fatalf("shadow report exit %d: %s", rc, stderr)
	}
	for _, want := range []string{"## Outbound calls", charge, notify, fmt.Sprintf("| Candidate outbound calls refused by egress | %d |", orders),
		fmt.Sprintf("`POST /orders`: %d candidate calls refused by egress", orders)} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown report lacks %q:\n%s", want, md)
		}
	}

	// The dashboard's exemplar of the field says it in words.
	var s tui.Snapshot
	if err := json.Unmarshal(snap, &s); err != nil {
		t.Fatal(err)
	}
	view := tui.NewExemplarView(tui.DefaultStyles())
	view.SetSize(200, 60)
	found := false
	for _, e := range s.Shadow.Endpoints {
		for _, ex := range e.Exemplars {
			if len(ex.Differences) > 0 && ex.Differences[0].Path == "outbound POST payments /charges $.amount" {
				found = true
				view.SetExemplar(ex)
			}
		}
	}
	if screen := view.View(); !found || !strings.Contains(screen, charge) || !strings.Contains(screen, "10.00 → 10.01") {
		t.Errorf("no exemplar of the outbound difference on the dashboard (found %v):\n%s", found, screen)
	}
}

// egress keys load like every other key: the routes that mirror writes
// through egress are shown by --print-config, and a bad value names its
// key and line.
func TestEgressConfig(t *testing.T) {
	good := writeFile(t, "shadow.yaml", `
primary: http://127.0.0.1:9001
candidate: http://127.0.0.1:9002
mirror:
  routes:
    - {name: create-order, methods: [POST], path: /orders, unsafe: true, egress: [payments]}
    - {name: cancel-order, methods: [POST], path: "/orders/{id}/cancel", unsafe: true}
egress:
  - name: payments
    upstream: http://payments.internal:8080
    primary_listen: 127.0.0.1:9101
    candidate_listen: 127.0.0.1:9103
    routes: ["/charges/{id}"]
egress_limits: {max_wait: 1s}
`)
	var out, errOut bytes.Buffer
	if code := execute(t.Context(), []string{"run", "--config", good, "--print-config"}, &out, &errOut); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"egress:\n  - name: payments\n    upstream: http://payments.internal:8080\n    primary_listen: 127.0.0.1:9101",
		"max_wait: 1s", "max_body_bytes: 1048576", "egress_trace: request",
		"#   create-order (POST /orders): write-mirrored through egress payments",
		"#   cancel-order (POST /orders/{id}/cancel): unsafe methods mirrored with no egress dependency named (mirror.routes[1].egress)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out.String())
		}
	}

	tests := []struct{ name, yaml, want string }{
		{"listener", "egress:\n  - name: payments\n    upstream: http://p:8080\n    primary_listen: 127.0.0.1:x\n    candidate_listen: 127.0.0.1:9103\n",
			`shadow.yaml:6: egress[0].primary_listen: "127.0.0.1:x": port "x" is not a number`},
		{"unknown dependency", "mirror:\n  routes:\n    - {path: /orders, unsafe: true, egress: [mail]}\negress:\n  - {name: payments, upstream: http://p:8080, primary_listen: 127.0.0.1:9101, candidate_listen: 127.0.0.1:9103}\n",
			`shadow.yaml:5: mirror.routes[0].egress[0]: "mail" is no egress dependency (configured: payments)`},
		{"no egress", "mirror:\n  routes:\n    - {path: /orders, unsafe: true, egress: [payments]}\n",
			`mirror.routes[0].egress[0]: "payments" is no egress dependency (no dependencies are configured under egress)`},
		{"egress needs unsafe", "mirror:\n  routes:\n    - {path: /orders, egress: [payments]}\negress:\n  - {name: payments, upstream: http://p:8080, primary_listen: 127.0.0.1:9101, candidate_listen: 127.0.0.1:9103}\n",
			`mirror.routes[0].egress: set unsafe: true too`},
		{"trace mode", "egress_trace: span\negress:\n  - {name: payments, upstream: http://p:8080, primary_listen: 127.0.0.1:9101, candidate_listen: 127.0.0.1:9103}\n",
			`shadow.yaml:3: egress_trace: "span": want "request"`},
		{"unknown key", "egress:\n  - {name: payments, upstrem: http://p:8080}\n", `upstrem`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "shadow.yaml", "primary: http://127.0.0.1:9001\ncandidate: http://127.0.0.1:9002\n"+tt.yaml)
			var out, errOut bytes.Buffer
			code := execute(t.Context(), []string{"run", "--config", path, "--print-config"}, &out, &errOut)
			got := strings.ReplaceAll(errOut.String(), path, "shadow.yaml")
			if code != cli.ExitConfig || !strings.Contains(got, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to hold %q", code, got, tt.want)
			}
		})
	}
}

// blobService fetches a blob from its dependency through the base URL it
// is given, passing on the trace context, and says what it got.
func blobService(t *testing.T, base *atomic.Pointer[string]) *httptest.Server {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", *base.Load()+"/blob", nil)
		req.Header.Set(traceparent.Header, r.Header.Get(traceparent.Header))
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":%d,"bytes":%d}`, resp.StatusCode, n)
	}))
	t.Cleanup(s.Close)
	return s
}

// Huge, slow answers of a dependency, many at once, cost egress no more
// than egress_limits.max_memory_bytes (the peak of the bytes it held is
// printed and checked): the primary gets every byte of each, and the
// copies, whose calls cannot be replayed from a record cut at
// max_body_bytes, are refused (incomplete), never sent on.
func TestRunEgressBoundedWithHugeSlowAnswers(t *testing.T) {
	const blob, budget = 1 << 20, 256 << 10
	var served atomic.Int64
	chunk := strings.Repeat("b", 16<<10)
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		for range blob / len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush() // slow: piece by piece
		}
	}))
	t.Cleanup(dep.Close)
	var pURL, sURL, cURL atomic.Pointer[string]
	primary, secondary, candidate := blobService(t, &pURL), blobService(t, &sURL), blobService(t, &cURL)
	config := writeFile(t, "shadow.yaml", fmt.Sprintf(`
mirror: {max_queue_wait: -1s}
compare: {verdict: {min_pairs: 1}}
egress:
  - {name: blobs, upstream: %s, primary_listen: 127.0.0.1:0, secondary_listen: 127.0.0.1:0, candidate_listen: 127.0.0.1:0}
egress_limits: {max_body_bytes: 65536, max_memory_bytes: %d}
`, dep.URL, budget))
	report := filepath.Join(t.TempDir(), "report.json")
	base, stop, code, out := startShadow(t, "--config", config, "--primary", primary.URL, "--secondary", secondary.URL,
		"--candidate", candidate.URL, "--report-out", report, "--summary-interval", "100ms", "--no-tui")
	out.WaitFor(t, "the egress listeners", regexp.MustCompile(`egress blobs`).MatchString)
	m := regexp.MustCompile(`egress blobs \(\S+\): primary (\S+) secondary (\S+) candidate (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		stop()
		t.Fatalf("no egress listeners printed:\n%s", out.String())
	}
	pURL.Store(&m[1])
	sURL.Store(&m[2])
	cURL.Store(&m[3])

	const requests = 16
	var wg sync.WaitGroup
	for range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(base + "/fetch")
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf(`{"status":200,"bytes":%d}`, blob); string(body) != want {
				t.Errorf("client got %s, want the primary's %s", body, want)
			}
		}()
	}
	wg.Wait()
	out.WaitFor(t, "every request compared", regexp.MustCompile(fmt.Sprintf(`compared %d `, requests)).MatchString)
	stop()
	select {
	case <-code:
	case <-time.After(30 * time.Second):
		t.Fatal("shadow did not stop")
	}
	if n := served.Load(); n != requests {
		t.Errorf("the dependency served %d blobs for %d requests, want one each: the copies' calls must never reach it", n, requests)
	}
	// Each copy is refused as incomplete (the record was cut at
	// max_body_bytes) or evicted (pushed out of the budget by the others).
	sm := regexp.MustCompile(`egress: (\d+) primary calls forwarded \(0 recorded\), candidate 0 calls answered from them, (\d+) refused \(((?:evicted \d+|incomplete \d+|, )+)\).*records peaked at (\d+) of (\d+) bytes`).FindStringSubmatch(out.String())
	if sm == nil {
		t.Fatalf("no egress summary with every copy refused, evicted or incomplete:\n%s", out.String())
	}
	if sm[1] != fmt.Sprint(requests) || sm[2] != fmt.Sprint(requests) || sm[5] != fmt.Sprint(budget) {
		t.Errorf("summary %q: want %d forwarded, %d refused, a budget of %d", sm[0], requests, requests, budget)
	}
	var peak int64
	fmt.Sscan(sm[4], &peak)
	if peak == 0 || peak > budget {
		t.Errorf("egress held at most %d bytes, want some and no more than the %d budget (%d answers of %d bytes in flight)", peak, budget, requests, blob)
	}
	// The report counts the refusals of the traces still held when their
	// exchanges completed; an evicted trace took its copies' calls with it
	// (the summary above counts them all).
	var rep compare.Report
	data, _ := os.ReadFile(report)
	if err := json.Unmarshal(data, &rep); err != nil || rep.Totals.OutboundRefused == 0 || rep.Totals.OutboundRefused > requests {
		t.Errorf("report: %d candidate calls refused (%v), want 1 to %d", rep.Totals.OutboundRefused, err, requests)
	}
	// The candidate called what the primary called: eviction must not read
	// as a call the primary never made.
	if rep.Totals.OutboundDiffs != 0 {
		t.Errorf("report: %d pairs with outbound differences, want none:\n%s", rep.Totals.OutboundDiffs, data)
	}
}
