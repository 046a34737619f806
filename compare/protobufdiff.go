package compare

import (
	"bytes"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Two messages of the same type are compared on the wire first: a field
// whose encodings are the same bytes on both sides has the same value, so
// only the fields whose encodings differ are decoded, into partial trees
// that the JSON diff compares as it would the whole ones, and a message
// field that differs is compared the same way, one level down. A pair
// that differs in one field out of a hundred decodes a handful.
//
// With normalizers, the fields of a unary answer's message that differ
// are decoded whole, and the partial trees normalized from the root:
// every normalizer acts where its path leads, on what is there (Sort and
// Set on one list, Ignore, Replace and Tolerance on one value), so fields
// encoded alike normalize alike and are still skipped. A stream with
// normalizers is decoded whole. The differences are the ones the whole trees give (the kept
// ones may be others when there are more than a Result lists, as the
// order of the walk differs); FuzzProtobufWireDiff checks that.
//
// A message the fast decoder would not read (see protobufwire.go) is
// never compared this way: readProtobuf only leaves unread the messages
// that readsFast accepts. A message level with a field repeated where it
// should not be, or another oddity, is decoded whole.

// wireDiffer compares two bodies' messages on the wire, reporting through
// d, whose steps hold the path.
type wireDiffer struct {
	d      *jsonDiffer
	ns     []*normalizer // the normalizers of a unary answer; nil for none
	da, db wireDecoder   // partial decodes, copying the strings they read
	spans  []span        // the fields of the messages being compared, a stack
}

// wireDiffers keeps the differs' stacks between comparisons.
var wireDiffers = sync.Pool{New: func() any { return new(wireDiffer) }}

// release returns w to the pool, holding nothing of the messages.
func (w *wireDiffer) release() {
	w.da.reset()
	w.db.reset()
	w.d, w.ns, w.spans = nil, nil, w.spans[:0]
	wireDiffers.Put(w)
}

// span is one field of a message on the wire: its number and wire type,
// and the bytes of the whole field, tag included.
type span struct {
	num  protowire.Number
	typ  protowire.Type
	from int // tag
	val  int // value
	to   int
}

// wireDiff compares the messages of two bodies read by field name but
// not decoded.
func wireDiff(x, y protoDoc, c *collector) {
	d := jsonDiffers.Get().(*jsonDiffer)
	d.c = c
	w := wireDiffers.Get().(*wireDiffer)
	w.d, w.ns = d, x.ns
	defer w.release()
	p := planFor(x.desc)
	if !x.stream {
		if c.visit(2) {
			w.message(p, x.payloads[0], y.payloads[0])
		}
	} else {
		for i := 0; i < max(len(x.payloads), len(y.payloads)) && !c.spent; i++ {
			d.steps = append(d.steps[:0], jsonStep{index: i})
			switch {
			case i >= len(y.payloads):
				v, _ := decodeFast(x.payloads[i], p)
				d.record(Removed, v, nil)
			case i >= len(x.payloads):
				v, _ := decodeFast(y.payloads[i], p)
				d.record(Added, nil, v)
			default:
				if c.visit(2) {
					w.message(p, x.payloads[i], y.payloads[i])
				}
			}
		}
	}
	clear(d.steps[:cap(d.steps)])
	d.release()
}

// message compares two messages of type p at the current path.
func (w *wireDiffer) message(p *messagePlan, a, b []byte) {
	if bytes.Equal(a, b) || w.d.c.spent {
		return
	}
	base := len(w.spans)
	defer func() { w.spans = w.spans[:base] }()
	var oka, okb bool
	w.spans, oka = fieldSpans(a, p, w.spans)
	mid := len(w.spans)
	w.spans, okb = fieldSpans(b, p, w.spans)
	if !oka || !okb || p.wellKnown {
		w.whole(p, a, b)
		return
	}
	sa, sb := w.spans[base:mid], w.spans[mid:] // the stack may move; these stay
	if !oka || !okb {
		return
	}
	if !w.d.c.visit(len(sa) + len(sb)) {
		return
	}
	var pa, pb map[string]any // the fields whose encodings differ, decoded
	type deferred struct {
		f    *planField
		a, b []span
	}
	var later []deferred // message fields to compare one level down
	put := func(m *map[string]any, k string, v any) {
		if *m == nil {
			*m = map[string]any{}
		}
		(*m)[k] = v
	}
	for i, j := 0, 0; i < len(sa) || j < len(sb); {
		num := minNumber(sa, i, sb, j)
		ga, gb := group(sa, i, num), group(sb, j, num)
		i, j = i+len(ga), j+len(gb)
		if sameSpans(a, ga, b, gb) {
			continue
		}
		f := p.field(num)
		switch {
		case f == nil: // unknown fields, by number
			key := fieldNumber(num)
			if v, ok := rawGroup(a, ga, key); ok {
				put(&pa, key, v)
			}
			if v, ok := rawGroup(b, gb, key); ok {
				put(&pb, key, v)
			}
		case w.ns == nil && f.kind == protoreflect.MessageKind && f.key == nil && !f.subPlan().wellKnown &&
			(f.list && len(ga) > 0 && len(gb) > 0 || !f.list && len(ga) == 1 && len(gb) == 1):
			later = append(later, deferred{f, ga, gb})
		default:
			if v, ok := w.da.field(f, a, ga); ok {
				put(&pa, f.name, v)
			}
			if v, ok := w.db.field(f, b, gb); ok {
				put(&pb, f.name, v)
			}
		}
	}
	if pa != nil || pb != nil {
		if pa == nil {
			pa = map[string]any{}
		}
		if pb == nil {
			pb = map[string]any{}
		}
		x, y := any(pa), any(pb)
		if w.ns != nil {
			x, y = w.normalize(x), w.normalize(y)
		}
		// Oneofs of this message; with normalizers, also of the message
		// fields decoded whole.
		if p.oneofs > 0 || w.ns != nil && hasOneofs(p.md) {
			ow := oneofWalk{c: w.d.c, steps: w.d.steps}
			x, y, _, _ = ow.message(p.md, x, y)
		}
		if !w.d.c.spent {
			w.d.node(x, y)
		}
	}
	for _, l := range later {
		sub := l.f.subPlan()
		w.d.steps = append(w.d.steps, jsonStep{key: l.f.name, index: -1})
		if !l.f.list {
			w.message(sub, value(a, l.a[0]), value(b, l.b[0]))
		} else {
			w.list(sub, a, l.a, b, l.b)
		}
		w.d.steps = w.d.steps[:len(w.d.steps)-1]
	}
}

// list compares two lists of messages of type p index by index.
func (w *wireDiffer) list(p *messagePlan, a []byte, ga []span, b []byte, gb []span) {
	if !w.d.c.visit(len(ga) + len(gb)) {
		return
	}
	for i := 0; i < max(len(ga), len(gb)) && !w.d.c.spent; i++ {
		w.d.steps = append(w.d.steps, jsonStep{index: i})
		switch {
		case i >= len(gb):
			v, _ := decodeFast(value(a, ga[i]), p)
			w.d.record(Removed, v, nil)
		case i >= len(ga):
			v, _ := decodeFast(value(b, gb[i]), p)
			w.d.record(Added, nil, v)
		default:
			w.message(p, value(a, ga[i]), value(b, gb[i]))
		}
		w.d.steps = w.d.steps[:len(w.d.steps)-1]
	}
}

// whole compares two messages as their whole trees.
func (w *wireDiffer) whole(p *messagePlan, a, b []byte) {
	x, okx := decodeFast(a, p)
	y, oky := decodeFast(b, p)
	if !okx || !oky { // not reached: readsFast accepted the bodies
		return
	}
	if w.ns != nil {
		x, y = w.normalize(x), w.normalize(y)
	}
	if p.oneofs > 0 || hasOneofs(p.md) {
		ow := oneofWalk{c: w.d.c, steps: w.d.steps}
		x, y, _, _ = ow.message(p.md, x, y)
	}
	if !w.d.c.spent {
		w.d.node(x, y)
	}
}

// normalize normalizes a unary answer's (partial) tree from its root.
func (w *wireDiffer) normalize(t any) any {
	return jsonFormat{}.normalize(t, w.ns, &w.d.c.budget)
}

// fieldSpans lists the fields of a message in field number order (the
// order of the wire within a number). ok is false for what the
// comparison on the wire leaves to the whole trees: a singular field
// more than once, a wire type other than the field's, a group.
func fieldSpans(b []byte, p *messagePlan, out []span) ([]span, bool) {
	base := len(out)
	sorted := true
	for off := 0; off < len(b); {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return out, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:])
		if m < 0 || typ == protowire.StartGroupType {
			return out, false
		}
		if f := p.field(num); f != nil && typ != f.wire && !(f.packable && typ == protowire.BytesType) {
			return out, false
		}
		if k := len(out); k > base && out[k-1].num > num {
			sorted = false
		}
		out = append(out, span{num: num, typ: typ, from: off, val: off + n, to: off + n + m})
		off += n + m
	}
	if !sorted { // encoders write in number order, oneofs sometimes last: an insertion sort is enough
		ss := out[base:]
		for i := 1; i < len(ss); i++ {
			for j := i; j > 0 && ss[j-1].num > ss[j].num; j-- {
				ss[j-1], ss[j] = ss[j], ss[j-1]
			}
		}
	}
	for k := base + 1; k < len(out); k++ {
		if out[k].num == out[k-1].num {
			if f := p.field(out[k].num); f != nil && !f.list && f.key == nil {
				return out, false // merged or replaced: the trees know how
			}
		}
	}
	if p.oneofs > 0 && !oneMemberEach(out[base:], p) {
		return out, false
	}
	return out, true
}

