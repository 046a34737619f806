package capture

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/exchange"
)

// TestHeaderMatchCanonicalRule pins headerMatch, which canonicalizes a
// name only when a configured header has no usable folded name and looks
// common names up in a table, to the
// rule it implements: a header is a secret when its canonical name is
// always redacted or configured, or when its name is a secret field name.
func TestHeaderMatchCanonicalRule(t *testing.T) {
	always := map[string]bool{}
	for _, h := range alwaysRedactedHeaders {
		always[http.CanonicalHeaderKey(h)] = true
	}
	long := "X-" + strings.Repeat("Long-", 14) + "Secret" // folds to more than maxNameLen bytes
	redactors := []*Redactor{
		{},
		{NoDefaultFieldNames: true},
		{Headers: []string{"X-Tenant-Key", "-", long}},
		{Headers: []string{"x-custom-auth"}, FieldNames: []string{"pin"}, NoDefaultFieldNames: true},
		{QueryParams: []string{"sig"}, Key: []byte("0123456789abcdef")},
	}
	names := []string{
		"Authorization", "authorization", "AUTHORIZATION", "Proxy-Authorization", "proxy-authorization",
		"Cookie", "cookie", "Set-Cookie", "set-cookie", "SET_COOKIE", "X-Api-Key", "x-api-key", "X-Auth-Token",
		"x_auth_token", "Content-Type", "Content-Length", "Date", "Host", "X-Forwarded-For", "X-Shadow-Request",
		"Token", "x-token", "Api-Key", "X-Tenant-Key", "x-tenant-key", "-", "_", "--", long, strings.ToLower(long),
		strings.ToUpper(long), "X-Custom-Auth", "Pin", "pin", "Sig", "Password", "pass word", "Cookie ", "",
	}
	for _, h := range commonHeaders {
		names = append(names, h, strings.ToLower(h))
	}
	for ri, r := range redactors {
		p := r.compile()
		for _, n := range names {
			c := http.CanonicalHeaderKey(n)
			want := always[c] || matchName(p, n)
			for _, h := range p.headers {
				want = want || h == c
			}
			if got := p.headerMatch(n); got != want {
				t.Errorf("redactor %d: headerMatch(%q) = %v, want %v", ri, n, got, want)
			}
		}
	}
	if p := redactors[2].compile(); !p.headerMatch("-") || !p.headerMatch(strings.ToLower(long)) {
		t.Error("a configured header without a usable folded name is not matched by its canonical name")
	}
}

// TestIsURLHeaderAnyCase checks the length filter in front of EqualFold.
func TestIsURLHeaderAnyCase(t *testing.T) {
	for _, n := range []string{"Location", "location", "CONTENT-LOCATION", "Content-Location", "referer", "Referer"} {
		if !isURLHeader(n) {
			t.Errorf("isURLHeader(%q) = false", n)
		}
	}
	for _, n := range []string{"Locations", "Referrer", "Content-Type", "", "Content_Location"} {
		if isURLHeader(n) {
			t.Errorf("isURLHeader(%q) = true", n)
		}
	}
}

// TestRedactEqualAnswersAlike checks that answers with the previous
// answer's body are redacted as if on their own: alike when type, coding
// and truncation agree too, by their own type when not, and never by
// writing into what they were given.
func TestRedactEqualAnswersAlike(t *testing.T) {
	form := []byte("a=1&token=s3cr3t-value")
	js := []byte(`{"id":1,"password":"hunter2-secret"}`)
	resp := func(ct string, body []byte, truncated bool) exchange.Response {
		return exchange.Response{Status: 200, Header: http.Header{"Content-Type": {ct}}, Body: bytes.Clone(body), Truncated: truncated}
	}
	sec := resp("text/plain", form, false) // same bytes, not a form: kept
	x := &exchange.Exchange{
		Request:         exchange.Request{Method: "GET", URL: "/"},
		Primary:         resp("application/x-www-form-urlencoded", form, false),
		Secondary:       &sec,
		Candidate:       resp("application/x-www-form-urlencoded", form, false),
		OtherCandidates: []exchange.Response{resp("application/json", js, false), resp("application/json", js, false), resp("application/json", js, true)},
	}
	orig := x.Candidate.Body
	(&Redactor{}).Redact(x)
	wantForm := "a=1&token=" + Redacted
	wantForm = strings.ReplaceAll(wantForm, "[", "%5B")
	wantForm = strings.ReplaceAll(wantForm, "]", "%5D")
	for name, got := range map[string][]byte{"primary": x.Primary.Body, "candidate": x.Candidate.Body} {
		if string(got) != wantForm {
			t.Errorf("%s body %q, want %q", name, got, wantForm)
		}
	}
	if string(x.Secondary.Body) != string(form) {
		t.Errorf("secondary (text/plain) body %q, want it kept", x.Secondary.Body)
	}
	if string(orig) != string(form) {
		t.Errorf("the candidate's body array was written into: %q", orig)
	}
	for i, o := range x.OtherCandidates {
		if want := `{"id":1,"password":"` + Redacted + `"}`; string(o.Body) != want {
			t.Errorf("other candidate %d body %q, want %q", i, o.Body, want)
		}
	}
	if c := x.Primary.Body; cap(c) != len(c) {
		t.Errorf("a shared redacted body has room to append into (len %d, cap %d)", len(c), cap(c))
	}
}
