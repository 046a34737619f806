package dash

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/tui"
)

// wait bounds every wait of these tests: long enough for a loaded
// machine, short enough that a hang fails instead of stalling the suite.
const wait = 20 * time.Second

// runSnapshot is what the fake instance shows: a synthetic run.
var runSnapshot = tui.Snapshot{Synth: &tui.SynthSnapshot{RunID: "attach-test", Scenario: "attach-test"}}

// adminURL serves a real admin server for one test and returns its URL.
func adminURL(t *testing.T, cfg admin.Config) string {
	t.Helper()
	if cfg.Snapshot == nil {
		cfg.Snapshot = func() any { return runSnapshot }
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := admin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

// attach runs `BINARY tui --attach url args...` in process, not on a
// terminal (plain lines), until ctx is done or interrupts delivers.
func attach(ctx context.Context, interrupts <-chan os.Signal, out io.Writer, url string, args ...string) error {
	cmd := NewAttachCmd("synth", interrupts)
	cmd.SetArgs(append([]string{"--attach", url}, args...))
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	defer http.DefaultClient.CloseIdleConnections() // the attach client's transport
	return cmd.ExecuteContext(ctx)
}

// Attached to a URL that is not an admin endpoint, or without the token
// the endpoint wants, the command says once what is wrong and ends with
// an error, after one request: it does not print a line every interval.
func TestAttachRefusesWhatIsNotAnAdminEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.Handler
		want    string
	}{
		{"404 for every path", http.NotFoundHandler(), "answered 404: not an understudy admin endpoint"},
		{"html for every path", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html>shop</html>")
		}), `answered 200 with Content-Type "text/html; charset=utf-8", not a JSON snapshot: not an understudy admin endpoint`},
		{"admin wants a token", nil, "wants its token (--token or SYNTH_ADMIN_TOKEN): admin GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			inner := tt.handler
			if inner == nil {
				srv, err := admin.New(admin.Config{Token: "0123456789abcdef", Snapshot: func() any { return runSnapshot }, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				inner = srv.Handler()
			}
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				inner.ServeHTTP(w, r)
			}))
			defer ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			var out testio.Buffer
			err := attach(ctx, nil, &out, ts.URL+"/", "--interval", "5ms")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "attach: "+ts.URL+"/") {
				t.Errorf("attach = %v, want an error naming %s and containing %q", err, ts.URL+"/", tt.want)
			}
			if ctx.Err() != nil {
				t.Error("attach kept going until the test's deadline")
			}
			if got := hits.Load(); got != 1 {
				t.Errorf("the server saw %d requests, want 1", got)
			}
			if out.String() != "" {
				t.Errorf("attach printed %q before failing, want nothing", out.String())
			}
		})
	}
}

// Once attached, an error the instance may recover from is printed once
// however often it recurs, the lines resume when it does, and an answer
// that asking again cannot cure ends the command with an error.
func TestAttachSaysErrorsOnceAndStopsOnPermanentOnes(t *testing.T) {
	t.Parallel()
	srv, err := admin.New(admin.Config{Snapshot: func() any { return runSnapshot }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const (
		healthy = iota
		overloaded
		gone
	)
	var mode, overloads atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case overloaded:
			overloads.Add(1)
			http.Error(w, "try later", http.StatusServiceUnavailable)
		case gone:
			http.NotFound(w, r) // the port now belongs to something else
		default:
			srv.Handler().ServeHTTP(w, r)
		}
	}))
	defer ts.Close()

	var out testio.Buffer
	done := make(chan error, 1)
	go func() { done <- attach(context.Background(), nil, &out, ts.URL, "--interval", "5ms") }()
	lines := func() int { return strings.Count(out.String(), "synth attach-test") }
	testio.Eventually(t, "plain line", func() bool { return lines() > 0 })

	mode.Store(overloaded)
	testio.Eventually(t, "five refused snapshots", func() bool { return overloads.Load() >= 5 })
	before := lines()
	mode.Store(healthy)
	testio.Eventually(t, "line after the overload", func() bool { return lines() > before })
	mode.Store(gone)
	var got error
	select {
	case got = <-done:
	case <-time.After(wait):
		t.Fatalf("attach still runs %v after the instance went away:\n%s", wait, out.String())
	}
	if want := "answered 404: not an understudy admin endpoint"; got == nil || !strings.Contains(got.Error(), want) {
		t.Errorf("attach = %v, want an error containing %q", got, want)
	}
	if n := strings.Count("\n"+out.String(), "\nsnapshot: "); n != 1 || !strings.Contains(out.String(), "503 Service Unavailable: try later (asking again every 5ms)") {
		t.Errorf("after %d refused snapshots the output has %d error lines, want 1 saying it asks again:\n%s", overloads.Load(), n, out.String())
	}
}

