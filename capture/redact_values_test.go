package capture

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/understudy-dev/understudy/exchange"
)

// echoSecrets are credentials a client sends, each in the place its name
// says; several hold characters that JSON and URLs escape.
var echoSecrets = map[string]string{
	"bearer":      "bearer-tok-1111",
	"cookie":      `ck/"1&<2>`,
	"cookie2":     "second-cookie-2222",
	"apikey":      "apikey-3333",
	"authtoken":   "authtok-4444",
	"basicpw":     "basic-pw-5555",
	"q_token":     "qtok+/=6666",
	"q_apikey":    "qkey-7777",
	"q_password":  "qpw 8888&x",
	"q_access":    "qaccess-9999",
	"b_password":  `bpw"aaaa\`,
	"b_card":      "4111111111111111",
	"b_cvv":       "cvv-bbbb", // a long one; real ones are short (see MinSecretValueLen)
	"f_password":  "fpw/cccc",
	"custom_hdr":  "custom-dddd",
	"userinfo_pw": "uipw-eeee",
}

// echoRequest is a request carrying every secret above; form selects a
// form body instead of a JSON one.
func echoRequest(form bool) exchange.Request {
	s := echoSecrets
	q := url.Values{"token": {s["q_token"]}, "api_key": {s["q_apikey"]}, "password": {s["q_password"]},
		"access_token": {s["q_access"]}, "page": {"2"}}
	req := exchange.Request{
		ID: "e1", Method: http.MethodPost, Host: "echo",
		URL: "/anything?" + q.Encode(),
		Header: http.Header{
			"Authorization":  {"Bearer " + s["bearer"]},
			"Cookie":         {"session=" + s["cookie"] + "; other=" + s["cookie2"]},
			"X-Api-Key":      {s["apikey"]},
			"X-Auth-Token":   {s["authtoken"]},
			"X-Custom-Token": {s["custom_hdr"]},
			"Accept":         {canary},
		},
	}
	if form {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Body = []byte(url.Values{"password": {s["f_password"]}, "user": {canary}}.Encode())
	} else {
		req.Header.Set("Content-Type", "application/json")
		b, _ := json.Marshal(map[string]any{"user": canary, "password": s["b_password"],
			"card_number": s["b_card"], "cvv": s["b_cvv"]})
		req.Body = b
	}
	return req
}

// httpbinEcho answers like go-httpbin's /anything: the query as "args",
// the headers as a map of lists, the full "url", the raw body as "data",
// the form or JSON body decoded. encoding/json escapes <, > and & too.
func httpbinEcho(req exchange.Request) []byte {
	u, _ := url.Parse(req.URL)
	echo := map[string]any{
		"args": u.Query(), "headers": req.Header, "method": req.Method,
		"url": "http://" + req.Host + req.URL, "data": string(req.Body),
	}
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		echo["form"], _ = url.ParseQuery(string(req.Body))
	} else {
		var v any
		_ = json.Unmarshal(req.Body, &v)
		echo["json"] = v
	}
	b, _ := json.MarshalIndent(echo, "", "  ")
	return b
}

// echoExchange is an exchange whose three answers echo the request in
// every shape: httpbin's JSON, the JSON in a JSON string, headers.
func echoExchange(form bool) *exchange.Exchange {
	req := echoRequest(form)
	// The Basic credentials ride in a second request header value.
	req.Header["Proxy-Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("bot:"+echoSecrets["basicpw"]))}
	body := httpbinEcho(req)
	inner, _ := json.Marshal(map[string]string{"echo": string(body)}) // a string inside a string
	resp := func(side exchange.Side, b []byte, ct string) exchange.Response {
		return exchange.Response{Side: side, Status: 200, Body: b, Header: http.Header{
			"Content-Type":   {ct},
			"X-Echo-Cookie":  {req.Header.Get("Cookie")},
			"X-Echo-Token":   {echoSecrets["bearer"]},
			"Content-Length": {fmt.Sprint(len(b))},
		}}
	}
	sec := resp(exchange.Secondary, inner, "application/json")
	// The candidate's body is text: no rule by name applies to it.
	text := []byte(fmt.Sprintf("you sent %s\npassword=%s\n%s\n", req.URL, url.QueryEscape(echoSecrets["b_password"]), body))
	return &exchange.Exchange{
		Request:   req,
		Primary:   resp(exchange.Primary, body, "application/json"),
		Secondary: &sec,
		Candidate: resp(exchange.Candidate, text, "text/plain"),
	}
}

// storedForms is what redaction must leave no secret in: the exchange as
// msgpack (capture files) and as JSON (reports, the admin snapshot).
func storedForms(t *testing.T, x *exchange.Exchange) []byte {
	t.Helper()
	mp, err := msgpack.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	// JSON shows bodies as base64; decode them for the search.
	var all []byte
	all = append(all, mp...)
	all = append(all, js...)
	for _, r := range []*exchange.Response{&x.Primary, x.Secondary, &x.Candidate} {
		all = append(all, r.Body...)
	}
	return append(all, x.Request.Body...)
}

// secretShapes lists every form a secret could be found in.
func secretShapes(s string) []string {
	var out []string
	for _, f := range secretForms(s) {
		out = append(out, f.text)
	}
	return out
}

func TestRedactByValueEveryEchoShape(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		form bool
		key  []byte
	}{{"json body", false, nil}, {"form body", true, nil}, {"json body, keyed", false, testKey}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := echoExchange(tt.form)
			x.Request.URL = "https://bot:" + echoSecrets["userinfo_pw"] + "@echo" + x.Request.URL
			red := &Redactor{Headers: []string{"X-Custom-Token"}, Key: tt.key}
			red.Redact(x)
			all := storedForms(t, x)
			if !bytes.Contains(all, []byte(canary)) {
				t.Fatal("canary not found: the search cannot see plain data")
			}
			for name, s := range echoSecrets {
				if tt.form && strings.HasPrefix(name, "b_") || !tt.form && strings.HasPrefix(name, "f_") {
					continue // not sent in this variant
				}
				for _, shape := range secretShapes(s) {
					if i := bytes.Index(all, []byte(shape)); i >= 0 {
						t.Errorf("secret %s (%q) stored as %q: ...%s...", name, s, shape, all[max(0, i-60):min(len(all), i+len(shape)+20)])
					}
				}
			}
		})
	}
}

// With a key, a secret scrubbed by value hashes like the same secret
// redacted by name, so equal secrets stay equal across sides and a
// candidate that echoes another value still differs.
func TestRedactByValueKeyedHashesAgree(t *testing.T) {
	t.Parallel()
	const tok = "tok-equal-0001"
	h := http.Header{"Content-Type": {"application/json"}}
	x := &exchange.Exchange{
		Request:   exchange.Request{URL: "/echo", Header: http.Header{"Authorization": {"Bearer " + tok}}},
		Primary:   exchange.Response{Header: h, Body: []byte(`{"seen":"Bearer ` + tok + `"}`)},
		Candidate: exchange.Response{Header: h, Body: []byte(`{"seen":"Bearer tok-other-0002"}`)},
		Secondary: &exchange.Response{Header: h, Body: []byte(`{"seen":"Bearer ` + tok + `"}`)},
	}
	x.Secondary.Body = []byte(`{"seen":"` + tok + `"}`) // the token alone
	red := &Redactor{Key: testKey}
	red.Redact(x)
	// The whole header value is the longest match, and hashes like the
	// header itself; the token alone hashes as itself.
	hdr := x.Request.Header.Get("Authorization")
	if want := `{"seen":"` + hdr + `"}`; string(x.Primary.Body) != want {
		t.Errorf("primary %s, want %s (the header's own hash)", x.Primary.Body, want)
	}
	if want := `{"seen":"` + red.compile().replacement([]byte(tok)) + `"}`; string(x.Secondary.Body) != want {
		t.Errorf("secondary %s, want %s", x.Secondary.Body, want)
	}
	if bytes.Equal(x.Candidate.Body, x.Primary.Body) {
		t.Error("a candidate echoing another token looks the same as the primary")
	}
}

// Values shorter than MinSecretValueLen are only redacted by name: they
// are too likely to be ordinary text.
func TestRedactByValueMinimumLength(t *testing.T) {
	t.Parallel()
	short := strings.Repeat("s", MinSecretValueLen-1)
	long := strings.Repeat("L", MinSecretValueLen)
	x := &exchange.Exchange{
		Request: exchange.Request{URL: "/?token=" + short + "&api_key=" + long},
		Primary: exchange.Response{Body: []byte("a " + short + " b " + long + " c")},
	}
	(&Redactor{}).Redact(x)
	if got, want := string(x.Primary.Body), "a "+short+" b "+Redacted+" c"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
}

// Header names are field names too: an echoed "X-Api-Key" or "Cookie"
// JSON key is redacted whatever its value, as is a configured header.
func TestHeaderNamesAsJSONKeys(t *testing.T) {
	t.Parallel()
	in := `{"headers":{"X-Api-Key":["k"],"Cookie":["c"],"X-Auth-Token":["t"],"Set-Cookie":["s"],"X-Session":["x"],"Accept":["a"]}}`
	want := `{"headers":{"X-Api-Key":"[REDACTED]","Cookie":"[REDACTED]","X-Auth-Token":"[REDACTED]","Set-Cookie":"[REDACTED]","X-Session":"[REDACTED]","Accept":["a"]}}`
	got, _ := (&Redactor{Headers: []string{"X-Session"}, NoDefaultFieldNames: true}).compile().call().redactJSON([]byte(in), nil)
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// naiveSpans marks every byte inside any occurrence of any pattern.
func naiveCovered(text string, pats []string) []bool {
	cov := make([]bool, len(text))
	for _, p := range pats {
		for i := 0; i+len(p) <= len(text); i++ {
			if text[i:i+len(p)] == p {
				for j := i; j < i+len(p); j++ {
					cov[j] = true
				}
			}
		}
	}
	return cov
}

func checkSpans(t *testing.T, text string, pats []string) {
	t.Helper()
	m := newValueMatcher(pats)
	spans := findSpans(m, text, nil)
	got := make([]bool, len(text))
	last := 0
	for _, sp := range spans {
		if sp.start < last || sp.end <= sp.start || sp.end > len(text) {
			t.Fatalf("text %q pats %q: spans %v out of order or range", text, pats, spans)
		}
		if !strings.HasPrefix(text[sp.start:], pats[sp.pat]) {
			t.Fatalf("text %q pats %q: span %v does not start with its pattern %q", text, pats, sp, pats[sp.pat])
		}
		for j := sp.start; j < sp.end; j++ {
			got[j] = true
		}
		last = sp.end
	}
	want := naiveCovered(text, pats)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("text %q pats %q: byte %d covered %v, want %v (spans %v)", text, pats, i, got[i], want[i], spans)
		}
	}
}

func TestValueMatcher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		pats []string
	}{
		{"", []string{"a"}},
		{"abcd", []string{"bc", "abcd"}},
		{"xabycdz", []string{"ab", "cd", "abycd"}},
		{"ushers", []string{"he", "she", "his", "hers"}},
		{"aaaaaaab", []string{"aaab", "aa"}},
		{"abababab", []string{"abab", "bab"}},
		{"no match here", []string{"zzz"}},
		{"tok tok", []string{"tok", "tok"}},
	}
	for _, tt := range tests {
		checkSpans(t, tt.text, tt.pats)
	}
}

// FuzzValueMatcher: the spans cover exactly the bytes some occurrence of
// some pattern covers, in order, each starting with its pattern.
func FuzzValueMatcher(f *testing.F) {
	f.Add("ushers", "he,she,his,hers")
	f.Add("aaaaaaab", "aaab,aa")
	f.Add(`{"a":"tok\"x"}`, `tok\"x,tok`)
	f.Fuzz(func(t *testing.T, text, list string) {
		if len(text) > 1<<12 {
			return
		}
		var pats []string
		for _, p := range strings.Split(list, ",") {
			if p != "" && len(pats) < 16 {
				pats = append(pats, p)
			}
		}
		if len(pats) == 0 {
			return
		}
		checkSpans(t, text, pats)
	})
}

