package compare

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The fast path of decodeMessage: the wire format read with the
// descriptor straight into the tree, without a dynamicpb message in
// between (which cost about three times as much as decoding the same
// answer as JSON). It handles what encoders write: each singular field
// at most once, at most one member of a oneof, wire types as declared
// (lists packed or not), unknown fields. Anything else (a field repeated
// where merging rules apply, a group, a closed enum's unknown value, a
// wire type that disagrees, invalid UTF-8 where proto3 forbids it,
// malformed data) makes it give up, and dynamicpb decodes the message:
// the result is always dynamicpb's. FuzzProtobufDecode checks that the
// two agree wherever the fast path answers.

// wireDecoder reads one message with its plan. String fields are slices
// of one string copy of the message, as the JSON decoder's are.
type wireDecoder struct {
	b     []byte
	s     string // string(b); "" to copy each string read
	check bool   // only check that the fast path reads the message: build nothing
	depth int
	kvs   []member  // the singular fields of the messages being read, a stack
	lists []listAcc // their list and map fields, a stack
}

// listAcc collects a list or map field's values while its message is
// read, so that it is boxed into the tree once.
type listAcc struct {
	f       *planField
	vals    []any
	entries map[string]any // of a map field
}

// acc returns field f's collector in the message whose lists start at
// lb. The pointer is good until the next call.
func (d *wireDecoder) acc(lb int, f *planField) *listAcc {
	for i := lb; i < len(d.lists); i++ {
		if d.lists[i].f == f {
			return &d.lists[i]
		}
	}
	a := listAcc{f: f}
	if f.key != nil {
		a.entries = map[string]any{}
	} else {
		a.vals = make([]any, 0, 4)
	}
	d.lists = append(d.lists, a)
	return &d.lists[len(d.lists)-1]
}

// decodeFast decodes a message of type p, or reports false when the
// fast path gives the message up (see above).
func decodeFast(b []byte, p *messagePlan) (any, bool) {
	d := wireDecoders.Get().(*wireDecoder)
	d.b, d.s = b, string(b)
	v, ok := d.message(p, 0, len(b))
	d.release()
	return v, ok
}

// readsFast reports whether decodeFast reads a message, without building
// its tree.
func readsFast(b []byte, p *messagePlan) bool {
	d := wireDecoders.Get().(*wireDecoder)
	d.b, d.check = b, true
	_, ok := d.message(p, 0, len(b))
	d.release()
	return ok
}

// wireDecoders keeps decoders' stacks between messages.
var wireDecoders = sync.Pool{New: func() any { return new(wireDecoder) }}

// release returns d to the pool, holding nothing of the message.
func (d *wireDecoder) release() {
	d.reset()
	wireDecoders.Put(d)
}

// reset drops what d holds of a message, keeping its stacks' room.
func (d *wireDecoder) reset() {
	clear(d.kvs[:cap(d.kvs)])
	clear(d.lists[:cap(d.lists)])
	d.b, d.s, d.check, d.depth, d.kvs, d.lists = nil, "", false, 0, d.kvs[:0], d.lists[:0]
}

// message decodes d.s[from:to] as a message of type p.
func (d *wireDecoder) message(p *messagePlan, from, to int) (any, bool) {
	if !p.wellKnown {
		return d.fields(p, from, to)
	}
	if p.wkt == wktOther {
		return decodeMessage(d.b[from:to], p.md)
	}
	check := d.check // what they accept depends on their values: read them (they are small)
	d.check = false
	t, ok := d.fields(p, from, to)
	d.check = check
	if !ok {
		return nil, false
	}
	m := t.(map[string]any)
	switch p.wkt {
	case wktTimestamp:
		if d.check {
			return nil, timestampOK(m["seconds"], m["nanos"])
		}
		return timestampText(m["seconds"], m["nanos"])
	case wktWrapper:
		return m["value"], true
	case wktQuoted:
		n, ok := m["value"].(json.Number)
		return string(n), ok
	}
	return map[string]any{}, len(m) == 0 // Empty
}

// timestampText writes a Timestamp as protojson does, or reports false
// for one protojson refuses (and dynamicpb shows as its fields).
func timestampText(seconds, nanos any) (any, bool) {
	secs, ns, ok := timestampValues(seconds, nanos)
	if !ok {
		return nil, false
	}
	x := time.Unix(secs, ns).UTC().Format("2006-01-02T15:04:05.000000000")
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, ".000")
	return x + "Z", true
}

// timestampOK reports whether timestampText writes a Timestamp.
func timestampOK(seconds, nanos any) bool {
	_, _, ok := timestampValues(seconds, nanos)
	return ok
}

// timestampValues reads a Timestamp's fields, in the range protojson
// writes.
func timestampValues(seconds, nanos any) (int64, int64, bool) {
	s, _ := seconds.(json.Number)
	n, _ := nanos.(json.Number)
	secs, err1 := strconv.ParseInt(string(s), 10, 64)
	ns, err2 := strconv.ParseInt(string(n), 10, 64)
	ok := err1 == nil && err2 == nil && secs >= -62135596800 && secs <= 253402300799 && ns >= 0 && ns <= 999999999
	return secs, ns, ok
}

