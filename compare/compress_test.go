package compare

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/content"
)

// encode applies the codings of a Content-Encoding value in order
// (internal/content's encoders are checked against the libraries' own in
// that package).
func encode(t testing.TB, codings string, body []byte) []byte {
	t.Helper()
	cs, ok := content.Codings([]string{codings})
	if !ok {
		t.Fatalf("unknown coding in %q", codings)
	}
	out, err := content.Encode(body, cs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// encoded builds an answer with body compressed by codings.
func encoded(t testing.TB, r exchange.Response, codings string) exchange.Response {
	t.Helper()
	r.Body = encode(t, codings, r.Body)
	r.Size = int64(len(r.Body))
	if codings != "" {
		r.Header.Set("Content-Encoding", codings)
	}
	return r
}

var codings = []string{"gzip", "deflate", "br", "zstd"}

// TestCompressionOnlyChange: the same content compressed differently is
// a Content-Encoding header difference and nothing else.
func TestCompressionOnlyChange(t *testing.T) {
	t.Parallel()
	doc := `{"id":"ord-1","items":[` + strings.Repeat(`{"sku":"A","price":1.5},`, 50) + `{"sku":"Z","price":9}]}`
	tests := []struct {
		p, c string // codings; "" for none
		want brief
	}{
		{"", "zstd", brief{"header.Content-Encoding", Added, "", "zstd"}},
		{"br", "", brief{"header.Content-Encoding", Removed, "br", ""}},
		{"gzip", "br", brief{"header.Content-Encoding", Changed, "gzip", "br"}},
		{"br", "zstd", brief{"header.Content-Encoding", Changed, "br", "zstd"}},
		{"deflate", "zstd", brief{"header.Content-Encoding", Changed, "deflate", "zstd"}},
		{"gzip, br", "zstd", brief{"header.Content-Encoding", Changed, "gzip, br", "zstd"}},
	}
	for _, tt := range tests {
		t.Run(tt.p+" vs "+tt.c, func(t *testing.T) {
			t.Parallel()
			p, c := encoded(t, answer(200, doc), tt.p), encoded(t, answer(200, doc), tt.c)
			res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", p, c))
			if diff := cmp.Diff([]brief{tt.want}, briefs(res.Differences())); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompressedDifferences: inside every coding, a real difference is
// found at its field and a noise-only one (the secondary differs on the
// same field) does not count.
func TestCompressedDifferences(t *testing.T) {
	t.Parallel()
	for _, enc := range codings {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, Config{})
			z := func(r exchange.Response) exchange.Response { return encoded(t, r, enc) }

			res := e.Compare(tripleOf("GET", "/o",
				z(answer(200, order(1, "10.00"))), z(answer(200, order(2, "10.00"))), z(answer(200, order(3, "10.50")))))
			want := []brief{{"$.generated_at", Changed, `"2024-05-01T12:00:01Z"`, `"2024-05-01T12:00:03Z"`}, {"$.price", Changed, "10.00", "10.50"}}
			if diff := cmp.Diff(want, briefs(res.Body)); diff != "" || !res.Differs || res.Body[1].Noise || !res.Body[0].Noise {
				t.Errorf("real difference: Differs %v, body %+v (-want +got):\n%s", res.Differs, res.Body, diff)
			}

			res = e.Compare(tripleOf("GET", "/o",
				z(answer(200, order(1, "10.00"))), z(answer(200, order(2, "10.00"))), z(answer(200, order(3, "10.00")))))
			if res.Differs || len(res.Body) != 1 || !res.Body[0].Noise {
				t.Errorf("noise only: Differs %v, body %+v; want one noise difference", res.Differs, res.Body)
			}

			res = e.Compare(pairOf("GET", "/o", z(xmlAnswer(xmlOrder(1, "2.00"))), z(xmlAnswer(xmlOrder(1, "2.10")))))
			if diff := cmp.Diff([]brief{{"/order/items/item[2]/price", Changed, `"2.00"`, `"2.10"`}}, briefs(res.Differences())); diff != "" {
				t.Errorf("XML inside %s (-want +got):\n%s", enc, diff)
			}
		})
	}
}

func TestCompressedEdgeCases(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"id":"ord-1","items":[` + strings.Repeat(`{"sku":"A","price":1.5},`, 200) + `{"sku":"Z","price":9}]}`)
	tests := []struct {
		name string
		p, c exchange.Response
		want []brief
	}{
		{"stacked codings are undone in reverse", answer(200, string(doc)), encoded(t, answer(200, string(doc)), "gzip, zstd"),
			[]brief{{"header.Content-Encoding", Added, "", "gzip, zstd"}}},
		{"truncated br against the whole", encoded(t, answer(200, string(doc)), "br"), truncated(encoded(t, answer(200, string(doc)), "br"), 30), nil},
		{"truncated zstd against the whole", encoded(t, answer(200, string(doc)), "zstd"), truncated(encoded(t, answer(200, string(doc)), "zstd"), 30), nil},
		{"corrupt zstd compares as sent", answer(200, "not zstd", "Content-Encoding", "zstd"), answer(200, "not zstd!", "Content-Encoding", "zstd"),
			[]brief{{"body", Changed, "not zstd", "not zstd!"}}},
		{"unknown coding compares as sent", answer(200, "abc", "Content-Encoding", "compress"), answer(200, "abd", "Content-Encoding", "compress"),
			[]brief{{"body", Changed, "abc", "abd"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", tt.p, tt.c))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, briefs(res.Differences())); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecompressionBoundedAllCodings: a small body that expands past
// maxDecoded is cut there, whatever its coding.
func TestDecompressionBoundedAllCodings(t *testing.T) {
	t.Parallel()
	zeros := make([]byte, maxDecoded+1<<20)
	for _, enc := range codings {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			r := encoded(t, answer(200, ""), "")
			r.Body = encode(t, enc, zeros)
			r.Header.Set("Content-Encoding", enc)
			if len(r.Body) > 1<<20 {
				t.Fatalf("%s of %d zeros is %d bytes: not a bomb", enc, len(zeros), len(r.Body))
			}
			body, cut, size := decodeContent(&r)
			if len(body) != maxDecoded || !cut || size != 0 {
				t.Errorf("decoded %d bytes (truncated %v, size %d), want %d, truncated, size unknown", len(body), cut, size, maxDecoded)
			}
		})
	}
}
