package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultClientTimeout bounds a Client's Snapshot and Control calls, and the
// silence between two lines of a stream, when Client.Timeout is zero.
const DefaultClientTimeout = 10 * time.Second

// maxErrorBody bounds how much of an error answer the client reads.
const maxErrorBody = 64 << 10

// errStreamIdle is the cause of a stream cancelled for silence.
var errStreamIdle = errors.New("stream idle")

// Client is what a dashboard uses to attach to a running instance's admin
// server (`shadow tui --attach URL`). It is safe for concurrent use once
// set up. Set BaseURL; the other fields have working zero values.
type Client struct {
	// BaseURL is where the admin server answers, like
	// "http://127.0.0.1:9090". A path prefix is kept.
	BaseURL string

	// Token is sent as "Authorization: Bearer <Token>" when set.
	Token string

	// HTTP sends the requests. Nil means http.DefaultClient. A Timeout on it
	// would also cut streams short; leave it zero and use Timeout instead.
	HTTP *http.Client

	// Timeout bounds each Snapshot and Control call, and how long a stream
	// may stay silent (at least three of the server's stream intervals).
	// Zero means DefaultClientTimeout.
	Timeout time.Duration

	// MaxSnapshotBytes bounds one snapshot read. Zero means
	// DefaultMaxSnapshotBytes.
	MaxSnapshotBytes int
}

// ErrNotAdmin is wrapped by Client errors from a URL that answers HTTP but
// not as an admin server: a 404 without the server's JSON error, or a
// snapshot that is not JSON. Asking again will not help; the URL is wrong.
var ErrNotAdmin = errors.New("not an understudy admin endpoint")

// StatusError is what Client methods return when the server answers with a
// status other than 200. For 501 it wraps ErrUnsupported, for 400
// ErrInvalid, and for a 404 that did not come from an admin server
// ErrNotAdmin.
type StatusError struct {
	// Method and URL are the request that failed.
	Method, URL string
	// StatusCode is the HTTP status, like 401.
	StatusCode int
	// Message is what the server said was wrong, or the start of its body.
	Message string
	// FromAdmin is true when the answer is an admin server's JSON error
	// ({"ok":false,"error":"..."}), false for any other body.
	FromAdmin bool
}

// Error names the request, the status and the server's message.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("admin %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns ErrUnsupported for a 501, ErrInvalid for a 400 and
// ErrNotAdmin for a 404 from a server that is not an admin server, so that
// errors.Is works on them.
func (e *StatusError) Unwrap() error {
	switch e.StatusCode {
	case http.StatusNotImplemented:
		return ErrUnsupported
	case http.StatusBadRequest:
		return ErrInvalid
	case http.StatusNotFound:
		if !e.FromAdmin {
			return ErrNotAdmin
		}
	}
	return nil
}

// Snapshot fetches the current state and decodes its JSON into into, as
// json.Unmarshal does.
func (c *Client) Snapshot(ctx context.Context, into any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	resp, u, err := c.do(ctx, http.MethodGet, "/snapshot", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("admin GET %s: answered 200 with Content-Type %q, not a JSON snapshot: %w", u, resp.Header.Get("Content-Type"), ErrNotAdmin)
	}
	max := c.maxSnapshot()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+2)) // + newline, + one to notice
	if err != nil {
		return fmt.Errorf("admin GET %s: read snapshot: %w", u, err)
	}
	if body = bytes.TrimSpace(body); len(body) > max {
		return fmt.Errorf("admin GET %s: snapshot is larger than %d bytes (MaxSnapshotBytes)", u, max)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("admin GET %s: decode snapshot: %w", u, err)
	}
	return nil
}

// Stream reads the snapshot stream and calls fn with each snapshot, in
// order, until something ends it. fn owns raw. Stream returns:
//   - ctx.Err() when ctx is done;
//   - fn's error, unchanged, when fn returns one;
//   - nil when the server ended the stream cleanly (it shut down), so a
//     caller that wants to stay attached reconnects;
//   - otherwise an error naming the URL: the server refused or broke the
//     stream, a snapshot was too large, or nothing arrived within Timeout
//     or three stream intervals, whichever is longer (fn's own time does
//     not count).
func (c *Client) Stream(ctx context.Context, fn func(raw json.RawMessage) error) error {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timeout := c.timeout()
	idle := time.AfterFunc(timeout, func() { cancel(errStreamIdle) })
	defer idle.Stop()

	resp, u, err := c.do(ctx, http.MethodGet, "/snapshot/stream", nil)
	if err != nil {
		if cerr := streamCancelled(parent, ctx, u, timeout); cerr != nil {
			return cerr
		}
		return err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != ndjson {
		return fmt.Errorf("admin GET %s: want Content-Type %s, got %q", u, ndjson, resp.Header.Get("Content-Type"))
	}
	// A server that streams more slowly than Timeout is slow, not dead.
	if interval, err := time.ParseDuration(resp.Header.Get(streamIntervalHeader)); err == nil {
		timeout = max(timeout, 3*interval)
	}
	idle.Reset(timeout)

	max := c.maxSnapshot()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, min(64<<10, max+1)), max+1)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			return fmt.Errorf("admin GET %s: line %d of the stream is not JSON", u, n)
		}
		idle.Stop()
		if err := fn(bytes.Clone(line)); err != nil {
			return err
		}
		idle.Reset(timeout)
	}
	if err := sc.Err(); err != nil {
		if cerr := streamCancelled(parent, ctx, u, timeout); cerr != nil {
			return cerr
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("admin GET %s: a snapshot is larger than %d bytes (MaxSnapshotBytes)", u, max)
		}
		return fmt.Errorf("admin GET %s: read stream: %w", u, err)
	}
	if msg := resp.Trailer.Get(streamErrorTrailer); msg != "" {
		return fmt.Errorf("admin GET %s: server ended the stream: %s", u, msg)
	}
	return nil
}

