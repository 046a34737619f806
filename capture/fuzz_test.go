package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/internal/content"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/understudy-dev/understudy/exchange"
)

// FuzzReader feeds arbitrary files to the reader: it must not panic, must
// end, and must not allocate much more than the file's size whatever the
// lengths inside claim.
func FuzzReader(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "v1.0.usc"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(golden[:len(golden)/2])
	v11, err := os.ReadFile(filepath.Join("testdata", "v1.1.usc")) // with a descriptor record
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v11)
	flipped := bytes.Clone(golden)
	flipped[len(flipped)/2] ^= 0x40
	f.Add(flipped)
	f.Add([]byte{})
	f.Add(magic[:])
	f.Add(appendPreamble(nil))
	hostile := appendPreamble(nil)
	h := make([]byte, frameHeaderLen)
	putFrameHeader(h, KindExchange, nil)
	binary.BigEndian.PutUint32(h[5:9], MaxRecordBytes)
	binary.BigEndian.PutUint32(h[13:17], crc32c(h[:13]))
	f.Add(append(hostile, h...))
	// A frame claiming more than the file holds, then intact records.
	past := validFrame(KindExchange, []byte{0x80})
	binary.BigEndian.PutUint32(past[5:9], uint32(len(golden)))
	binary.BigEndian.PutUint32(past[13:17], crc32c(past[:13]))
	ends := frameEnds(f, golden)
	f.Add(append(append(bytes.Clone(golden[:ends[0]]), past...), golden[ends[0]:]...))
	// A record of many tiny entries (refused before decoding).
	f.Add(append(appendPreamble(nil), validFrame(KindExchange, wideHeaderRecord(MaxRecordEntries+1))...))
	// A record of several candidates.
	multi := sampleExchange(3)
	multi.Exchange.OtherCandidates = []exchange.Response{{Side: exchange.Candidate, Name: "v3", Status: 200, Body: []byte("{}")},
		{Side: exchange.Candidate, Name: "v4", NotSent: "stale"}}
	multi.Candidates = []CandidateVerdict{{Name: "v3", Differs: true, Diffs: []string{"status"}}, {Name: "v4"}}
	if payload, err := msgpack.Marshal(multi); err == nil {
		f.Add(append(appendPreamble(nil), validFrame(KindExchange, payload)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int
		alloc := allocDuring(func() {
			r, err := newReader("fuzz", bytes.NewReader(data))
			if err != nil {
				return
			}
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next on an in-memory file: %v", err)
				}
				if n++; n > len(data) {
					t.Fatalf("more records (%d) than bytes (%d)", n, len(data))
				}
			}
			if s := r.Stats(); s.Records != int64(n) || s.SkippedBytes > int64(len(data)) {
				t.Fatalf("stats %+v after %d records of %d bytes", s, n, len(data))
			}
		})
		if limit := uint64(64*len(data) + 1<<20); alloc > limit {
			t.Fatalf("reading %d bytes allocated %d", len(data), alloc)
		}
	})
}

// FuzzDecodeRecord exercises what the frame checksums keep the reader
// fuzzer from reaching: decoding a record payload. Whatever checkMsgpack
// accepts must be a single msgpack value the decoder can walk, and
// decoding it must neither panic nor allocate out of proportion.
func FuzzDecodeRecord(f *testing.F) {
	_, withOutbound := goldenV1_1() // an exchange with outbound calls, since 1.1
	for _, v := range []any{sampleExchange(1), sampleSynth(2), &Header{Tool: "t", Labels: map[string]string{"a": "b"}}, withOutbound[0].Exchange,
		&DescriptorRecord{Hash: DescriptorHash([]byte("set")), Set: []byte("set")}} {
		b, err := msgpack.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(bytes.Repeat([]byte{0x91}, 64))
	f.Add(wideHeaderRecord(100))
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkMsgpack(data) != nil {
			return
		}
		dec := msgpack.NewDecoder(bytes.NewReader(data))
		if err := dec.Skip(); err != nil {
			t.Fatalf("checkMsgpack accepted what msgpack cannot skip: %v", err)
		}
		if rest, _ := io.ReadAll(dec.Buffered()); len(rest) != 0 {
			t.Fatalf("checkMsgpack accepted %d trailing bytes", len(rest))
		}
		r := &Reader{dec: msgpack.NewDecoder(nil)}
		alloc := allocDuring(func() {
			_ = r.decode(data, new(ExchangeRecord))
			_ = r.decode(data, new(SynthRecord))
			_ = r.decode(data, new(Header))
			_ = r.decode(data, new(DescriptorRecord))
		})
		if limit := uint64(256*len(data) + 1<<20); alloc > limit {
			t.Fatalf("decoding %d bytes allocated %d", len(data), alloc)
		}
	})
}