// oneMemberEach reports whether at most one member of each oneof is set.
func oneMemberEach(ss []span, p *messagePlan) bool {
	var set [4]protowire.Number
	for _, s := range ss {
		if f := p.field(s.num); f != nil && f.oneof > 0 {
			if n := set[f.oneof-1]; n != 0 && n != s.num {
				return false
			}
			set[f.oneof-1] = s.num
		}
	}
	return true
}

func minNumber(sa []span, i int, sb []span, j int) protowire.Number {
	switch {
	case i >= len(sa):
		return sb[j].num
	case j >= len(sb):
		return sa[i].num
	}
	return min(sa[i].num, sb[j].num)
}

// group returns the spans of field num from i on.
func group(ss []span, i int, num protowire.Number) []span {
	j := i
	for j < len(ss) && ss[j].num == num {
		j++
	}
	return ss[i:j]
}

// sameSpans reports whether two fields are encoded as the same bytes.
func sameSpans(a []byte, ga []span, b []byte, gb []span) bool {
	if len(ga) != len(gb) {
		return false
	}
	for k := range ga {
		if !bytes.Equal(a[ga[k].from:ga[k].to], b[gb[k].from:gb[k].to]) {
			return false
		}
	}
	return true
}

func value(b []byte, s span) []byte {
	v, _ := protowire.ConsumeBytes(b[s.val:s.to])
	return v
}

