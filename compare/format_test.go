package compare

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

func TestNonJSONBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		p, c       exchange.Response
		want       []brief
		wantDetail string
	}{
		{
			name: "equal text",
			p:    textAnswer("text/html", "<p>hi</p>"),
			c:    textAnswer("text/html", "<p>hi</p>"),
		},
		{
			name:       "text gets a line diff",
			p:          textAnswer("text/plain", "a\nb\nc\nd\n"),
			c:          textAnswer("text/plain", "a\nB\nc\nd\n"),
			want:       []brief{{"body", Changed, "b", "B"}},
			wantDetail: "@@ -2,1 +2,1 @@\n-b\n+B",
		},
		{
			name:       "text with added lines",
			p:          textAnswer("text/plain", "a\nz\n"),
			c:          textAnswer("text/plain", "a\nx\ny\nz\n"),
			want:       []brief{{"body", Changed, "", "x"}},
			wantDetail: "@@ -2,0 +2,2 @@\n+x\n+y",
		},
		{
			name:       "binary gives sizes and offset",
			p:          textAnswer("image/png", "\x89PNG\x00\x01\x02"),
			c:          textAnswer("image/png", "\x89PNG\x00\x01\x03\x04"),
			want:       []brief{{"body", Changed, "7 bytes", "8 bytes"}},
			wantDetail: "binary bodies differ from byte 6",
		},
		{
			name: "JSON against HTML is a type change",
			p:    answer(200, `{"ok":true}`),
			c:    textAnswer("text/html", "<h1>502 Bad Gateway</h1>"),
			want: []brief{{"body", TypeChanged, "JSON, 11 bytes", "text/html, 24 bytes"}},
		},
		{
			name: "JSON sniffed without a content type",
			p:    textAnswer("", `{"a":1.0}`),
			c:    textAnswer("", `{"a":1}`),
		},
		{
			name: "empty against JSON",
			p:    answer(200, ``),
			c:    answer(200, `{}`),
			want: []brief{{"body", TypeChanged, "empty body", "JSON, 2 bytes"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", tt.p, tt.c))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, briefs(res.Body)); diff != "" {
				t.Errorf("body differences (-want +got):\n%s", diff)
			}
			if tt.wantDetail != "" && (len(res.Body) == 0 || res.Body[0].Detail != tt.wantDetail) {
				t.Errorf("detail = %q, want %q", detailOf(res.Body), tt.wantDetail)
			}
		})
	}
}

func detailOf(ds []Difference) string {
	if len(ds) == 0 {
		return ""
	}
	return ds[0].Detail
}

func TestLineDiffIsBounded(t *testing.T) {
	t.Parallel()
	var a, b strings.Builder
	for i := range 100 {
		a.WriteString("line a " + strings.Repeat("x", i*5) + "\n")
		b.WriteString("line b\n")
	}
	d := lineDiff(a.String(), b.String())
	lines := strings.Split(d.Detail, "\n")
	if len(lines) > 2*maxDiffLines+3 {
		t.Errorf("detail has %d lines, want at most %d", len(lines), 2*maxDiffLines+3)
	}
	for _, l := range lines {
		if len(l) > maxLineLen+8 {
			t.Errorf("line of %d bytes in detail, want at most %d", len(l), maxLineLen+8)
		}
	}
}

func truncated(r exchange.Response, n int) exchange.Response {
	r.Size = int64(len(r.Body))
	r.Body = r.Body[:n]
	r.Truncated = true
	return r
}

func TestTruncatedBodies(t *testing.T) {
	t.Parallel()
	full := `{"id":"ord-1","items":[{"sku":"A","price":1.5},{"sku":"B","price":2.25},{"sku":"C","price":3}],"total":6.75}`
	changed := strings.Replace(full, `"price":1.5`, `"price":1.6`, 1)
	reordered := `{"total":6.75,"id":"ord-1","items":[{"sku":"A","price":1.5},{"sku":"B","price":2.25},{"sku":"C","price":3}]}`
	tests := []struct {
		name string
		p, c exchange.Response
		want []brief
	}{
		{
			name: "both cut at the same place, equal so far",
			p:    truncated(answer(200, full), 60),
			c:    truncated(answer(200, full), 60),
		},
		{
			name: "cut inside a number: the number is not compared",
			p:    truncated(answer(200, full), strings.Index(full, "2.25")+2),
			c:    truncated(answer(200, strings.Replace(full, "2.25", "2.29", 1)), strings.Index(full, "2.25")+2),
		},
		{
			name: "one side complete, the other cut",
			p:    answer(200, full),
			c:    truncated(answer(200, full), 70),
		},
		{
			name: "key order differs: keys not read yet are not missing",
			p:    truncated(answer(200, full), 30),
			c:    truncated(answer(200, reordered), 30),
		},
		{
			name: "difference before the cut",
			p:    truncated(answer(200, full), 70),
			c:    truncated(answer(200, changed), 70),
			want: []brief{{"$.items[0].price", Changed, "1.5", "1.6"}},
		},
		{
			name: "complete side lacks a key the cut side has",
			p:    answer(200, `{"a":1}`),
			c:    truncated(answer(200, `{"b":2,"a":1,"c":[1,2,3]}`), 14),
			want: []brief{{"$.b", Added, "", "2"}},
		},
		{
			name: "complete array shorter than what the cut side shows",
			p:    answer(200, `{"a":[1]}`),
			c:    truncated(answer(200, `{"a":[1,2,3,4]}`), 10),
			want: []brief{{"$.a[1]", Added, "", "2"}},
		},
		{
			name: "text compared as far as both go",
			p:    truncated(textAnswer("text/plain", "hello\nworld\n"), 8),
			c:    truncated(textAnswer("text/plain", "hello\nwide\n"), 8),
			want: []brief{{"body", Changed, "wo", "wi"}},
		},
		{
			name: "binary with equal prefixes but different full sizes",
			p:    truncated(textAnswer("application/octet-stream", "\x00\x01\x02\x03"), 2),
			c:    truncated(textAnswer("application/octet-stream", "\x00\x01\x02\x03\x04"), 2),
			want: []brief{{"body", Changed, "4 bytes", "5 bytes"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", tt.p, tt.c))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, briefs(res.Body)); diff != "" {
				t.Errorf("body differences (-want +got):\n%s", diff)
			}
			if !res.Truncated {
				t.Error("Truncated = false, want true")
			}
		})
	}
}

