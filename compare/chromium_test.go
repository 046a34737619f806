//go:build unix

package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chromiumNames are the browsers a test may drive, first found wins;
// $CHROMIUM names another.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium returns the browser's path, or skips the test: it is the
// only reason a browser test may skip.
func findChromium(t *testing.T) string {
	t.Helper()
	names := chromiumNames
	if env := os.Getenv("CHROMIUM"); env != "" {
		names = []string{env}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("no headless browser to open the HTML report in (looked for %s): install Debian's chromium "+
		"(apt-get install chromium; .ci/run does)", strings.Join(names, ", "))
	return ""
}

// browser is a headless Chromium started by a test, driven over the
// Chrome DevTools Protocol on a loopback websocket, with one page open.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	conn    *websocket.Conn
	session string // the page's flattened CDP session

	mu      sync.Mutex
	next    int64
	pending map[int64]chan cdpMessage
	events  []cdpMessage
	dropped int // events past maxEvents
	notify  chan struct{}
	err     error // why the connection ended
	done    chan struct{}
}

// maxEvents bounds the events a browser keeps.
const maxEvents = 10000

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts Chromium with nothing but loopback to talk to and
// opens a blank page; cleanup closes it and waits for every process it
// started.
func startBrowser(ctx context.Context, t *testing.T) *browser {
	t.Helper()
	bin := findChromium(t)
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "profile")
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage", "--mute-audio",
		"--no-default-browser-check", "--disable-crash-reporter", "--password-store=basic",
		// Anything not on loopback goes to a port where nothing listens.
		"--proxy-server=http://127.0.0.1:9",
		"--user-data-dir="+profile,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"about:blank")
	cmd.Stdout, cmd.Stderr = logf, logf // a file: Wait need not wait for the browser's children
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	b := &browser{t: t, cmd: cmd, pending: map[int64]chan cdpMessage{}, notify: make(chan struct{}, 1), done: make(chan struct{})}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if b.conn == nil { // it never listened: nothing to ask
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		b.close()
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Errorf("chromium did not exit after Browser.close; killing its process group %d", cmd.Process.Pid)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		// Its helpers (zygote, renderers) share its process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		logf.Close()
		if t.Failed() {
			if log, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("chromium's output:\n%s", tail(string(log), 4000))
			}
		}
	})

	wsURL, err := devToolsURL(ctx, profile, exited)
	if err != nil {
		t.Fatal(err)
	}
	b.conn, _, err = websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("connect to chromium at %s: %v", wsURL, err)
	}
	b.conn.SetReadLimit(64 << 20) // screenshots
	go b.read()

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.call(ctx, "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.call(ctx, "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	return b
}

// devToolsURL waits for Chromium to write the port it listens on.
func devToolsURL(ctx context.Context, profile string, exited <-chan error) (string, error) {
	path := filepath.Join(profile, "DevToolsActivePort")
	for {
		if b, err := os.ReadFile(path); err == nil {
			if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) == 2 {
				return "ws://127.0.0.1:" + lines[0] + lines[1], nil
			}
		}
		select {
		case err := <-exited:
			return "", fmt.Errorf("chromium exited before listening: %v", err)
		case <-ctx.Done():
			return "", fmt.Errorf("chromium never wrote %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// read dispatches answers to their calls and keeps events.
func (b *browser) read() {
	defer close(b.done)
	for {
		_, data, err := b.conn.Read(context.Background())
		if err != nil {
			b.mu.Lock()
			b.err = err
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(data, &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				delete(b.pending, m.ID)
				ch <- m
			}
		} else if len(b.events) < maxEvents {
			b.events = append(b.events, m)
		} else {
			b.dropped++
		}
		b.mu.Unlock()
		select {
		case b.notify <- struct{}{}:
		default:
		}
	}
}

// call sends a command to the page (to the browser for Target.* and
// Browser.*) and decodes its result into out; an error fails the test.
func (b *browser) call(ctx context.Context, method string, params, out any) {
	b.t.Helper()
	if err := b.try(ctx, method, params, out); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) try(ctx context.Context, method string, params, out any) error {
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	b.next++
	id := b.next
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if b.session != "" && !strings.HasPrefix(method, "Target.") && !strings.HasPrefix(method, "Browser.") {
		msg["sessionId"] = b.session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if err := b.conn.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("cdp %s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("cdp %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				return fmt.Errorf("cdp %s: decode %s: %w", method, m.Result, err)
			}
		}
		return nil
	case <-b.done:
		return fmt.Errorf("cdp %s: connection closed: %v", method, b.err)
	case <-ctx.Done():
		return fmt.Errorf("cdp %s: %w", method, ctx.Err())
	}
}

// eval evaluates a JavaScript expression in the page and decodes its
// value (returned by value, so objects arrive as JSON) into out.
func (b *browser) eval(ctx context.Context, expr string, out any) {
	b.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if e := res.ExceptionDetails; e != nil {
		b.t.Fatalf("evaluate %q: %s %s", expr, e.Text, e.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			b.t.Fatalf("evaluate %q: decode %s: %v", expr, res.Result.Value, err)
		}
	}
}

// mark returns a cursor: events from now on are after it.
func (b *browser) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

// since returns the page's events with method after cursor.
func (b *browser) since(cursor int, method string) []cdpMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []cdpMessage
	for _, e := range b.events[cursor:] {
		if e.Method == method && e.SessionID == b.session {
			out = append(out, e)
		}
	}
	return out
}

// wait waits for an event with method after cursor.
func (b *browser) wait(ctx context.Context, cursor int, method string) {
	b.t.Helper()
	for len(b.since(cursor, method)) == 0 {
		select {
		case <-b.notify:
		case <-b.done:
			b.t.Fatalf("waiting for %s: connection closed: %v", method, b.err)
		case <-ctx.Done():
			b.t.Fatalf("waiting for %s: %v", method, ctx.Err())
		}
	}
}

// navigate opens url and waits for its load event; it returns the event
// cursor from before the navigation.
func (b *browser) navigate(ctx context.Context, url string) int {
	b.t.Helper()
	cursor := b.mark()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	b.call(ctx, "Page.navigate", map[string]any{"url": url}, &res)
	if res.ErrorText != "" {
		b.t.Fatalf("navigate to %s: %s", url, res.ErrorText)
	}
	b.wait(ctx, cursor, "Page.loadEventFired")
	return cursor
}

// click presses and releases the left mouse button at the middle of the
// element selector names, as a person clicking it would.
func (b *browser) click(ctx context.Context, selector string) {
	b.t.Helper()
	var at struct{ X, Y float64 }
	b.eval(ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect(); return {X: r.x + r.width / 2, Y: r.y + r.height / 2}; })()`, selector), &at)
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		b.call(ctx, "Input.dispatchMouseEvent", map[string]any{
			"type": typ, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1,
		}, nil)
	}
}

// close asks the browser to quit and ends the connection.
func (b *browser) close() {
	if b.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.try(ctx, "Browser.close", nil, nil) // it may hang up before it answers
	b.conn.CloseNow()
	<-b.done
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
