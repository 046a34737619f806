package mirror

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSampleHashStable pins the sampling hash: these values were computed
// once (and checked against an independent implementation). If they
// change, replicas running different releases would mirror different
// users, so they must never change.
func TestSampleHashStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want uint64
	}{
		{"", 0xf52a15e9a9b5e89b},
		{"user-41", 0x8765d7be30b6267f},
		{"user-42", 0x7a1596f0e94b5793},
		{"session=abc", 0x763d837ae22d742b},
		{"ünïcode", 0x0b64693a7f39300f},
	}
	for _, tc := range tests {
		if got := sampleHash(tc.in); got != tc.want {
			t.Errorf("sampleHash(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
		// Its first stage is FNV-1a as hash/fnv defines it.
		f := fnv.New64a()
		f.Write([]byte(tc.in))
		if got, want := splitmix64Finalizer(f.Sum64()), sampleHash(tc.in); got != want {
			t.Errorf("%q: FNV-1a then finalizer = %#x, sampleHash = %#x", tc.in, got, want)
		}
	}
}

// splitmix64Finalizer is the second stage of sampleHash, written out again
// from the SplitMix64 reference.
func splitmix64Finalizer(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// keyedRequest builds a GET carrying id as the sampling key of kind.
func keyedRequest(kind, id string) *http.Request {
	target := "/orders"
	if kind == "query" {
		target += "?page=2&user=" + url.QueryEscape(id)
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	switch kind {
	case "header":
		r.Header.Set("X-User-Id", id)
	case "cookie":
		r.Header.Set("Cookie", "theme=dark; session="+id+"; lang=en")
	}
	return r
}

var sampleBys = map[string]string{"header": "header:x-user-id", "cookie": "cookie:session", "query": "query:user"}

// TestSampleConsistent proves keyed sampling, for a header, a cookie and a
// query parameter: over a fixed set of 4000 ids, every request of one id
// gets the same decision (asked three times, and by a second, independent
// proxy, as a replica would), the share in the sample is close to the
// percent, and raising the percent keeps everyone who was in. The ids are
// fixed and the hash has no seed, so this is deterministic: the bound is
// about 5 standard deviations of a binomial(4000, 0.1).
func TestSampleConsistent(t *testing.T) {
	t.Parallel()
	const ids, percent = 4000, 10
	for kind, by := range sampleBys {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			p := newIdleProxy(t, Config{SamplePercent: percent, SampleBy: by})
			replica := newIdleProxy(t, Config{SamplePercent: percent, SampleBy: by})
			in := map[string]bool{}
			for i := range ids {
				id := fmt.Sprintf("user-%d", i)
				_, _, first := p.admit(keyedRequest(kind, id))
				for range 2 {
					if _, _, again := p.admit(keyedRequest(kind, id)); again != first {
						t.Fatalf("%s: mirrored %v, then %v: want the same decision for every request", id, first, again)
					}
				}
				if _, _, r := replica.admit(keyedRequest(kind, id)); r != first {
					t.Fatalf("%s: this proxy says %v, a replica says %v", id, first, r)
				}
				if first {
					in[id] = true
				}
			}
			if n := len(in); n < 330 || n > 470 {
				t.Errorf("%d of %d ids in a %d%% sample, want 400 ± 70", n, ids, percent)
			}

			// Live, to 30%: the 10% are all still in, and more came in.
			if err := p.SetSamplePercent(30); err != nil {
				t.Fatal(err)
			}
			more := 0
			for i := range ids {
				id := fmt.Sprintf("user-%d", i)
				_, _, ok := p.admit(keyedRequest(kind, id))
				if in[id] && !ok {
					t.Fatalf("%s was in the 10%% sample but not in the 30%% one", id)
				}
				if ok {
					more++
				}
			}
			if more < 1100 || more > 1300 {
				t.Errorf("%d of %d ids in a 30%% sample, want 1200 ± 100", more, ids)
			}
		})
	}
}

// TestSampleFallsBackToRandom checks that requests without the key, or
// with an empty one, are sampled at random: with 50%, 400 requests all
// landing on one side has odds of 2^-400.
func TestSampleFallsBackToRandom(t *testing.T) {
	t.Parallel()
	for kind, by := range sampleBys {
		p := newIdleProxy(t, Config{SamplePercent: 50, SampleBy: by})
		var in, out int
		for i := range 400 {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if i%2 == 0 {
				r = keyedRequest(kind, "") // present but empty
			}
			if _, _, ok := p.admit(r); ok {
				in++
			} else {
				out++
			}
		}
		if in == 0 || out == 0 {
			t.Errorf("%s: %d in, %d out of 400 keyless requests; want random, a share of each", kind, in, out)
		}
	}
}

func TestParseSampleBy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    sampleKey
		wantErr string
	}{
		{in: "", want: sampleKey{}},
		{in: "header:x-user-id", want: sampleKey{sampleHeader, "X-User-Id"}},
		{in: "cookie:session", want: sampleKey{sampleCookie, "session"}},
		{in: "query:user", want: sampleKey{sampleQuery, "user"}},
		{in: "query:a:b", want: sampleKey{sampleQuery, "a:b"}},
		{in: "header", wantErr: `"header": want header:NAME, cookie:NAME or query:NAME`},
		{in: "header:", wantErr: `"header:": want header:NAME, cookie:NAME or query:NAME`},
		{in: "header:bad name", wantErr: `"header:bad name": "bad name" is not a valid header name`},
		{in: "cookie:a;b", wantErr: `"cookie:a;b": "a;b" is not a valid cookie name`},
		{in: "body:user", wantErr: `"body:user": unknown source "body"; want header, cookie or query`},
	}
	for _, tc := range tests {
		got, err := parseSampleBy(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("parseSampleBy(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseSampleBy(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseSampleBy checks that a parsed key prints back to a string that
// parses to the same key.
func FuzzParseSampleBy(f *testing.F) {
	for _, s := range []string{"", "header:X-User-Id", "cookie:session", "query:user", "query:", "x:y", ":", "header:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseSampleBy(s)
		if err != nil {
			return
		}
		again, err := parseSampleBy(k.String())
		if err != nil || again != k {
			t.Errorf("%q parsed to %+v, printed %q, parsed again to %+v, %v", s, k, k.String(), again, err)
		}
	})
}

func TestQueryValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, name string
		want      string
		wantOK    bool
	}{
		{"user=42", "user", "42", true},
		{"a=1&user=42&user=43", "user", "42", true},
		{"user", "user", "", true},
		{"users=1", "user", "", false},
		{"u%73er=a%20b", "user", "a b", true},
		{"user=a+b", "user", "a b", true},
		{"user=%zz&user=ok", "user", "ok", true},
		{"user=1;x=2&user=3", "user", "3", true},
		{"&&user=7&", "user", "7", true},
		{"", "user", "", false},
	}
	for _, tc := range tests {
		got, ok := queryValue(tc.raw, tc.name)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("queryValue(%q, %q) = %q, %v; want %q, %v", tc.raw, tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// FuzzQueryValue checks queryValue against url.ParseQuery, which it
// stands in for without building the whole map.
func FuzzQueryValue(f *testing.F) {
	for _, s := range []string{"user=42", "a=1&user=%41", "user=%zz&user=x", "user=1;2", "=x&user", "u+ser=1&u ser=2", "%75ser=x"} {
		f.Add(s, "user")
	}
	f.Add("a+b=1", "a b")
	f.Fuzz(func(t *testing.T, raw, name string) {
		if name == "" {
			return // Validate never lets an empty name through
		}
		v, _ := url.ParseQuery(raw)
		got, ok := queryValue(raw, name)
		if want := struct {
			V  string
			OK bool
		}{v.Get(name), v.Has(name)}; !cmp.Equal(want, struct {
			V  string
			OK bool
		}{got, ok}) {
			t.Errorf("queryValue(%q, %q) = %q, %v; url.ParseQuery gives %q, %v", raw, name, got, ok, want.V, want.OK)
		}
	})
}

// BenchmarkAdmit measures the mirroring decision for a request sampled at
// random and by each kind of key.
//
//	go test -run '^$' -bench BenchmarkAdmit ./mirror/
func BenchmarkAdmit(b *testing.B) {
	for _, kind := range []string{"random", "header", "cookie", "query"} {
		b.Run(kind, func(b *testing.B) {
			p, err := New(Config{
				Primary: "http://127.0.0.1:1", Candidate: "http://127.0.0.1:2", Logger: discardLogger,
				SamplePercent: 10, SampleBy: sampleBys[kind],
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			r := keyedRequest(kind, "user-41")
			b.ReportAllocs()
			for b.Loop() {
				p.admit(r)
			}
		})
	}
}