// The command ends cleanly when interrupted, off a terminal: on the first
// value from interrupts (synth: SIGINT or SIGTERM) or when its context
// ends (shadow's signal.NotifyContext).
func TestAttachEndsOnInterrupt(t *testing.T) {
	t.Parallel()
	url := adminURL(t, admin.Config{})
	for _, viaChannel := range []bool{true, false} {
		t.Run(fmt.Sprintf("channel=%v", viaChannel), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			interrupts := make(chan os.Signal, 1)
			var out testio.Buffer
			done := make(chan error, 1)
			go func() {
				if viaChannel {
					done <- attach(context.Background(), interrupts, &out, url, "--interval", "5ms")
				} else {
					done <- attach(ctx, nil, &out, url, "--interval", "5ms")
				}
			}()
			testio.Eventually(t, "plain line", func() bool { return strings.Contains(out.String(), "synth attach-test") })
			if viaChannel {
				interrupts <- syscall.SIGTERM
			} else {
				cancel()
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("attach = %v, want nil after an interrupt", err)
				}
			case <-time.After(wait):
				t.Fatalf("attach still runs %v after the interrupt", wait)
			}
		})
	}
}

// The built binaries, attached with their output in a pipe (no
// terminal), end with exit code 0 on SIGTERM and SIGINT, and on a URL
// that is not an admin endpoint exit 3 after saying so once.
func TestAttachBinaryHonoursSignals(t *testing.T) {
	url := adminURL(t, admin.Config{})
	notAdmin := httptest.NewServer(http.NotFoundHandler())
	defer notAdmin.Close()
	for _, binary := range []string{"synth", "shadow"} {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(binary+"/"+sig.String(), func(t *testing.T) {
				var out testio.Buffer
				cmd := exec.Command(testio.Binary(t, binary), "tui", "--attach", url, "--no-tui", "--interval", "10ms")
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				defer func() {
					if cmd.ProcessState == nil {
						_ = cmd.Process.Kill()
						<-exited
					}
				}()
				testio.Eventually(t, "plain line", func() bool { return strings.Contains(out.String(), "synth attach-test") })
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-exited:
					if err != nil {
						t.Errorf("%s tui --attach after %v: %v, want exit 0\n%s", binary, sig, err, out.String())
					}
				case <-time.After(wait):
					t.Fatalf("%s tui --attach still runs %v after %v", binary, wait, sig)
				}
			})
		}
		t.Run(binary+"/not an admin endpoint", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			out, err := exec.CommandContext(ctx, testio.Binary(t, binary), "tui", "--attach", notAdmin.URL, "--no-tui", "--interval", "10ms").CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Errorf("exit = %v, want code 3\n%s", err, out)
			}
			want := binary + ": attach: " + notAdmin.URL + " answered 404: not an understudy admin endpoint"
			if got := string(out); strings.Count(got, "404") != 1 || !strings.HasPrefix(got, want) {
				t.Errorf("output:\n%s\nwant one line starting %q", got, want)
			}
		})
	}
}
