package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/testio"
)

// echoServer answers like go-httpbin: /headers, /get and /anything echo
// the request's headers, query ("args"), full URL, raw body ("data") and
// decoded form or JSON body, the way services and debug endpoints leak
// what they were sent. version 2 (the candidate) reports an https URL
// and one more field, so the URL shows up as a difference.
func echoServer(t *testing.T, version int) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		scheme := "http"
		if version == 2 {
			scheme = "https"
		}
		echo := map[string]any{"headers": r.Header}
		if r.URL.Path != "/headers" {
			echo["args"] = r.URL.Query()
			echo["url"] = scheme + "://" + r.Host + r.URL.RequestURI()
		}
		if r.URL.Path == "/anything" {
			echo["method"] = r.Method
			echo["data"] = string(body)
			if f, err := url.ParseQuery(string(body)); err == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				echo["form"] = f
			}
			var v any
			if json.Unmarshal(body, &v) == nil {
				echo["json"] = v
			}
		}
		if version == 2 {
			echo["v2"] = true
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo-Auth", r.Header.Get("Authorization"))
		json.NewEncoder(w).Encode(echo) // escapes <, > and & as \u003c...
	}))
	t.Cleanup(s.Close)
	return s
}

// echoedSecrets are sent through the proxy in every place a client puts
// credentials; several hold characters that JSON and URLs escape.
var echoedSecrets = map[string]string{
	"bearer":       "e2e-bearer-Tok.1",
	"cookie":       `e2e-cookie/"2&<x>`,
	"apikey":       "e2e-apikey-3",
	"authtoken":    "e2e-authtok-4",
	"q_token":      "e2e-qtok+/=5",
	"q_api_key":    "e2e-qkey-6",
	"q_password":   "e2e qpw&7",
	"q_access":     "e2e-qaccess-8",
	"b_password":   `e2e-bpw"\9`,
	"b_card":       "4000056655665556",
	"b_cvv":        "e2e-cvv-10",
	"f_password":   "e2e-fpw/11",
	"f_card":       "5200828282828210",
	"f_cvv":        "e2e-fcvv-12",
	"cookie_other": "e2e-cookie-13",
}

