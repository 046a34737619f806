package capture

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
)

var testKey = []byte("0123456789abcdef-test-key")

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	red := &Redactor{
		FieldNames: []string{"national_id"},
		FieldPaths: []string{"$.card.number", "$.items[*].pan", "$.list[1]", "$['odd.key']", "$.*.deep", "$..pin", `$["q\"k"]`},
	}
	tests := []struct {
		name, in, want string
	}{
		{"default name", `{"user":"ann","password":"hunter2"}`, `{"user":"ann","password":"[REDACTED]"}`},
		{"spacing kept", "{ \"token\" :\t\"abc\" ,\n \"n\": 1 }", "{ \"token\" :\t\"[REDACTED]\" ,\n \"n\": 1 }"},
		{"nested any depth", `{"a":{"b":[{"access_token":"x"}]}}`, `{"a":{"b":[{"access_token":"[REDACTED]"}]}}`},
		{"name normalised", `{"Access-Token":"x","accessToken":"y","NATIONALID":"z"}`, `{"Access-Token":"[REDACTED]","accessToken":"[REDACTED]","NATIONALID":"[REDACTED]"}`},
		{"non-string values", `{"cvv":123,"otp":null,"secret":{"k":["v"]},"x":true}`, `{"cvv":"[REDACTED]","otp":"[REDACTED]","secret":"[REDACTED]","x":true}`},
		{"by path", `{"card":{"number":"4111","exp":"12/30"},"number":"keep"}`, `{"card":{"number":"[REDACTED]","exp":"12/30"},"number":"keep"}`},
		{"path with [*]", `{"items":[{"pan":"1","q":1},{"pan":"2"}]}`, `{"items":[{"pan":"[REDACTED]","q":1},{"pan":"[REDACTED]"}]}`},
		{"path with index", `{"list":["a","b","c"]}`, `{"list":["a","[REDACTED]","c"]}`},
		{"quoted path key", `{"odd.key":"v","odd":{"key":"k"}}`, `{"odd.key":"[REDACTED]","odd":{"key":"k"}}`},
		{"wildcard key", `{"a":{"deep":1},"b":{"deep":2,"x":3}}`, `{"a":{"deep":"[REDACTED]"},"b":{"deep":"[REDACTED]","x":3}}`},
		{"recursive descent", `{"pin":1,"a":[{"b":{"pin":"2"}}],"pins":3}`, `{"pin":"[REDACTED]","a":[{"b":{"pin":"[REDACTED]"}}],"pins":3}`},
		{"escaped path key", `{"q\"k":"v","qk":"w"}`, `{"q\"k":"[REDACTED]","qk":"w"}`},
		{"escaped key", `{"pass\u0077ord":"s"}`, `{"pass\u0077ord":"[REDACTED]"}`},
		{"escaped value", `{"token":"a\"b\\"}`, `{"token":"[REDACTED]"}`},
		{"truncated string", `{"a":1,"token":"abc`, `{"a":1,"token":"[REDACTED]"`},
		{"truncated object", `{"secret":{"a":[1,2`, `{"secret":"[REDACTED]"`},
		{"truncated after colon", `{"token":`, `{"token":`},
		{"malformed then secret", `{"a": tru e, "secret": "s"}`, `{"a": tru e, "secret": "[REDACTED]"}`},
		{"ndjson", "{\"a\":1}\n{\"token\":\"t\"}\n", "{\"a\":1}\n{\"token\":\"[REDACTED]\"}\n"},
		{"top-level array", `[{"password":"p"},{"password":"q"}]`, `[{"password":"[REDACTED]"},{"password":"[REDACTED]"}]`},
		{"secret-named value is kept", `{"name":"password","v":"token"}`, `{"name":"password","v":"token"}`},
		{"key inside a string is not a key", `{"note":"\"token\":\"x\""}`, `{"note":"\"token\":\"x\""}`},
		{"empty", ``, ``},
	}
	// Without FieldPaths the redactor hunts keys instead of walking the
	// structure; cases that do not use paths must come out the same.
	namesOnly := &Redactor{FieldNames: red.FieldNames}
	usesPaths := map[string]bool{"by path": true, "path with [*]": true, "path with index": true, "quoted path key": true, "wildcard key": true, "recursive descent": true, "escaped path key": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := []byte(tt.in)
			got, _ := red.compile().call().redactJSON(in, nil)
			if string(got) != tt.want {
				t.Errorf("redactJSON(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if tt.in == tt.want && len(in) > 0 && &got[0] != &in[0] {
				t.Error("unchanged body was copied, want the same slice back")
			}
			if usesPaths[tt.name] {
				return
			}
			if got, _ := namesOnly.compile().call().redactJSON(in, nil); string(got) != tt.want {
				t.Errorf("without paths: redactJSON(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	red := &Redactor{QueryParams: []string{"sig"}}
	tests := []struct {
		name, in, want string
	}{
		{"no query", "/orders/1", "/orders/1"},
		{"query", "/o?a=1&token=abc&b=2", "/o?a=1&token=%5BREDACTED%5D&b=2"},
		{"configured param", "/o?sig=xyz", "/o?sig=%5BREDACTED%5D"},
		{"escaped key", "/o?acc%65ss_token=abc", "/o?acc%65ss_token=%5BREDACTED%5D"},
		{"semicolons", "/o?a=1;password=p", "/o?a=1;password=%5BREDACTED%5D"},
		{"repeated", "/o?token=a&token=b", "/o?token=%5BREDACTED%5D&token=%5BREDACTED%5D"},
		{"no value", "/o?token&x=1", "/o?token&x=1"},
		{"fragment", "/cb#access_token=t&state=s", "/cb#access_token=%5BREDACTED%5D&state=s"},
		{"query and fragment", "/cb?token=a#x=1&token=b", "/cb?token=%5BREDACTED%5D#x=1&token=%5BREDACTED%5D"},
		{"query kept, fragment redacted", "/cb?q=1#token=b", "/cb?q=1#token=%5BREDACTED%5D"},
		{"query redacted, fragment kept", "/cb?token=a#top", "/cb?token=%5BREDACTED%5D#top"},
		{"userinfo password", "https://u:pw@h/p?x=1", "https://u:%5BREDACTED%5D@h/p?x=1"},
		{"userinfo token", "https://tok@h/p", "https://%5BREDACTED%5D@h/p"},
		{"at in path is not userinfo", "https://h/p@x", "https://h/p@x"},
		{"plain value", "/o?q=token", "/o?q=token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, changed := red.compile().call().redactURL(tt.in)
			if got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if changed != (tt.in != tt.want) {
				t.Errorf("redactURL(%q) changed = %v", tt.in, changed)
			}
		})
	}
}

func TestRedactHeaders(t *testing.T) {
	t.Parallel()
	red := &Redactor{Headers: []string{"x-internal-key"}}
	in := http.Header{
		"Authorization":       {"Bearer a"},
		"Proxy-Authorization": {"b"},
		"Cookie":              {"c=1", "d=2"},
		"Set-Cookie":          {"e=3"},
		"X-Internal-Key":      {"f"},
		"Api-Key":             {"g"},
		"Referer":             {"https://h/?token=t&q=1"},
		"Accept":              {"*/*"},
	}
	want := http.Header{
		"Authorization":       {Redacted},
		"Proxy-Authorization": {Redacted},
		"Cookie":              {Redacted, Redacted},
		"Set-Cookie":          {Redacted},
		"X-Internal-Key":      {Redacted},
		"Api-Key":             {Redacted},
		"Referer":             {"https://h/?token=%5BREDACTED%5D&q=1"},
		"Accept":              {"*/*"},
	}
	orig := in.Clone()
	got := red.compile().call().header(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(orig, in); diff != "" {
		t.Errorf("input header was modified (-orig +now):\n%s", diff)
	}
	clean := http.Header{"Accept": {"*/*"}}
	if got := red.compile().call().header(clean); got == nil || &got["Accept"][0] != &clean["Accept"][0] {
		t.Error("header without secrets was copied, want it returned as is")
	}
}

func TestRedactFormAndGzipBodies(t *testing.T) {
	t.Parallel()
	red := (&Redactor{}).compile().call()
	form := red.body([]byte("a=1&password=p%20w&b=2"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, false, nil)
	if got, want := string(form), "a=1&password=%5BREDACTED%5D&b=2"; got != want {
		t.Errorf("form body = %q, want %q", got, want)
	}
	text := []byte("password=p token: x")
	if got := red.body(text, http.Header{"Content-Type": {"text/plain"}}, false, nil); !bytes.Equal(got, text) {
		t.Errorf("text body = %q, want it untouched", got)
	}

	zip := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	unzip := func(b []byte) string {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("redacted gzip body does not decompress: %v", err)
		}
		out, _ := io.ReadAll(zr)
		return string(out)
	}
	h := http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}}
	full := zip(`{"token":"sec-gzip","n":1}`)
	if got, want := unzip(red.body(full, h, false, nil)), `{"token":"[REDACTED]","n":1}`; got != want {
		t.Errorf("gzip body = %s, want %s", got, want)
	}
	// The proxy may keep only a prefix of a compressed answer. What does
	// not decompress cannot be inspected and must not be kept.
	var pad strings.Builder
	for i := 0; pad.Len() < 100<<10; i++ {
		fmt.Fprintf(&pad, "%08x", uint32(i)*2654435761)
	}
	long := `{"token":"sec-gzip-cut","pad":"` + pad.String() + `"}`
	cut := zip(long)
	cut = cut[:len(cut)-40]
	got := unzip(red.body(cut, h, false, nil))
	redacted := strings.Replace(long, "sec-gzip-cut", Redacted, 1)
	if len(got) < 32<<10 || !strings.HasPrefix(redacted, got) {
		t.Errorf("truncated gzip body = %.60s... (%d bytes), want a redacted prefix of at least 32 KiB", got, len(got))
	}
	clean := zip(`{"n":1}`)
	if got := red.body(clean, h, false, nil); !bytes.Equal(got, clean) {
		t.Error("gzip body without secrets was re-encoded, want it as is")
	}
}

func TestRedactKeyedHash(t *testing.T) {
	t.Parallel()
	red := &Redactor{Key: testKey}
	x := exchange.Exchange{
		Request: exchange.Request{
			URL:    "/?token=same-secret",
			Header: http.Header{"Authorization": {"same-secret"}},
			Body:   []byte(`{"password":"same-secret","token":"other-secret"}`),
		},
	}
	red.Redact(&x)
	hashRE := regexp.MustCompile(`hmac:[0-9a-f]{16}`)
	hdr := x.Request.Header.Get("Authorization")
	if !hashRE.MatchString(hdr) || len(hdr) != len("hmac:")+16 {
		t.Fatalf("Authorization = %q, want hmac:<16 hex digits>", hdr)
	}
	if !strings.Contains(x.Request.URL, strings.Replace(hdr, ":", "%3A", 1)) {
		t.Errorf("URL %q does not carry the header's hash %s: equal secrets must hash equal", x.Request.URL, hdr)
	}
	hashes := hashRE.FindAllString(string(x.Request.Body), -1)
	if len(hashes) != 2 || hashes[0] != hdr || hashes[1] == hdr {
		t.Errorf("body %s: want the password to hash like the header and the other token differently", x.Request.Body)
	}
	other := &Redactor{Key: []byte("another-key-of-16-bytes")}
	if a, b := red.compile().replacement([]byte("s")), other.compile().replacement([]byte("s")); a == b {
		t.Errorf("two keys gave the same hash %s", a)
	}
}

func TestRedactDoesNotWriteIntoShared(t *testing.T) {
	t.Parallel()
	rec, _ := secretExchange()
	keep, _ := secretExchange()
	x := rec.Exchange // shares maps, arrays and the secondary with rec
	testRedactor().Redact(&x)
	if diff := cmp.Diff(keep, rec); diff != "" {
		t.Errorf("Redact wrote into data it shares with the caller (-before +after):\n%s", diff)
	}
	if x.Secondary == rec.Exchange.Secondary {
		t.Error("Redact kept the shared secondary Response, want a redacted copy")
	}
}

func TestRedactorValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    Redactor
		want string
	}{
		{"zero", Redactor{}, ""},
		{"full", *testRedactor(), ""},
		{"key", Redactor{Key: testKey}, ""},
		{"bad header", Redactor{Headers: []string{"X-Ok", "Bad Header"}}, "headers[1]"},
		{"empty field", Redactor{FieldNames: []string{"_"}}, "field_names[0]"},
		{"empty query", Redactor{QueryParams: []string{""}}, "query_params[0]"},
		{"no dollar", Redactor{FieldPaths: []string{"card.number"}}, "field_paths[0]"},
		{"root only", Redactor{FieldPaths: []string{"$"}}, "whole body"},
		{"empty segment", Redactor{FieldPaths: []string{"$.a."}}, "field_paths[0]"},
		{"descent is fine", Redactor{FieldPaths: []string{"$.a..b", "$..ssn", `$['a.b']`, `$["a.b"]`}}, ""},
		{"bad index", Redactor{FieldPaths: []string{"$.a[x]"}}, "[x]"},
		{"unterminated", Redactor{FieldPaths: []string{"$.a['b"}}, "unterminated"},
		{"short key", Redactor{Key: []byte("short")}, "key: has 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.r.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRedactSynth(t *testing.T) {
	t.Parallel()
	rec, _ := secretSynth()
	tags := rec.Tags
	(&Redactor{}).RedactSynth(rec)
	want := "https://bot:%5BREDACTED%5D@shop.example/pay?api_key=%5BREDACTED%5D&n=1"
	if rec.URL != want {
		t.Errorf("URL = %q, want %q", rec.URL, want)
	}
	if got := rec.Tags["Authorization"]; got != Redacted {
		t.Errorf("Authorization tag = %q, want %q", got, Redacted)
	}
	if rec.Tags["X-Synthetic"] != "true" || tags["Authorization"] == Redacted {
		t.Errorf("tags = %v (caller's map %v): want other tags kept and the caller's map untouched", rec.Tags, tags)
	}
}

// The acceptance test for redaction: records carrying secrets everywhere
// go through the Writer, and the bytes on disk are searched for them.
func TestWriterLeavesNoSecretsOnDisk(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		key  []byte
	}{{"replaced", nil}, {"keyed hash", testKey}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			red := testRedactor()
			red.Key = tt.key
			w, err := NewWriter(WriterOptions{Dir: dir, Redactor: red, MaxFileBytes: 2048})
			if err != nil {
				t.Fatal(err)
			}
			x1, s1 := secretExchange()
			x2, s2 := secretExchange2()
			sy, s3 := secretSynth()
			secrets := append(append(s1, s2...), s3...)
			for range 3 {
				if err := w.WriteExchange(x1); err != nil {
					t.Fatal(err)
				}
				if err := w.WriteExchange(x2); err != nil {
					t.Fatal(err)
				}
				if err := w.WriteSynth(sy); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if len(w.Files()) < 2 {
				t.Fatalf("want several files (rotation), got %d", len(w.Files()))
			}
			var all []byte
			for _, name := range dirFiles(t, dir) {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, b...)
			}
			if !bytes.Contains(all, []byte(canary)) {
				t.Fatal("canary not found: the search cannot see plain data")
			}
			for _, s := range secrets {
				if i := bytes.Index(all, []byte(s)); i >= 0 {
					lo, hi := max(0, i-40), min(len(all), i+len(s)+20)
					t.Errorf("secret %q is on disk: ...%q...", s, all[lo:hi])
				}
			}
		})
	}
}