// BenchmarkScrubByValue scrubs a 1 MiB JSON body of the secrets of a
// request like echoRequest's (16 secrets, every form of each): the
// one-pass automaton against the obvious loop of one bytes.ReplaceAll per
// pattern. The body holds one echo of each secret near its end.
func BenchmarkScrubByValue(b *testing.B) {
	r := (&Redactor{}).compile().call()
	for _, s := range echoSecrets {
		r.addSecret(s)
	}
	r.buildMatcher()
	var body bytes.Buffer
	body.WriteString(`{"items":[`)
	for i := 0; body.Len() < 1<<20-2048; i++ {
		fmt.Fprintf(&body, `{"sku":"SKU-%06d","name":"Item number %d","qty":%d},`, i, i, i%7)
	}
	for _, s := range echoSecrets {
		fmt.Fprintf(&body, `{"echo":%q},`, s)
	}
	body.WriteString(`{}]}`)
	in := body.Bytes()
	var pats []string
	for _, s := range r.secrets {
		pats = append(pats, secretShapes(s)...)
	}
	b.Run("automaton", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := r.scrubBody(in, "", nil); !ok {
				b.Fatal("nothing scrubbed")
			}
		}
		b.ReportMetric(float64(len(pats)), "patterns")
	})
	b.Run("replaceall-per-pattern", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			out := in
			for _, p := range pats {
				out = bytes.ReplaceAll(out, []byte(p), []byte(Redacted))
			}
		}
	})
}