// escapedForms lists what a secret looks like raw, in JSON (as
// encoding/json writes it), and URL-escaped; and each of those as the
// HTML and JUnit reports escape text.
func escapedForms(s string) []string {
	j, _ := json.Marshal(s)
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	jr := strings.TrimSpace(raw.String())
	forms := []string{s, string(j[1 : len(j)-1]), url.QueryEscape(s), url.PathEscape(s), jr[1 : len(jr)-1]}
	for _, f := range slices.Clone(forms) {
		var x bytes.Buffer
		xml.EscapeText(&x, []byte(f))
		forms = append(forms, html.EscapeString(f), template.HTMLEscapeString(f), x.String(),
			strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(f))
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// Secrets a service echoes back (as JSON keys, inside its "url" string,
// inside a JSON or form body held in its "data" string, in headers) reach
// none of what shadow stores or shows: the capture files, --report-out,
// `shadow report` and the admin /snapshot.
func TestEchoedSecretsAreRedactedEverywhere(t *testing.T) {
	primary, secondary, candidate := echoServer(t, 1), echoServer(t, 1), echoServer(t, 2)
	tmp := t.TempDir()
	dir, reportOut := filepath.Join(tmp, "captures"), filepath.Join(tmp, "live.json")
	config := writeFile(t, "shadow.yaml", `
mirror:
  workers: 1
  max_queue_wait: -1s # every copy is sent, however loaded the machine: the tests count them
  routes:
    - {name: anything, methods: [POST], path: /anything, unsafe: true}
compare:
  verdict: {min_pairs: 1}
capture:
  redact: {key: "e2e-echo-key-0123456789"}
`)
	base, adminURL, stop, code, out := startShadowAdmin(t, "--config", config, "--primary", primary.URL,
		"--secondary", secondary.URL, "--candidate", candidate.URL, "--capture", dir, "--report-out", reportOut)
	s := echoedSecrets
	q := url.Values{"token": {s["q_token"]}, "api_key": {s["q_api_key"]}, "password": {s["q_password"]},
		"access_token": {s["q_access"]}, "page": {"canary-page"}}
	jsonBody, _ := json.Marshal(map[string]string{"password": s["b_password"], "card_number": s["b_card"], "cvv": s["b_cvv"], "user": "canary-user"})
	formBody := url.Values{"password": {s["f_password"]}, "card_number": {s["f_card"]}, "cvv": {s["f_cvv"]}, "user": {"canary-user"}}.Encode()
	requests := []struct{ method, path, ctype, body string }{
		{"GET", "/headers", "", ""},
		{"GET", "/get?" + q.Encode(), "", ""},
		{"POST", "/anything?" + q.Encode(), "application/json", string(jsonBody)},
		{"POST", "/anything", "application/x-www-form-urlencoded", formBody},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, r := range requests {
		req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+s["bearer"])
		req.Header.Set("Cookie", "session="+s["cookie"]+"; other="+s["cookie_other"])
		req.Header.Set("X-Api-Key", s["apikey"])
		req.Header.Set("X-Auth-Token", s["authtoken"])
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		resp, err := client.Do(req)
		if err != nil {
			stop()
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(got, []byte(s["apikey"])) {
			stop()
			t.Fatalf("%s %s: the client did not get the primary's echo: %s", r.method, r.path, got)
		}
	}
	var snap []byte
	testio.Eventually(t, "a snapshot with 4 pairs compared", func() bool {
		snap = httpGet(t, adminURL+"/snapshot")
		return regexp.MustCompile(`"compared":\s*4\b`).Match(snap)
	})
	stop()
	select {
	case c := <-code:
		if c != cli.ExitFail {
			t.Fatalf("shadow run exit code %d, want %d (the candidate differs)\n%s", c, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow run did not stop")
	}
	rc, md, stderr := runReport(t, dir)
	_, js, _ := runReport(t, "--format", "json", dir)
	_, page, _ := runReport(t, "--config", config, "--format", "html", dir)
	_, junit, _ := runReport(t, "--config", config, "--format", "xml", dir)
	// Without the run's config (min_pairs), 4 pairs decide nothing.
	if rc != cli.ExitInconclusive || !strings.Contains(stderr, "4 records") {
		t.Fatalf("shadow report exit %d, stderr %s", rc, stderr)
	}

	outputs := map[string][]byte{"admin /snapshot": snap, "shadow report (md)": []byte(md),
		"shadow report (json)": []byte(js), "shadow report (html)": []byte(page), "shadow report (xml)": []byte(junit),
		"shadow run output": []byte(out.String())}
	for _, p := range append(filesIn(t, dir), reportOut) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		outputs[p] = b
	}
	// The reports name the differing URL, so they would show the query.
	if !bytes.Contains(outputs[reportOut], []byte("$.url")) || !bytes.Contains(outputs["admin /snapshot"], []byte("url")) ||
		!strings.Contains(page, `data-path="$.url"`) || !strings.Contains(junit, "$.url") {
		t.Fatalf("the live report shows no $.url difference, so the test proves nothing:\n%s", outputs[reportOut])
	}
	for name, b := range outputs {
		for k, v := range s {
			for _, form := range escapedForms(v) {
				if i := bytes.Index(b, []byte(form)); i >= 0 {
					t.Errorf("%s holds secret %s as %q: ...%q...", name, k, form, b[max(0, i-80):min(len(b), i+len(form)+20)])
				}
			}
		}
	}
}

// httpGet returns the body of a GET.
func httpGet(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return b
}

// filesIn lists the files in dir.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in %s (%v)", dir, err)
	}
	return files
}

// A credential given to `shadow replay --header` is sent with every
// replayed request; a candidate that echoes it leaves it in neither the
// replay's capture nor its report.
func TestReplayHeaderSecretsAreRedacted(t *testing.T) {
	lc := runCapture(t)
	const secret = "replay-cred-7c1f9e"
	tmp := t.TempDir()
	report, capDir := filepath.Join(tmp, "replay.json"), filepath.Join(tmp, "replayed")
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"replay", "--config", lc.config, "--candidate", echoServer(t, 2).URL,
		"--workers", "1", "--header", "Authorization: Bearer " + secret, "--header", "X-Api-Key: " + secret + "-k",
		"--report-out", report, "--capture", capDir, lc.dir}, &out, &errOut)
	if code != cli.ExitFail {
		t.Fatalf("exit code %d, want %d (an echo differs from the demo)\n%s\n%s", code, cli.ExitFail, out.String(), errOut.String())
	}
	for _, p := range append(filesIn(t, capDir), report) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte(secret)); i >= 0 {
			t.Errorf("%s holds the --header credential: ...%q...", p, b[max(0, i-60):min(len(b), i+30)])
		}
	}
}

