package compare

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
)

// stdDecodeJSON is the reference decodeJSON must match: encoding/json's
// Decoder with UseNumber, and nothing but white space after the value.
func stdDecodeJSON(b []byte) (v any, ok bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// decodeEdgeCases are bodies where a hand-written decoder is most likely
// to part from encoding/json.
var decodeEdgeCases = []string{
	``, ` `, `{}`, `[]`, ` {} `, "\t[]\r\n", `{}x`, `{} {}`, `[] 1`, `{},`, `{}}`,
	`null`, `true`, `false`, `nul`, `truex`, `True`, `"s"`, `"`, `"abc`,
	`0`, `-0`, `01`, `-`, `1.`, `.5`, `1.5e`, `1e+`, `1E-07`, `-12.50e+10`, `1e400`,
	`123456789012345678901234567890`, `+1`, `0x10`, `1 2`,
	`{"a":1,"a":2}`, `{"a":{"b":1},"a":[]}`, `{"a" : 1 , "b" :[ 1 , 2 ] }`,
	`{"a":1,}`, `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{1:2}`, `{'a':1}`, `{"a":1 "b":2}`,
	`[1 2]`, `[[[]]]`, `[{}, [], "", 0, null]`,
	`"\u00e9\n\t\"\\\/\b\f\r"`, `"\'"`, `"\x"`, `"\u12"`, `"\u12g4"`, `"\uD83D\uDE00"`,
	`"\uD83D"`, `"\uD83Dx"`, `"\uDE00"`, `"\uD83D\uD83D\uDE00"`, `"\uD83D\n"`, `"\uD83D\u0041"`,
	`"\uD83D\uZZZZ"`, `"\u0000"`, "\"a\x00b\"", "\"tab\there\"", "\"\x7f\"",
	"\"\xff\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", "\"é\\n\xff\"",
	"\xef\xbb\xbf{}", `{"k\u00e9y":"v"}`, `{"":""}`,
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, in := range decodeEdgeCases {
		got, gotOK := decodeJSON([]byte(in))
		want, wantOK := stdDecodeJSON([]byte(in))
		if gotOK != wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeJSON(%q) = %#v, %v; encoding/json gives %#v, %v", in, got, gotOK, want, wantOK)
		}
	}
}

func TestDecodeJSONValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want any
	}{
		{`{"a":[1,"x",null,true],"b":{}}`, map[string]any{"a": []any{json.Number("1"), "x", nil, true}, "b": map[string]any{}}},
		{`{"a":1,"a":2}`, map[string]any{"a": json.Number("2")}},
		{`[]`, []any{}},
		{`12.50`, json.Number("12.50")},
		{`"\uD83D\uDE00 \uD83D!"`, "😀 \ufffd!"},
		{"\"\xff\"", "\ufffd"},
	}
	for _, tc := range tests {
		got, ok := decodeJSON([]byte(tc.in))
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodeJSON(%q) = %#v, %v; want %#v", tc.in, got, ok, tc.want)
		}
	}
}

// TestDecodeJSONDepth: encoding/json takes 10,000 nested containers and
// no more; so does decodeJSON.
func TestDecodeJSONDepth(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{maxJSONDepth, maxJSONDepth + 1} {
		for _, c := range []struct{ open, empty, end string }{{"[", "[]", "]"}, {`{"k":`, "{}", "}"}} {
			open := c.open
			in := []byte(strings.Repeat(c.open, depth-1) + c.empty + strings.Repeat(c.end, depth-1))
			_, got := decodeJSON(in)
			_, want := stdDecodeJSON(in)
			if got != want || got != (depth <= maxJSONDepth) {
				t.Errorf("%d × %q: decodeJSON ok %v, encoding/json ok %v", depth, open, got, want)
			}
		}
	}
}

// TestDecodeJSONReuse: the decoder is pooled; the tree it returns
// must not share scratch space with the next decoding.
func TestDecodeJSONReuse(t *testing.T) {
	t.Parallel()
	a, _ := decodeJSON([]byte(`{"a":[1,2,"\n"],"b":{"c":"d"}}`))
	want := map[string]any{"a": []any{json.Number("1"), json.Number("2"), "\n"}, "b": map[string]any{"c": "d"}}
	for range 3 {
		decodeJSON([]byte(`{"x":[3,4,"\t"],"y":{"z":"w"}}`))
		decodeJSON([]byte(`[[1,2,`))
	}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("after more decodings, first tree is %#v; want %#v", a, want)
	}
}

// FuzzDecodeJSON: decodeJSON accepts exactly what encoding/json accepts
// and builds the same tree.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	for _, s := range decodeEdgeCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotOK := decodeJSON(b)
		want, wantOK := stdDecodeJSON(b)
		if gotOK != wantOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeJSON(%q) = %#v, %v; encoding/json gives %#v, %v", b, got, gotOK, want, wantOK)
		}
	})
}