// FuzzRedactJSON: never panics; valid JSON stays valid, with every value
// under a secret name redacted; redacting twice changes nothing more.
func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{
		`{"user":"a","password":"p","card":{"number":"4111"}}`,
		`[{"token":1},{"x":{"secret":[1,2,{"a":"b"}]}}]`,
		`{"pass\u0077ord":"s","a":"\"token\":\"x\""}`,
		`{"a": tru e, "secret": "s"}`,
		`{"token":"trunc`,
		"{\"a\":1}\n{\"otp\":2}",
		`{"items":[{"pan":"1"}],"list":[1,2,3]}`,
	} {
		f.Add([]byte(s))
	}
	p := (&Redactor{FieldPaths: []string{"$.card.number", "$.items[*].pan", "$.list[1]"}}).compile().call()
	namesOnly := (&Redactor{}).compile().call()
	walker := (&Redactor{FieldPaths: []string{"$.never.matches.anything"}}).compile().call()
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		out, changed := p.redactJSON(in, nil)
		if !bytes.Equal(in, orig) {
			t.Fatal("redactJSON wrote into its input")
		}
		if !changed && !bytes.Equal(out, in) {
			t.Fatal("unchanged but different output")
		}
		again, _ := p.redactJSON(out, nil)
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n%s\n%s", out, again)
		}
		if !json.Valid(in) {
			return
		}
		// On valid JSON, hunting keys (no paths) and walking the structure
		// (a path that never matches) must agree.
		hunted, _ := namesOnly.redactJSON(in, nil)
		walked, _ := walker.redactJSON(in, nil)
		if !bytes.Equal(hunted, walked) {
			t.Fatalf("hunt and walk disagree on %s:\n%s\n%s", in, hunted, walked)
		}
		if !json.Valid(out) {
			t.Fatalf("valid input became invalid:\n%s\n%s", in, out)
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		checkRedacted(t, p, v)
	})
}

// checkRedacted fails when a value under a secret name is not redacted.
func checkRedacted(t *testing.T, p *redaction, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if matchName(p.redactPlan, k) && x != Redacted {
				t.Fatalf("key %q kept value %v", k, x)
			}
			checkRedacted(t, p, x)
		}
	case []any:
		for _, x := range v {
			checkRedacted(t, p, x)
		}
	}
}

// FuzzRedactURL: never panics, is idempotent, and leaves URLs without
// query, fragment or userinfo alone.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"/o?a=1&token=abc", "https://u:p@h/x?api_key=k#access_token=t", "/o?acc%65ss_token=%zz",
		"/cb#x=1&token=b", "https://tok@h", "/p?;=;&=&", "/plain/path",
	} {
		f.Add(s)
	}
	p := (&Redactor{QueryParams: []string{"sig"}}).compile().call()
	f.Fuzz(func(t *testing.T, u string) {
		out, changed := p.redactURL(u)
		if changed == (out == u) && changed {
			t.Fatalf("changed reported for identical output %q", u)
		}
		if again, _ := p.redactURL(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", u, out, again)
		}
		if !bytes.ContainsAny([]byte(u), "?#@") && out != u {
			t.Fatalf("URL without query, fragment or userinfo changed: %q -> %q", u, out)
		}
	})
}

// FuzzRedactEncoded: a body under any coding compare undoes, or a stack
// of two, is redacted as the same body without one: decoding what the
// redaction wrote gives what redacting the plain body gives. Data that
// is not of its coding never panics the redaction.
func FuzzRedactEncoded(f *testing.F) {
	for i, s := range []string{
		`{"user":"a","password":"p","card":{"number":"4111"}}`,
		`{"n":1}`,
		"password=p&x=1",
		`{"token":"trunc`,
	} {
		f.Add([]byte(s), uint8(i), false)
	}
	f.Add([]byte("\x1f\x8b not gzip"), uint8(0), true)
	all := []string{"gzip", "deflate", "br", "zstd"}
	red := (&Redactor{FieldPaths: []string{"$.card.number"}}).compile().call()
	f.Fuzz(func(t *testing.T, plain []byte, pick uint8, raw bool) {
		codings := []string{all[int(pick)%len(all)]}
		if pick >= 128 {
			codings = append(codings, all[int(pick/4)%len(all)])
		}
		h := http.Header{"Content-Encoding": {strings.Join(codings, ", ")}}
		if raw { // the bytes as they are, labelled with a coding
			red.body(plain, h, pick%2 == 0, nil)
			return
		}
		enc, err := content.Encode(plain, codings)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := content.Decode(red.body(enc, h, false, nil), codings, false, MaxRecordBytes)
		if err != nil {
			t.Fatalf("%q: the redacted body does not decode: %v", codings, err)
		}
		if want := red.body(plain, http.Header{}, false, nil); !bytes.Equal(got, want) {
			t.Fatalf("%q: redacted inside the coding\n%q\nbut plain\n%q", codings, got, want)
		}
	})
}