// fields decodes d.s[from:to] as the fields of a message of type p.
func (d *wireDecoder) fields(p *messagePlan, from, to int) (any, bool) {
	if d.depth++; d.depth > maxProtoDepth || p.oneofs > 4 {
		d.depth--
		return nil, false
	}
	kb, lb := len(d.kvs), len(d.lists) // this message's fields and lists
	out, ok := d.read(p, from, to, kb, lb)
	clear(d.kvs[kb:])
	clear(d.lists[lb:])
	d.kvs, d.lists = d.kvs[:kb], d.lists[:lb]
	d.depth--
	return out, ok
}

// read reads the fields of a message onto the stacks, singular fields
// from kb in d.kvs and lists and maps from lb in d.lists, and builds its
// tree at its final size.
func (d *wireDecoder) read(p *messagePlan, from, to, kb, lb int) (any, bool) {
	var seen uint64 // singular fields set, by index below 64
	var seenMore map[int]bool
	var members [4]int // the member set of each oneof, by 1 + field index
	var unknown map[string]any
	b, off := d.b[from:to], from
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return nil, false
		}
		f := p.field(num)
		if f == nil { // unknown: read as the raw wire format is
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if unknown == nil {
				unknown = map[string]any{}
			}
			if m < 0 || !rawFields(b[:n+m], unknown, 1) { // as messageTree reads them
				return nil, false
			}
			b, off = b[n+m:], off+n+m
			continue
		}
		b, off = b[n:], off+n
		if f.list && f.packable && typ == protowire.BytesType {
			x, m := protowire.ConsumeBytes(b)
			if m < 0 || !d.packed(lb, f, x) {
				return nil, false
			}
			b, off = b[m:], off+m
			continue
		}
		if typ != f.wire || f.wire == protowire.StartGroupType {
			return nil, false
		}
		v, m, ok := d.value(f, b, off)
		if !ok {
			return nil, false
		}
		b, off = b[m:], off+m
		switch {
		case d.check && (f.key != nil || f.list):
		case f.key != nil:
			e, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			d.acc(lb, f).entries[mapKeyText(e["key"])] = e["value"]
		case f.list:
			a := d.acc(lb, f)
			a.vals = append(a.vals, v)
		default:
			if isSeen(f.index, seen, seenMore) {
				return nil, false
			}
			seen, seenMore = markSeen(f.index, seen, seenMore)
			if f.oneof > 0 {
				if members[f.oneof-1] != 0 {
					return nil, false
				}
				members[f.oneof-1] = f.index + 1
			}
			if !d.check {
				d.kvs = append(d.kvs, member{f.name, v})
			}
		}
	}
	if d.check {
		return nil, true
	}
	out := make(map[string]any, len(d.kvs)-kb+len(d.lists)-lb+len(p.implicit)+len(unknown))
	for _, kv := range d.kvs[kb:] {
		out[kv.k] = kv.v
	}
	for _, a := range d.lists[lb:] {
		if a.entries != nil {
			out[a.f.name] = a.entries
		} else {
			out[a.f.name] = a.vals
		}
	}
	for _, f := range p.implicit {
		if !isSeen(f.index, seen, seenMore) {
			out[f.name] = f.zero
		}
	}
	for k, v := range unknown {
		out[k] = v
	}
	return out, true
}

func isSeen(i int, seen uint64, more map[int]bool) bool {
	if i < 64 {
		return seen&(1<<i) != 0
	}
	return more[i]
}

func markSeen(i int, seen uint64, more map[int]bool) (uint64, map[int]bool) {
	if i < 64 {
		return seen | 1<<i, more
	}
	if more == nil {
		more = map[int]bool{}
	}
	more[i] = true
	return seen, more
}

// value decodes one value of field f at the start of b (d.s[off:]).
func (d *wireDecoder) value(f *planField, b []byte, off int) (any, int, bool) {
	switch f.wire {
	case protowire.VarintType:
		x, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return nil, 0, false
		}
		if d.check && f.kind != protoreflect.EnumKind {
			return nil, n, true
		}
		v, ok := varintTree(f, x)
		return v, n, ok
	case protowire.Fixed32Type:
		x, n := protowire.ConsumeFixed32(b)
		if n < 0 || d.check {
			return nil, n, n >= 0
		}
		return fixed32Tree(f, x), n, true
	case protowire.Fixed64Type:
		x, n := protowire.ConsumeFixed64(b)
		if n < 0 || d.check {
			return nil, n, n >= 0
		}
		return fixed64Tree(f, x), n, true
	}
	x, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, false
	}
	start := off + n - len(x)
	switch f.kind {
	case protoreflect.StringKind:
		if f.utf8 && !utf8.Valid(x) {
			return nil, 0, false
		}
		switch {
		case d.check:
			return nil, n, true
		case d.s == "":
			return string(x), n, true
		}
		return d.s[start : start+len(x)], n, true
	case protoreflect.BytesKind:
		if d.check {
			return nil, n, true
		}
		return base64.StdEncoding.EncodeToString(x), n, true
	case protoreflect.MessageKind:
		if f.key != nil { // a map entry: key and value, defaults filled
			e, ok := d.entry(f, start, start+len(x))
			return e, n, ok
		}
		v, ok := d.message(f.subPlan(), start, start+len(x))
		return v, n, ok
	}
	return nil, 0, false
}

