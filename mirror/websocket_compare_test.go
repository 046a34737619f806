package mirror

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// wsJSONHandler answers each JSON message {"n": N} with {"n": N, "v":
// version, "ts": a value of its own}: every server stamps its messages
// differently, as servers stamping the time do. changeEven makes it answer
// "v": "2" to even N only.
func wsJSONHandler(name string, changeEven bool) http.HandlerFunc {
	var stamp atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
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
			out, _ := json.Marshal(map[string]any{"n": in.N, "v": v, "ts": name + "-" + string(rune('a'+stamp.Add(1)%26))})
			if c.Write(r.Context(), typ, out) != nil {
				return
			}
		}
	}
}

// TestWebSocketMessageDiffs proves messages are judged with the same
// comparators as answers and their noise cancelled by the secondary: the
// primary and the secondary stamp every message differently ("ts"), the
// candidate also answers "v": "2" to even messages; only "v" counts, half
// the messages differ, and every report shows the endpoint's messages
// compared / differing row on the upgrade path.
func TestWebSocketMessageDiffs(t *testing.T) {
	engine, err := compare.New(compare.Config{})
	if err != nil {
		t.Fatal(err)
	}
	primary := wsServer(t, wsJSONHandler("p", false))
	sec := wsServer(t, wsJSONHandler("s", false))
	cand := wsServer(t, wsJSONHandler("c", true))
	refusing := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	routes := []Route{{Name: "ws", Path: "/ws", WebSocket: true}}
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Secondary: sec.URL, Routes: routes, Observer: engine}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	const n = 40
	for conn := range 2 {
		c, _ := wsDial(t, ctx, addr)
		for i := range n / 2 {
			msg, _ := json.Marshal(map[string]int{"n": conn*n/2 + i})
			if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Read(ctx); err != nil {
				t.Fatal(err)
			}
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
	wsSessionsDone(t, p)

	// A candidate refusing the upgrade shows on the endpoint as a status
	// difference of the upgrade.
	p2, addr2 := shadowFront(t, Config{Primary: primary.URL, Candidate: refusing.URL, Routes: routes, Observer: engine}, nil)
	c, _ := wsDial(t, ctx, addr2)
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"n":1}`))
	_, _, _ = c.Read(ctx)
	_ = c.Close(websocket.StatusNormalClosure, "")
	wsSessionsDone(t, p2)
	if s := p2.Stats().WebSockets[0]; s.Refused != 1 {
		t.Errorf("refusing candidate: stats %+v", s)
	}

	r := engine.Report()
	if len(r.Endpoints) != 1 {
		t.Fatalf("endpoints %+v, want GET /ws alone", r.Endpoints)
	}
	ep := r.Endpoints[0]
	if ep.Method != "GET" || ep.Route != "/ws" {
		t.Errorf("endpoint %s %s, want GET /ws", ep.Method, ep.Route)
	}
	want := compare.MessageCounts{Compared: n, Differing: n / 2}
	if ep.Messages == nil || *ep.Messages != want {
		t.Fatalf("messages %+v, want %+v", ep.Messages, want)
	}
	fields := map[string]compare.FieldReport{}
	for _, f := range ep.Fields {
		fields[f.Path] = f
	}
	if f := fields["$.v"]; f.Diffs != n/2 || f.Noisy {
		t.Errorf("$.v: %+v, want %d diffs that count", f, n/2)
	}
	if f := fields["$.ts"]; !f.Noisy {
		t.Errorf("$.ts: %+v, want noise", f)
	}
	if f := fields["status"]; f.Diffs != 1 {
		t.Errorf("status: %+v, want the refused upgrade", f)
	}
	// 3 upgrades, n messages; one upgrade refused.
	if ep.Pairs != n+3 || ep.StatusDiffs != 1 || ep.Diffs != n/2+1 {
		t.Errorf("pairs %d, status diffs %d, diffs %d", ep.Pairs, ep.StatusDiffs, ep.Diffs)
	}

	var js, md, html bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"messages": {`+"\n"+`        "compared": 40,`+"\n"+`        "differing": 20,`) {
		t.Errorf("JSON report has no messages counts:\n%s", js.String())
	}
	_ = r.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "| `GET /ws` | 40 compared / 20 differing |") {
		t.Errorf("Markdown report has no messages row:\n%s", md.String())
	}
	_ = r.WriteHTML(&html)
	if !strings.Contains(html.String(), "WebSocket messages: 40 compared / 20 differing") {
		t.Error("HTML report has no messages row")
	}
}

// TestWebSocketCandidateGone proves a candidate that closes its
// connection early leaves the primary's later messages without a
// counterpart: each is a candidate error of the endpoint, not a diff.
func TestWebSocketCandidateGone(t *testing.T) {
	col := newCollector()
	primary := wsServer(t, wsEchoHandler(t))
	cand := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		typ, msg, err := c.Read(r.Context())
		if err == nil {
			_ = c.Write(r.Context(), typ, msg)
		}
		_ = c.Close(websocket.StatusGoingAway, "leaving")
	}))
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Routes: wsRoutes, Observer: col}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _ := wsDial(t, ctx, addr)
	for _, m := range []string{"a", "b", "c"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	var got []*exchange.Exchange
	for range 4 {
		got = append(got, col.next(t))
	}
	wsSessionsDone(t, p)
	if got[1].Candidate.Error != "" || string(got[1].Candidate.Body) != "a" {
		t.Errorf("message 1: candidate %q (%s)", got[1].Candidate.Body, got[1].Candidate.Error)
	}
	for _, x := range got[2:] {
		if !strings.Contains(x.Candidate.Error, "connection ended after 1 messages") || !strings.Contains(x.Candidate.Error, "StatusGoingAway") {
			t.Errorf("message %d: candidate error %q", x.WebSocket.Message, x.Candidate.Error)
		}
	}
}
