package testio

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Webhook is a loopback receiver of notifications (package notify's
// posts): it keeps each JSON body it is sent and answers Status.
type Webhook struct {
	*httptest.Server
	mu    sync.Mutex
	posts []map[string]any
}

// NewWebhook starts a Webhook that answers status, closed when t ends. A
// body that is not a JSON object fails t.
func NewWebhook(t testing.TB, status int) *Webhook {
	t.Helper()
	wh := &Webhook{}
	wh.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("webhook got %q: %v", b, err)
		}
		wh.mu.Lock()
		wh.posts = append(wh.posts, v)
		wh.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(wh.Close)
	return wh
}

// Posts returns the bodies received so far, in order.
func (wh *Webhook) Posts() []map[string]any {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	return append([]map[string]any(nil), wh.posts...)
}