// rawGroup reads the unknown field key by number; ok is false when the
// message lacks it.
func rawGroup(b []byte, g []span, key string) (any, bool) {
	if len(g) == 0 {
		return nil, false
	}
	m := map[string]any{}
	for _, s := range g {
		rawFields(b[s.from:s.to], m, 1)
	}
	v, ok := m[key]
	return v, ok
}

// field decodes one field of a message from its spans, as the message's
// tree has it: its value, its list or map, its default when it is unset
// and has no presence; ok is false when the tree has no such field.
func (d *wireDecoder) field(f *planField, b []byte, g []span) (any, bool) {
	d.b, d.s = b, ""
	if len(g) == 0 {
		if f.list || f.key != nil || f.fd.HasPresence() {
			return nil, false
		}
		return valueTree(f.fd, f.fd.Default()), true
	}
	lb := len(d.lists)
	defer func() {
		clear(d.lists[lb:])
		d.lists = d.lists[:lb]
	}()
	var v any
	for _, s := range g {
		if f.packable && s.typ == protowire.BytesType {
			x, _ := protowire.ConsumeBytes(b[s.val:s.to])
			if !d.packed(lb, f, x) {
				return nil, false
			}
			continue
		}
		e, _, ok := d.value(f, b[s.val:s.to], s.val)
		if !ok {
			return nil, false
		}
		switch {
		case f.key != nil:
			m, _ := e.(map[string]any)
			d.acc(lb, f).entries[mapKeyText(m["key"])] = m["value"]
		case f.list:
			a := d.acc(lb, f)
			a.vals = append(a.vals, e)
		default:
			v = e
		}
	}
	if !f.list && f.key == nil {
		return v, true
	}
	if len(d.lists) == lb { // an empty packed list: no field
		return nil, false
	}
	if a := d.lists[lb]; a.entries != nil {
		return a.entries, true
	}
	return d.lists[lb].vals, true
}