func TestTruncatedArraysSkipSetNormalizers(t *testing.T) {
	t.Parallel()
	cfg := Config{Normalizers: []Normalizer{{Kind: Set, Path: "$.tags"}}}
	p := truncated(answer(200, `{"tags":["a","b","c","d"],"x":1}`), 17)
	c := truncated(answer(200, `{"tags":["b","a","d","c"],"x":1}`), 17)
	res := mustEngine(t, cfg).Compare(pairOf("GET", "/x", p, c))
	if len(res.Body) != 0 {
		t.Errorf("differences = %+v, want none (a cut array cannot be compared as a set)", briefs(res.Body))
	}
}

func compressed(t *testing.T, enc string, level int, body string) exchange.Response {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch enc {
	case "gzip":
		w, err = gzip.NewWriterLevel(&buf, level)
	case "deflate":
		w, err = zlib.NewWriterLevel(&buf, level)
	}
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	w.Close()
	r := answer(200, buf.String(), "Content-Encoding", enc)
	return r
}

func TestCompressedBodies(t *testing.T) {
	t.Parallel()
	doc := `{"id":"ord-1","items":[` + strings.Repeat(`{"sku":"A","price":1.5},`, 50) + `{"sku":"Z","price":9}]}`
	changed := strings.Replace(doc, `"Z"`, `"Y"`, 1)
	tests := []struct {
		name string
		p, c exchange.Response
		want []brief
	}{
		{"gzip at different levels", compressed(t, "gzip", 1, doc), compressed(t, "gzip", 9, doc), nil},
		{"gzip against deflate", compressed(t, "gzip", 6, doc), compressed(t, "deflate", 6, doc),
			[]brief{{"header.Content-Encoding", Changed, "gzip", "deflate"}}},
		{"a change inside gzip", compressed(t, "gzip", 6, doc), compressed(t, "gzip", 6, changed),
			[]brief{{"$.items[50].sku", Changed, `"Z"`, `"Y"`}}},
		{"truncated gzip against the whole", compressed(t, "gzip", 6, doc), truncated(compressed(t, "gzip", 6, doc), 40), nil},
		{"corrupt gzip compares as bytes", answer(200, "not gzip", "Content-Encoding", "gzip"), answer(200, "not gzip!", "Content-Encoding", "gzip"),
			[]brief{{"body", Changed, "not gzip", "not gzip!"}}},
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

func TestDecompressionIsBounded(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	zeros := make([]byte, 1<<20)
	for range 9 { // 9 MiB of zeros in a few KiB
		w.Write(zeros)
	}
	w.Close()
	r := answer(200, buf.String(), "Content-Encoding", "gzip")
	body, cut, _ := decodeContent(&r)
	if len(body) != maxDecoded || !cut {
		t.Errorf("decoded %d bytes (truncated %v), want %d and truncated", len(body), cut, maxDecoded)
	}
}

// Truncated binary bodies compare their full sizes even when text
// normalizers are configured: binary bodies are never rewritten.
func TestTruncatedBinarySizesWithTextNormalizers(t *testing.T) {
	t.Parallel()
	cfg := Config{Normalizers: []Normalizer{{Kind: Replace, Builtin: "uuid"}}}
	p := truncated(textAnswer("application/octet-stream", "\x00\x01\x02\x03"), 2)
	c := truncated(textAnswer("application/octet-stream", "\x00\x01\x02\x03\x04"), 2)
	res := mustEngine(t, cfg).Compare(pairOf("GET", "/x", p, c))
	want := []brief{{"body", Changed, "4 bytes", "5 bytes"}}
	if diff := cmp.Diff(want, briefs(res.Body)); diff != "" {
		t.Errorf("body differences (-want +got):\n%s", diff)
	}
}

// One body can be read in every format: the primary's as text against
// the candidate's, and as bytes against a binary secondary's.
func TestBodyReadInEveryFormat(t *testing.T) {
	t.Parallel()
	p, c := textAnswer("text/plain", "a\nb\n"), textAnswer("text/plain", "a\nc\n")
	s := textAnswer("text/plain", "a\n\x00\n")
	res := mustEngine(t, Config{}).Compare(tripleOf("GET", "/x", p, s, c))
	if got := briefs(res.Body); len(got) != 1 || got[0].Primary != "b" {
		t.Errorf("candidate differences %+v, want the line b", got)
	}
	if len(res.Noise) != 1 || !strings.HasPrefix(res.Noise[0].Detail, "binary bodies differ") {
		t.Errorf("secondary differences %+v, want one binary difference", res.Noise)
	}
}