// streamCancelled says why a stream was cancelled, if it was: the
// caller's ctx was done, or the stream stayed silent for timeout.
func streamCancelled(parent, ctx context.Context, u string, timeout time.Duration) error {
	if err := parent.Err(); err != nil {
		return err
	}
	if errors.Is(context.Cause(ctx), errStreamIdle) {
		return fmt.Errorf("admin GET %s: no snapshot for %v (Timeout): %w", u, timeout, errStreamIdle)
	}
	return nil
}

// Control asks the instance to carry out action ("pause", "resume", "rate",
// "stop" or "kill") and returns the rate it applied, which may be lower than
// rate (the instance's ceiling). rate is used by "rate" only. The tuning
// actions have their own methods, Sample and Route.
func (c *Client) Control(ctx context.Context, action string, rate float64) (applied float64, err error) {
	cmd := Command{Action: Action(action)}
	switch cmd.Action {
	case ActionRate:
		cmd.Rate = rate
	case ActionSample, ActionRoute:
		return 0, fmt.Errorf("admin control: action %q takes arguments: use Client.Sample or Client.Route", action)
	}
	answer, err := c.send(ctx, cmd)
	if err != nil {
		return 0, err
	}
	if answer.Rate != nil {
		applied = *answer.Rate
	}
	return applied, nil
}

// Sample asks the instance to mirror percent (0 to 100) of its eligible
// requests from now on. An instance that cannot be tuned answers 501, and
// the error wraps ErrUnsupported.
func (c *Client) Sample(ctx context.Context, percent float64) error {
	_, err := c.send(ctx, Command{Action: ActionSample, Percent: percent})
	return err
}

// Route asks the instance to stop mirroring the route named name
// (disabled true) or to start again (false). An unknown name is an error
// that carries the server's message, which lists the known routes.
func (c *Client) Route(ctx context.Context, name string, disabled bool) error {
	_, err := c.send(ctx, Command{Action: ActionRoute, Route: name, Disabled: disabled})
	return err
}

// send validates cmd, posts it to /control and returns the answer.
func (c *Client) send(ctx context.Context, cmd Command) (controlAnswer, error) {
	if err := cmd.Validate(); err != nil {
		return controlAnswer{}, fmt.Errorf("admin control: %w", err)
	}
	body, err := json.Marshal(cmd.wire())
	if err != nil {
		return controlAnswer{}, fmt.Errorf("admin control: encode command: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	resp, u, err := c.do(ctx, http.MethodPost, "/control", bytes.NewReader(body))
	if err != nil {
		return controlAnswer{}, err
	}
	defer resp.Body.Close()
	var answer controlAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&answer); err != nil {
		return controlAnswer{}, fmt.Errorf("admin POST %s: decode answer: %w", u, err)
	}
	if !answer.OK {
		return controlAnswer{}, fmt.Errorf("admin POST %s: server answered 200 without ok", u)
	}
	return answer, nil
}

// do sends one request and returns the response when its status is 200,
// and the URL it used. Any other status becomes a *StatusError.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, string, error) {
	u, err := c.url(path)
	if err != nil {
		return nil, u, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, u, fmt.Errorf("admin %s %s: %w", method, u, err)
	}
	req.Header.Set(RequestHeader, "1")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the method and URL
		}
		return nil, u, fmt.Errorf("admin %s %s: %w", method, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, fromAdmin := errorMessage(resp.Body)
		return nil, u, &StatusError{Method: method, URL: u, StatusCode: resp.StatusCode, Message: msg, FromAdmin: fromAdmin}
	}
	return resp, u, nil
}

func (c *Client) url(path string) (string, error) {
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return c.BaseURL + path, fmt.Errorf("admin client: BaseURL %q: want http://host:port or https://host:port", c.BaseURL)
	}
	return strings.TrimSuffix(c.BaseURL, "/") + path, nil
}

// errorMessage pulls the server's message out of an error answer: the
// "error" of an admin server's JSON body (fromAdmin), or the start of any
// other.
func errorMessage(body io.Reader) (msg string, fromAdmin bool) {
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	var e struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.OK != nil && !*e.OK && e.Error != "" {
		return e.Error, true
	}
	msg = strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg, false
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultClientTimeout
}

func (c *Client) maxSnapshot() int {
	if c.MaxSnapshotBytes > 0 {
		return c.MaxSnapshotBytes
	}
	return DefaultMaxSnapshotBytes
}
