package capture

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// reflectEncode is what msgpack's reflection writes for v with the
// Writer's settings, map keys sorted (the one order appendExchangeRecord
// writes; msgpack's own is random).
func reflectEncode(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAppendExchangeRecordIsMsgpack: the hand-written encoder writes, for
// records with every field of every recorded type set or left zero at
// random (lengths and numbers at each boundary of msgpack's encodings
// among them), the bytes msgpack's reflection writes. A field added to
// ExchangeRecord or to an exchange type is filled here, and so fails this
// test until appendExchangeRecord writes it too.
func TestAppendExchangeRecordIsMsgpack(t *testing.T) {
	t.Parallel()
	check := func(name string, r *ExchangeRecord) {
		t.Helper()
		want := reflectEncode(t, r)
		got := appendExchangeRecord(nil, r, nil)
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%s: appendExchangeRecord differs from msgpack at byte %d of %d/%d\ngot  %x\nwant %x\nrecord %+v",
				name, i, len(got), len(want), got[i:min(len(got), i+32)], want[i:min(len(want), i+32)], r)
		}
	}
	check("zero", &ExchangeRecord{})
	_, golden := goldenV1_1()
	for i, r := range golden {
		if r.Exchange != nil {
			check(fmt.Sprintf("golden %d", i), r.Exchange)
		}
	}
	rng := rand.New(rand.NewPCG(19, 1))
	for i := range 1000 {
		var r ExchangeRecord
		f := filler{rng: rng, full: i%3 == 0}
		f.fill(reflect.ValueOf(&r).Elem(), 0)
		check(fmt.Sprintf("random %d", i), &r)
	}
}

// TestAppendSynthRecordIsMsgpack is TestAppendExchangeRecordIsMsgpack
// for synth records.
func TestAppendSynthRecordIsMsgpack(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 2))
	for i := range 1000 {
		var r SynthRecord
		f := filler{rng: rng, full: i%3 == 0}
		f.fill(reflect.ValueOf(&r).Elem(), 0)
		want := reflectEncode(t, &r)
		if got := appendSynthRecord(nil, &r); !bytes.Equal(got, want) {
			t.Fatalf("random %d: appendSynthRecord differs from msgpack\ngot  %x\nwant %x\nrecord %+v", i, got, want, r)
		}
		if f.full {
			v := reflect.ValueOf(r)
			for j := range v.NumField() {
				if v.Field(j).IsZero() {
					t.Fatalf("filler left SynthRecord.%s zero", v.Type().Field(j).Name)
				}
			}
		}
	}
	if got, want := appendSynthRecord(nil, &SynthRecord{}), reflectEncode(t, &SynthRecord{}); !bytes.Equal(got, want) {
		t.Fatalf("zero: appendSynthRecord differs from msgpack\ngot  %x\nwant %x", got, want)
	}
}

// TestAppendExchangeRecordFillsEveryField guards the test above: with
// full set, the filler leaves no field of any recorded type zero.
func TestAppendExchangeRecordFillsEveryField(t *testing.T) {
	t.Parallel()
	var r ExchangeRecord
	f := filler{rng: rand.New(rand.NewPCG(1, 2)), full: true}
	f.fill(reflect.ValueOf(&r).Elem(), 0)
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		if v.IsZero() {
			t.Errorf("%s is zero", path)
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).Tag.Get("msgpack") != "-" {
					walk(v.Field(i), path+"."+v.Type().Field(i).Name)
				}
			}
		case reflect.Pointer:
			walk(v.Elem(), path)
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Struct {
				walk(v.Index(0), path+"[0]")
			}
		}
	}
	walk(reflect.ValueOf(r), "ExchangeRecord")
}

// filler sets a value's fields at random: with full, every field to
// something not zero.
type filler struct {
	rng  *rand.Rand
	full bool
}

// zero decides to leave a field zero (nil, empty).
func (f *filler) zero() bool { return !f.full && f.rng.IntN(3) == 0 }

// length is a length near one of msgpack's encoding boundaries, or small.
func (f *filler) length() int {
	if f.rng.IntN(8) != 0 {
		return f.rng.IntN(5)
	}
	edges := []int{15, 16, 31, 32, 255, 256, 65535, 65536}
	return edges[f.rng.IntN(len(edges))]
}

// number is an integer near one of msgpack's encoding boundaries.
func (f *filler) number() int64 {
	edges := []int64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<63 - 1,
		-1, -32, -33, -128, -129, -32768, -32769, -1 << 31, -1<<31 - 1, -1 << 63}
	n := edges[f.rng.IntN(len(edges))]
	if f.full && n == 0 {
		n = 7
	}
	return n
}

