package scenarios

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestSendErrorsReadAsTheClientsWould proves that the runner's own client,
// which skips http.Client, reports a failed request exactly as a client
// from RunnerOptions does: same error kind, same message.
func TestSendErrorsReadAsTheClientsWould(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	sc := mustParse(t, `
name: refused
target: http://127.0.0.1:1
rate: {rate: 50}
duration: 100ms
journeys: [{name: j, steps: [{name: ping, path: "/ping?x=1"}]}]
`)
	exemplar := func(client *http.Client) Exemplar {
		t.Helper()
		r := mustRunner(t, sc, RunnerOptions{Target: target, Client: client, NoPreflight: true})
		res, err := r.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		st := res.Steps[0]
		if st.Requests == 0 || st.Failures != st.Requests || len(st.Exemplars) == 0 {
			t.Fatalf("step = %d requests, %d failures, exemplars %v; want every request failed", st.Requests, st.Failures, st.Exemplars)
		}
		return st.Exemplars[0]
	}
	own := exemplar(nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	given := exemplar(client)
	if own.Check != given.Check || own.Msg != given.Msg {
		t.Errorf("own client: %s %q; http.Client: %s %q; want the same", own.Check, own.Msg, given.Check, given.Msg)
	}
	if want := `Get "` + target + `/ping?x=1": `; own.Check != "connection_refused" || !strings.HasPrefix(own.Msg, want) {
		t.Errorf("own client: %s %q; want connection_refused and a message starting %q", own.Check, own.Msg, want)
	}
}
