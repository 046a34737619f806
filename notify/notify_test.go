package notify

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver is a loopback webhook that keeps what it was posted.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	paths  []string
	status int
}

func newReceiver(t *testing.T, status int) *receiver {
	rc := &receiver{status: status}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s with %q: want a JSON POST (%v)", r.Method, r.URL, b, err)
		}
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, v)
		rc.paths = append(rc.paths, r.URL.Path)
		rc.mu.Unlock()
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]map[string]any(nil), rc.bodies...)
}

var summary = Summary{Tool: "synth", Name: "orders", RunID: "r1", Event: Aborted, Verdict: "ABORTED",
	Reason: "guardrail real-errors: 0.05 above 0.02", Text: "synth orders: aborted\nverdict: ABORTED\n", Reports: []string{"/tmp/r.json"}}

func TestNotifyPostsWhatEachWebhookWants(t *testing.T) {
	t.Parallel()
	slack, plain, passedOnly := newReceiver(t, 200), newReceiver(t, 204), newReceiver(t, 200)
	n := &Notifier{Targets: []Target{
		{Webhook: slack.URL + "/services/T000/B000/secret", Format: FormatSlack, On: []Event{Failed, Aborted}},
		{WebhookEnv: "HOOK"},
		{Webhook: passedOnly.URL, On: []Event{Passed}},
	}, Getenv: func(k string) string {
		if k == "HOOK" {
			return plain.URL + "/hook"
		}
		return ""
	}}
	if failed := n.Notify(t.Context(), summary); failed != 0 {
		t.Fatalf("%d posts failed, want none", failed)
	}
	s := slack.got()
	if len(s) != 1 {
		t.Fatalf("slack got %d posts, want 1", len(s))
	}
	text, _ := s[0]["text"].(string)
	for _, want := range []string{"*synth orders*: ABORTED (run `r1`)", "reason: guardrail real-errors", "report: `/tmp/r.json`", "verdict: ABORTED"} {
		if !strings.Contains(text, want) {
			t.Errorf("slack text %q lacks %q", text, want)
		}
	}
	p := plain.got()
	if len(p) != 1 || p[0]["event"] != "aborted" || p[0]["run_id"] != "r1" || p[0]["reason"] != summary.Reason {
		t.Errorf("json webhook got %v, want the summary (default on: failed, aborted)", p)
	}
	if n := len(passedOnly.got()); n != 0 {
		t.Errorf("a webhook on [passed] got %d posts for an aborted run", n)
	}
	passed := summary
	passed.Event = Passed
	n.Notify(t.Context(), passed)
	if len(slack.got()) != 1 || len(plain.got()) != 1 || len(passedOnly.got()) != 1 {
		t.Errorf("after a passed run: %d, %d, %d posts; want 1, 1, 1", len(slack.got()), len(plain.got()), len(passedOnly.got()))
	}
}

// TestFailingWebhooksAreLoggedNotReturned: a webhook that answers 500, one
// that is not listening and one whose variable is unset are each logged by
// host, never by their full (secret) URL, and the others still get theirs.
func TestFailingWebhooksAreLoggedNotReturned(t *testing.T) {
	t.Parallel()
	broken, good := newReceiver(t, 500), newReceiver(t, 200)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/hooks/secret-token"
	ln.Close()
	var logs bytes.Buffer
	var mu sync.Mutex
	n := &Notifier{Targets: []Target{
		{Webhook: broken.URL + "/hooks/secret-token"}, {Webhook: dead}, {WebhookEnv: "UNSET"}, {Webhook: good.URL},
	}, Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)), Getenv: func(string) string { return "" }}
	if failed := n.Notify(t.Context(), summary); failed != 3 {
		t.Errorf("%d failed, want 3", failed)
	}
	if len(good.got()) != 1 || len(broken.got()) != 1 {
		t.Errorf("good got %d, broken %d posts; want 1 each", len(good.got()), len(broken.got()))
	}
	out := logs.String()
	for _, want := range []string{"status 500", "connection refused", "environment variable UNSET is not set", "the run's outcome stands"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-token") {
		t.Errorf("log shows a webhook's secret path:\n%s", out)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    Target
		want []string
	}{
		{Target{Webhook: "https://hooks.example/x", On: []Event{Failed}, Format: FormatSlack}, nil},
		{Target{WebhookEnv: "X"}, nil},
		{Target{}, []string{"webhook: required"}},
		{Target{Webhook: "https://a/x", WebhookEnv: "X"}, []string{"webhook_env: set webhook or webhook_env, not both"}},
		{Target{Webhook: "ftp://host/secret"}, []string{`webhook: want an http:// or https:// URL, got "ftp://host/..."`}},
		{Target{Webhook: "https://a/x", On: []Event{"done"}, Format: "xml"}, []string{`on[0]: want one of passed, failed, aborted, killed, stopped, inconclusive, got "done"`, `format: want "json" or "slack", got "xml"`}},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range tt.t.Check() {
			got = append(got, p.Key+": "+p.Msg)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%+v: %q, want %q", tt.t, got, tt.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tt.want[i]) {
				t.Errorf("%+v: %q, want %q", tt.t, got[i], tt.want[i])
			}
		}
	}
}