func (f *filler) text(n int) string {
	return strings.Repeat(string(rune('a'+f.rng.IntN(26))), n)
}

func (f *filler) fill(v reflect.Value, depth int) {
	switch v.Type() {
	case reflect.TypeOf(time.Time{}):
		if f.zero() {
			return
		}
		secs := []int64{0, 1, 1 << 32, 1<<34 - 1, 1 << 34, -1, -1 << 40, time.Now().Unix()}
		v.Set(reflect.ValueOf(time.Unix(secs[f.rng.IntN(len(secs))], f.rng.Int64N(1e9)+1)))
		return
	case reflect.TypeOf(http.Header(nil)):
		if f.zero() {
			if f.rng.IntN(2) == 0 {
				v.Set(reflect.ValueOf(http.Header{}))
			}
			return
		}
		h := http.Header{}
		n := 1 + f.rng.IntN(3)
		if f.rng.IntN(10) == 0 {
			n = 16 + f.rng.IntN(20) // past a fixmap, and past the encoder's key array
		}
		for i := range n {
			k := fmt.Sprintf("X-%d-%s", i, f.text(f.rng.IntN(4)))
			switch f.rng.IntN(4) {
			case 0:
				h[k] = nil
			case 1:
				h[k] = []string{}
			default:
				h[k] = []string{f.text(f.length()), "v"}
			}
		}
		v.Set(reflect.ValueOf(h))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if !f.zero() {
			v.SetString(f.text(max(1, f.length())))
		}
	case reflect.Bool:
		v.SetBool(f.full || f.rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		if !f.zero() {
			v.SetInt(f.number())
		}
	case reflect.Pointer:
		if !f.zero() && depth < 4 {
			p := reflect.New(v.Type().Elem())
			f.fill(p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get("msgpack") != "-" {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		if f.zero() {
			if f.rng.IntN(2) == 0 {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, max(1, f.length()))
			for i := range b {
				b[i] = byte(f.rng.IntN(256))
			}
			v.SetBytes(b)
			return
		}
		n := 1 + f.rng.IntN(3)
		if v.Type().Elem().Kind() == reflect.String && f.rng.IntN(10) == 0 {
			n = 16
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if f.zero() {
			if f.rng.IntN(2) == 0 {
				v.Set(reflect.MakeMap(v.Type()))
			}
			return
		}
		m := reflect.MakeMap(v.Type())
		n := 1 + f.rng.IntN(3)
		if f.rng.IntN(10) == 0 {
			n = 17 + f.rng.IntN(5) // past a fixmap and the encoder's key array
		}
		for i := range n {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString(fmt.Sprintf("k%d", i))
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic(fmt.Sprintf("filler: no rule for %s", v.Type()))
	}
}

// TestWrittenGoldenIsGolden: the Writer writes the golden content's
// records (after the file's header) as the bytes of testdata/v1.1.usc, up
// to the order of map keys: the golden file was written by msgpack's
// reflection, in random order, where the Writer now sorts them. A frame
// that differs must have the same length and decode to the same values.
func TestWrittenGoldenIsGolden(t *testing.T) {
	t.Parallel()
	hdr, recs := goldenV1_1()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), Header: hdr})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		writeRecord(t, w, r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := recordFrames(t, readFileBytes(t, w.Files()[0]))
	want := recordFrames(t, readFileBytes(t, "testdata/v1.1.usc"))
	if len(got) != len(want) {
		t.Fatalf("%d record frames written, golden has %d", len(got), len(want))
	}
	for i := range want {
		if bytes.Equal(got[i], want[i]) {
			continue
		}
		var g, w any
		errG := msgpack.Unmarshal(got[i][frameHeaderLen:], &g)
		errW := msgpack.Unmarshal(want[i][frameHeaderLen:], &w)
		if len(got[i]) != len(want[i]) || errG != nil || errW != nil || !reflect.DeepEqual(g, w) {
			t.Errorf("record frame %d differs from the golden file's (%v, %v):\ngot  %x\nwant %x", i, errG, errW, got[i], want[i])
		}
	}
}

// recordFrames splits a capture file into its frames after the header's.
func recordFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	b = b[preambleLen:]
	var frames [][]byte
	for len(b) > 0 {
		h, ok := parseFrameHeader(b)
		if !ok {
			t.Fatalf("bad frame header at %d bytes from the end", len(b))
		}
		n := frameHeaderLen + int(h.length)
		frames = append(frames, b[:n])
		b = b[n:]
	}
	return frames[1:]
}
