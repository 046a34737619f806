package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// The listener's timeouts (server.*) free what slow clients hold: a
// client that stops in the middle of its request head, one that stops in
// the middle of its body, and one that sends nothing after its answer all
// have their connection closed by shadow, and every goroutine serving them
// ends. Not parallel: the goroutines counted are this test's.
func TestListenerTimeoutsFreeSlowClients(t *testing.T) {
	// Upstreams without keep-alive: no idle connection to them is left to
	// count among the goroutines.
	upstream := func() *httptest.Server {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, "ok")
		}))
		s.Config.SetKeepAlivesEnabled(false)
		s.Start()
		t.Cleanup(s.Close)
		return s
	}
	primary, candidate := upstream(), upstream()
	cfgFile := writeFile(t, "shadow.yaml", `
server:
  read_header_timeout: 200ms
  body_read_timeout: 200ms
  idle_timeout: 200ms
mirror:
  routes: [{unsafe: true}]
`)
	base, stop, code, _ := startShadow(t, "--config", cfgFile, "--primary", primary.URL, "--candidate", candidate.URL)
	defer func() {
		stop()
		<-code
	}()
	baseline := runtime.NumGoroutine()

	addr := strings.TrimPrefix(base, "http://")
	const each = 20
	kinds := []struct {
		name, send string
		want       string // the answer's status line before the close; "" for none
	}{
		{"head cut short", "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n", ""},
		{"body cut short", "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789", "HTTP/1.1 408 Request Timeout"},
		{"idle after an answer", "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK"},
	}
	type conn struct {
		kind int
		c    net.Conn
	}
	var conns []conn
	for k, kind := range kinds {
		for range each {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			if _, err := io.WriteString(c, kind.send); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn{k, c})
		}
	}
	for _, cn := range conns {
		kind := kinds[cn.kind]
		_ = cn.c.SetReadDeadline(time.Now().Add(10 * time.Second)) // far past every timeout: a timeout here is a pinned client
		br := bufio.NewReader(cn.c)
		status, _ := br.ReadString('\n')
		_, err := io.Copy(io.Discard, br)
		switch {
		case strings.TrimSpace(status) != kind.want:
			t.Errorf("%s: got %q, want %q", kind.name, strings.TrimSpace(status), kind.want)
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.Errorf("%s: shadow never closed the connection", kind.name)
		}
	}
	testio.Eventually(t, fmt.Sprintf("at most %d goroutines, as before the slow clients", baseline+4), func() bool {
		return runtime.NumGoroutine() <= baseline+4
	})
}
