package testio

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PrometheusBinary is where Debian's prometheus package puts the server.
const PrometheusBinary = "/usr/bin/prometheus"

// Prometheus is a real Prometheus server a test started: its own config
// and storage in the test's temporary directory, on a free loopback port,
// scraping the test's targets every ScrapeInterval. It is stopped when
// the test ends.
type Prometheus struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234.
	URL string
	cmd *exec.Cmd
	out *Buffer
	end chan struct{} // closed when the process has exited
}

// ScrapeInterval is how often a test's Prometheus scrapes its targets.
const ScrapeInterval = time.Second

// StartPrometheus starts Prometheus scraping targets (host:port of
// /metrics endpoints) and waits until it is ready. It skips the test,
// saying so, only when the binary is not installed (apt-get install
// prometheus; .ci/run does).
func StartPrometheus(t testing.TB, targets ...string) *Prometheus {
	t.Helper()
	bin, err := exec.LookPath(PrometheusBinary)
	if err != nil {
		t.Skipf("Prometheus is not installed (%v): apt-get install prometheus, as .ci/run does", err)
	}
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = fmt.Sprintf("%q", tg)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: %s
  evaluation_interval: %s
scrape_configs:
  - job_name: test
    static_configs:
      - targets: [%s]
`, ScrapeInterval, ScrapeInterval, strings.Join(quoted, ", "))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var last error
	for range 5 { // the free port may be taken before Prometheus binds it
		addr, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		p := &Prometheus{URL: "http://" + addr, out: &Buffer{}, end: make(chan struct{})}
		p.cmd = exec.Command(bin,
			"--config.file="+cfgPath,
			"--storage.tsdb.path="+filepath.Join(dir, "data-"+strings.ReplaceAll(addr, ":", "_")),
			"--web.listen-address="+addr,
			"--storage.tsdb.retention.time=1h",
			"--log.level=warn",
		)
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		go func() {
			_ = p.cmd.Wait()
			close(p.end)
		}()
		if last = p.waitReady(30 * time.Second); last == nil {
			t.Cleanup(p.Stop)
			return p
		}
		p.Stop()
	}
	t.Fatalf("Prometheus did not become ready: %v", last)
	return nil
}

// Stop ends the server (if it still runs) and waits for it. Safe twice.
func (p *Prometheus) Stop() {
	select {
	case <-p.end:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.end
}

// Output returns what the server has logged so far.
func (p *Prometheus) Output() string { return p.out.String() }

func (p *Prometheus) waitReady(limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for {
		resp, err := client.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-p.end:
			return fmt.Errorf("it exited: %s", p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v): %s", ctx.Err(), err, p.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitFor waits until the server answers an instant query with want (once
// it has scraped the value), failing the test after a generous wait.
func (p *Prometheus) WaitFor(t testing.TB, query string, want float64) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(query))
		if err == nil {
			var body struct {
				Data struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && len(body.Data.Result) == 1 {
				if s, ok := body.Data.Result[0].Value[1].(string); ok {
					if v, err := strconv.ParseFloat(s, 64); err == nil && v == want {
						return
					}
					last = s
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Prometheus answers %s with %q, want %v\n%s", query, last, want, p.Output())
}

// HostPort returns the host:port of a URL, for scrape targets.
func HostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