// entry decodes a map entry into {"key": k, "value": v}, with the
// defaults of what it lacks, as dynamicpb reads one.
func (d *wireDecoder) entry(f *planField, from, to int) (any, bool) {
	e, ok := d.message(f.subPlan(), from, to)
	if !ok || d.check {
		return nil, ok
	}
	m := e.(map[string]any)
	for k := range m {
		if k != "key" && k != "value" {
			delete(m, k) // unknown fields of an entry are dropped
		}
	}
	if _, ok := m["key"]; !ok {
		m["key"] = valueTree(f.key.fd, f.key.fd.Default())
	}
	if _, ok := m["value"]; !ok {
		if f.val.kind != protoreflect.MessageKind {
			m["value"] = valueTree(f.val.fd, f.val.fd.Default())
		} else if m["value"], ok = d.message(f.val.subPlan(), 0, 0); !ok {
			return nil, false
		}
	}
	return m, true
}

// packed decodes a packed list of numbers onto the field's list.
func (d *wireDecoder) packed(lb int, f *planField, b []byte) bool {
	for len(b) > 0 {
		var v any
		var n int
		switch f.wire {
		case protowire.VarintType:
			var x uint64
			if x, n = protowire.ConsumeVarint(b); n < 0 {
				return false
			}
			var ok bool
			if v, ok = varintTree(f, x); !ok {
				return false
			}
		case protowire.Fixed32Type:
			var x uint32
			if x, n = protowire.ConsumeFixed32(b); n < 0 {
				return false
			}
			v = fixed32Tree(f, x)
		default:
			var x uint64
			if x, n = protowire.ConsumeFixed64(b); n < 0 {
				return false
			}
			v = fixed64Tree(f, x)
		}
		if !d.check {
			a := d.acc(lb, f)
			a.vals = append(a.vals, v)
		}
		b = b[n:]
	}
	return true
}

func varintTree(f *planField, x uint64) (any, bool) {
	switch f.kind {
	case protoreflect.BoolKind:
		return x != 0, true
	case protoreflect.EnumKind:
		n := protoreflect.EnumNumber(int32(x))
		if name, ok := f.enum[n]; ok {
			return name, true
		}
		if f.closed {
			return nil, false // an unknown field to the runtime
		}
		return intNumber(int64(n)), true
	case protoreflect.Int32Kind:
		return intNumber(int64(int32(x))), true
	case protoreflect.Sint32Kind:
		return intNumber(int64(int32(protowire.DecodeZigZag(x & math.MaxUint32)))), true
	case protoreflect.Uint32Kind:
		return uintNumber(uint64(uint32(x))), true
	case protoreflect.Int64Kind:
		return intNumber(int64(x)), true
	case protoreflect.Sint64Kind:
		return intNumber(protowire.DecodeZigZag(x)), true
	}
	return uintNumber(x), true // uint64
}

// smallNumbers are the tree nodes of the numbers below 256, made once:
// counts, quantities and the like need no allocation.
var smallNumbers = func() (s [256]any) {
	for i := range s {
		s[i] = json.Number(strconv.Itoa(i))
	}
	return s
}()

// intNumber and uintNumber return the tree node of a number.
func intNumber(n int64) any {
	if n >= 0 && n < int64(len(smallNumbers)) {
		return smallNumbers[n]
	}
	return json.Number(strconv.FormatInt(n, 10))
}

func uintNumber(n uint64) any {
	if n < uint64(len(smallNumbers)) {
		return smallNumbers[n]
	}
	return json.Number(strconv.FormatUint(n, 10))
}

func fixed32Tree(f *planField, x uint32) any {
	switch f.kind {
	case protoreflect.FloatKind:
		return floatTree(float64(math.Float32frombits(x)), 32)
	case protoreflect.Sfixed32Kind:
		return intNumber(int64(int32(x)))
	}
	return uintNumber(uint64(x))
}

func fixed64Tree(f *planField, x uint64) any {
	switch f.kind {
	case protoreflect.DoubleKind:
		return floatTree(math.Float64frombits(x), 64)
	case protoreflect.Sfixed64Kind:
		return intNumber(int64(x))
	}
	return uintNumber(x)
}

// mapKeyText writes a map key's tree as protoreflect.MapKey.String does.
func mapKeyText(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
