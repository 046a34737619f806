package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
)

// wsStampServer answers each message {"n": N} with {"n": N, "v": "1" (or
// "2" for even N when changeEven), "ts": a stamp of its own}.
func wsStampServer(t *testing.T, name string, changeEven bool) *httptest.Server {
	t.Helper()
	var stamp atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			var in struct{ N int }
			_ = json.Unmarshal(msg, &in)
			v := "1"
			if changeEven && in.N%2 == 0 {
				v = "2"
			}
			out := fmt.Sprintf(`{"n":%d,"v":%q,"ts":"%s-%d"}`, in.N, v, name, stamp.Add(1))
			if c.Write(r.Context(), typ, []byte(out)) != nil {
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// shadow run with a route that mirrors WebSockets: the client's
// connection works as ever, the messages are compared with the
// secondary's noise cancelled, the verdict fails on the changed field,
// and the report's endpoint is the upgrade path with its messages row.
func TestRunWebSocketMirror(t *testing.T) {
	primary, secondary := wsStampServer(t, "p", false), wsStampServer(t, "s", false)
	candidate := wsStampServer(t, "c", true)
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	config := writeFile(t, "shadow.yaml", "mirror:\n  routes:\n    - {name: live, path: /ws, websocket: true}\n")
	base, stop, code, out := startShadow(t, "--config", config, "--primary", primary.URL, "--candidate", candidate.URL,
		"--secondary", secondary.URL, "--report-out", report, "--summary-interval", "100ms", "--no-tui")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		if err := c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || !strings.HasPrefix(string(got), fmt.Sprintf(`{"n":%d,"v":"1","ts":"p-`, i)) {
			t.Fatalf("message %d: client got %q (%v), want the primary's", i, got, err)
		}
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	out.WaitFor(t, "the upgrade and every message compared", regexp.MustCompile(`compared 31 `).MatchString)
	stop()
	select {
	case got := <-code:
		if got != cli.ExitFail {
			t.Fatalf("exit code %d, want %d (verdict fail)\n%s", got, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow did not stop")
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Endpoints []struct {
			Method, Route string
			Pairs, Diffs  int
			Messages      *struct{ Compared, Differing int }
			Fields        []struct {
				Path  string
				Diffs int
				Noisy bool
			}
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Endpoints) != 1 {
		t.Fatalf("report endpoints %+v, want GET /ws", rep.Endpoints)
	}
	ep := rep.Endpoints[0]
	if ep.Method != "GET" || ep.Route != "/ws" || ep.Pairs != n+1 || ep.Diffs != n/2 || ep.Messages == nil ||
		ep.Messages.Compared != n || ep.Messages.Differing != n/2 {
		t.Errorf("endpoint %+v (messages %+v), want GET /ws with %d pairs, %d messages of which %d differ", ep, ep.Messages, n+1, n, n/2)
	}
	for _, f := range ep.Fields {
		if (f.Path == "$.v") == f.Noisy || (f.Path == "$.ts") != f.Noisy {
			t.Errorf("field %+v: want $.v counted and $.ts noise", f)
		}
	}
}
