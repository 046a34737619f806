package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/mirror"
)

// The WebSocket series appear for a route that mirrors WebSockets: a
// connection whose candidate refuses the upgrade counts as mirrored and
// refused, with no message compared.
func TestShadowWebSocketSeries(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil || c.Write(r.Context(), typ, msg) != nil {
				return
			}
		}
	}))
	t.Cleanup(echo.Close)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(refusing.Close)
	rig := newShadowRig(t, mirror.Config{
		Primary: echo.URL, Candidate: refusing.URL,
		Routes: []mirror.Route{{Name: "ws", Path: "/ws", WebSocket: true}},
	}, compare.Config{}, ShadowConfig{}, true)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(rig.url, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	testio.Eventually(t, "the refusal counted", func() bool { return rig.proxy.Stats().WebSockets[0].Refused == 1 })
	got := series(t, rig.reg)
	for key, want := range map[string]float64{
		sk("shadow_websocket_connections_total", "outcome", "mirrored", "route", "ws"): 1,
		sk("shadow_websocket_connections_total", "outcome", "refused", "route", "ws"):  1,
		sk("shadow_websocket_connections_total", "outcome", "skipped", "route", "ws"):  0,
		sk("shadow_websocket_messages_total", "outcome", "compared", "route", "ws"):    0,
		sk("shadow_websocket_messages_total", "outcome", "dropped", "route", "ws"):     0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
}