// forwarder is a service behind shadow that passes what its client sent
// on to a dependency (through the base URL it is given once shadow's egress
// listens), with a credential of its own, and answers with the
// dependency's echo: the client's secrets and the service's reach the
// outbound calls' requests and answers under names no rule knows.
// version 2 adds a field, so the outbound calls differ.
func forwarder(t *testing.T, version int, base *atomic.Pointer[string], ownKey string) *httptest.Server {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fwd := map[string]any{"passed_on": string(body), "note": r.Header.Get("Authorization"), "cookie_seen": r.Header.Get("Cookie")}
		if version == 2 {
			fwd["v2"] = true
		}
		b, _ := json.Marshal(fwd)
		req, _ := http.NewRequestWithContext(r.Context(), "POST", *base.Load()+"/anything?"+r.URL.RawQuery, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", ownKey)
		req.Header.Set("X-Forwarded-Auth", r.Header.Get("X-Auth-Token"))
		req.Header.Set("Traceparent", r.Header.Get("Traceparent"))
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(s.Close)
	return s
}

// Secrets that reach a dependency's calls (the client's, passed on in
// fields of other names, and the service's own API key), and that the
// dependency echoes back, reach none of what shadow stores or shows:
// capture files, --report-out, `shadow report` in every format, the admin
// /snapshot and the run's output.
func TestOutboundSecretsAreRedactedEverywhere(t *testing.T) {
	const ownKey = "svc-own-key-778899aa"
	dep := echoServer(t, 1)
	var pURL, sURL, cURL atomic.Pointer[string]
	primary, secondary, candidate := forwarder(t, 1, &pURL, ownKey), forwarder(t, 1, &sURL, ownKey), forwarder(t, 2, &cURL, ownKey)
	tmp := t.TempDir()
	dir, reportOut := filepath.Join(tmp, "captures"), filepath.Join(tmp, "live.json")
	config := writeFile(t, "shadow.yaml", `
mirror:
  max_queue_wait: -1s
  routes:
    - {name: anything, methods: [POST], path: /anything, unsafe: true, egress: [echo]}
compare:
  verdict: {min_pairs: 1}
egress:
  - {name: echo, upstream: `+dep.URL+`, primary_listen: 127.0.0.1:0, secondary_listen: 127.0.0.1:0, candidate_listen: 127.0.0.1:0}
`)
	base, adminURL, stop, code, out := startShadowAdmin(t, "--config", config, "--primary", primary.URL,
		"--secondary", secondary.URL, "--candidate", candidate.URL, "--capture", dir, "--report-out", reportOut)
	m := regexp.MustCompile(`egress echo \(\S+\): primary (\S+) secondary (\S+) candidate (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		stop()
		t.Fatalf("no egress listeners printed:\n%s", out.String())
	}
	pURL.Store(&m[1])
	sURL.Store(&m[2])
	cURL.Store(&m[3])

	s := echoedSecrets
	q := url.Values{"token": {s["q_token"]}, "password": {s["q_password"]}, "page": {"canary-page"}}
	jsonBody, _ := json.Marshal(map[string]string{"password": s["b_password"], "card_number": s["b_card"], "user": "canary-user"})
	const requests = 3
	for range requests {
		req, _ := http.NewRequest("POST", base+"/anything?"+q.Encode(), bytes.NewReader(jsonBody))
		req.Header.Set("Authorization", "Bearer "+s["bearer"])
		req.Header.Set("Cookie", "session="+s["cookie"])
		req.Header.Set("X-Auth-Token", s["authtoken"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			stop()
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(got, []byte(ownKey)) {
			stop()
			t.Fatalf("the client did not get the dependency's echo through the primary: %s", got)
		}
	}
	var snap []byte
	testio.Eventually(t, "a snapshot with every pair compared", func() bool {
		snap = httpGet(t, adminURL+"/snapshot")
		return regexp.MustCompile(fmt.Sprintf(`"compared":\s*%d\b`, requests)).Match(snap)
	})
	stop()
	select {
	case c := <-code:
		if c != cli.ExitFail {
			t.Fatalf("shadow run exit code %d, want %d (the candidate differs)\n%s", c, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow run did not stop")
	}
	_, md, _ := runReport(t, dir)
	_, js, _ := runReport(t, "--format", "json", dir)
	_, page, _ := runReport(t, "--format", "html", dir)
	_, junit, _ := runReport(t, "--format", "xml", dir)
	outputs := map[string][]byte{"admin /snapshot": snap, "shadow report (md)": []byte(md), "shadow report (json)": []byte(js),
		"shadow report (html)": []byte(page), "shadow report (xml)": []byte(junit), "shadow run output": []byte(out.String())}
	for _, p := range append(filesIn(t, dir), reportOut) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		outputs[p] = b
	}
	// The outbound calls are in the files, and differ, so the test can fail.
	if !strings.Contains(md, "outbound POST echo /anything $.v2") || !bytes.Contains(outputs[reportOut], []byte("outbound POST echo /anything")) {
		t.Fatalf("no outbound difference reported, so the test proves nothing:\n%s", md)
	}
	secrets := map[string]string{"own key": ownKey}
	for _, k := range []string{"bearer", "cookie", "authtoken", "q_token", "q_password", "b_password", "b_card"} {
		secrets[k] = s[k]
	}
	for name, b := range outputs {
		for k, v := range secrets {
			for _, form := range escapedForms(v) {
				if i := bytes.Index(b, []byte(form)); i >= 0 {
					t.Errorf("%s holds secret %s as %q: ...%q...", name, k, form, b[max(0, i-80):min(len(b), i+len(form)+20)])
				}
			}
		}
	}
}
