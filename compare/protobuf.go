package compare

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/understudy-dev/understudy/internal/content"
)

// Protobuf bodies are the messages of gRPC answers (application/grpc,
// application/grpc+proto: length-prefixed frames, each a message,
// compressed with the answer's grpc-encoding when its flag says so) or a
// bare message (application/x-protobuf). Each message is decoded into a
// tree of the shape a JSON body has, and the trees are normalized and
// diffed exactly as JSON bodies are (json.go): the same paths, the same
// normalizers, the same budget.
//
//   - With the descriptor of the request's method (Config.Schemas, asked
//     for the request path "/pkg.Service/Method"), a message's fields are
//     named as in the .proto file (proto names, not JSON names):
//     "$.order.items[2].unit_price". Enums are their value names, 64-bit
//     integers exact numbers, bytes base64, well-known types as protojson
//     writes them (a Timestamp is an RFC 3339 string, so the rfc3339
//     builtin normalizer applies).
//   - Presence is kept: a field that has presence (a message, a proto3
//     optional, a oneof member, any proto2 field) and is unset is
//     absent, so unset against set to its default is an added or removed
//     field; a proto3 field without presence always has its value (0,
//     "", false: the wire cannot tell unset from default). Repeated and
//     map fields are absent when empty.
//   - Unknown fields (on the wire, not in the descriptor: a candidate
//     that sends a new field) appear under their field number, read as
//     the raw wire format is: "$.order.7".
//   - A oneof set to another member is one type change at the oneof's
//     name ("$.payment": {"card": …} against {"paypal": …}), not a
//     removed and an added field.
//   - Without a descriptor (no Schemas, an unknown method, a failed
//     reflection lookup) messages are read from the wire format alone and
//     keyed by field number: "$.3.1". A length-delimited field is text
//     when it is printable UTF-8, else a nested message when it parses as
//     one, else bytes (base64); a number that appears more than once is a
//     list. Keys that are field numbers are written bare in paths ("$.3"
//     rather than `$["3"]`), and normalizer paths name them the same way.
//   - A unary answer's message is "$". A server stream's messages (by the
//     descriptor; without one, any answer of other than one message) are
//     a list paired by position: "$[2].price", and a different count is
//     an added or removed "$[n]". An answer with no message at all (an
//     error) against one with a message is a removed or added "$".
//
// When no normalizer reaches the body, two messages read with their
// descriptor are compared on the wire first, and only the fields whose
// encodings differ are decoded (protobufdiff.go): the same differences,
// for a fraction of the work.
//
// Frames that do not parse, a flag other than 0 and 1, a compressed
// frame without a known grpc-encoding (gzip, deflate, zstd) or one that
// decodes past the 8 MiB bound of Content-Encoding, and a message that
// does not decode with its descriptor make the body not protobuf: it is
// compared as bytes (or is a type change against a side that parsed).

// ProtobufComparator diffs gRPC and protobuf bodies message by message,
// field by field. Automatic choice picks it for application/grpc (and
// application/grpc+proto, +json and the like), application/x-protobuf,
// application/protobuf and application/vnd.google.protobuf.
const ProtobufComparator ComparatorKind = "protobuf"

// MessageResolver finds the descriptors of gRPC methods, so that their
// messages compare by field name. protoschema.Schemas is one. It must be
// safe for concurrent use, and quick once a method has been asked for:
// every gRPC answer asks.
type MessageResolver interface {
	// Method returns the descriptor of the method with the full name
	// ("/pkg.Service/Method", the path of a gRPC request), or nil when it
	// has none: the messages are then compared by field number.
	Method(fullName string) protoreflect.MethodDescriptor
}

// protobufFormat is the protobuf format.
type protobufFormat struct{}

func (protobufFormat) kind() ComparatorKind { return ProtobufComparator }

func (protobufFormat) name() string { return "protobuf" }

func (protobufFormat) detect(contentType string, _ []byte) bool {
	return isGRPCType(contentType) || isProtobufType(contentType)
}

// parse reads gRPC frames without compression, by field number: what a
// body is without its exchange.
func (protobufFormat) parse(body []byte) (any, bool) {
	return readProtobuf(body, "application/grpc", "", nil, false)
}

// parseIn reads a body with the descriptors of its request's method and
// the answer's grpc-encoding.
func (protobufFormat) parseIn(b *body, r *rules) (any, bool) {
	var md protoreflect.MethodDescriptor
	if r.schemas != nil && strings.HasPrefix(r.request, "/") {
		method, _, _ := strings.Cut(r.request, "?")
		md = r.schemas.Method(method)
	}
	var enc string
	if v := b.header["Grpc-Encoding"]; len(v) > 0 {
		enc = v[0]
	}
	// Messages are left undecoded unless normalizers reach a stream: see
	// protobufdiff.go.
	lazy := md != nil && (!md.IsStreamingServer() || !slices.ContainsFunc(r.ns, reachesJSON))
	return readProtobuf(b.content, b.contentType, enc, md, lazy)
}

// isProtobufType reports whether a Content-Type names a bare protobuf
// message.
func isProtobufType(ct string) bool {
	switch mediaType(ct) {
	case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf", "application/x-google-protobuf":
		return true
	}
	return false
}

// protoDoc is a protobuf body read for comparison.
type protoDoc struct {
	root   any                            // the message ($), or the list of a stream's messages
	desc   protoreflect.MessageDescriptor // the messages' type; nil when read by field number
	stream bool                           // root is the list of messages
	none   bool                           // not a stream, and no message at all
	// payloads are the messages when they are not decoded (root is nil):
	// compared on the wire (protobufdiff.go), decoded when needed, with
	// ns, the normalizers that reach them.
	payloads [][]byte
	ns       []*normalizer
}

// readProtobuf reads a body: gRPC frames (or, for a bare protobuf
// Content-Type, one message), each decoded with md's output type when md
// is known. With lazy, messages the fast decoder reads are left
// undecoded, to be compared on the wire.
func readProtobuf(content []byte, contentType, encoding string, md protoreflect.MethodDescriptor, lazy bool) (any, bool) {
	var desc protoreflect.MessageDescriptor
	if md != nil {
		desc = md.Output()
	}
	var payloads [][]byte
	if isProtobufType(contentType) {
		payloads = [][]byte{content}
	} else {
		var ok bool
		if payloads, ok = grpcFrames(content, encoding); !ok {
			return nil, false
		}
	}
	asJSON := mediaType(contentType) == "application/grpc+json"
	if lazy && desc != nil && !asJSON {
		plan := planFor(desc)
		for _, p := range payloads {
			lazy = lazy && readsFast(p, plan)
		}
		if lazy {
			d := protoDoc{desc: desc, stream: md.IsStreamingServer(), payloads: payloads}
			d.none = !d.stream && len(payloads) == 0
			return d, true
		}
	}
	msgs := make([]any, len(payloads))
	for i, p := range payloads {
		var ok bool
		switch {
		case asJSON:
			msgs[i], ok = decodeJSON(p)
		case desc != nil:
			if msgs[i], ok = decodeFast(p, planFor(desc)); !ok {
				msgs[i], ok = decodeMessage(p, desc)
			}
		default:
			msgs[i], ok = rawMessage(p, 0)
		}
		if !ok {
			return nil, false
		}
	}
	if asJSON {
		desc = nil // the tree is the JSON's
	}
	d := protoDoc{desc: desc, stream: len(msgs) != 1}
	if md != nil {
		d.stream = md.IsStreamingServer()
	}
	switch {
	case d.stream:
		d.root = msgs
	case len(msgs) == 0:
		d.none = true
	default:
		d.root = msgs[0]
	}
	return d, true
}

// grpcFrames splits a gRPC body into its messages: each frame is a flag
// byte (1: compressed with the answer's grpc-encoding), a 4-byte length
// and the message. Decompressed messages are bounded like a
// Content-Encoding, maxDecoded for the body.
func grpcFrames(body []byte, encoding string) ([][]byte, bool) {
	var out [][]byte
	left := maxDecoded
	for len(body) > 0 {
		if len(body) < 5 {
			return nil, false
		}
		flag, n := body[0], uint32(body[1])<<24|uint32(body[2])<<16|uint32(body[3])<<8|uint32(body[4])
		if uint64(n) > uint64(len(body)-5) {
			return nil, false
		}
		msg := body[5 : 5+n]
		body = body[5+n:]
		switch flag {
		case 0:
		case 1:
			coding := strings.ToLower(strings.TrimSpace(encoding))
			if coding != "gzip" && coding != "deflate" && coding != "zstd" {
				return nil, false
			}
			dec, cut, err := content.Decode(msg, []string{coding}, false, left)
			if err != nil || cut || len(dec) > left {
				return nil, false
			}
			left -= len(dec)
			msg = dec
		default:
			return nil, false
		}
		out = append(out, msg)
	}
	return out, true
}

func (protobufFormat) normalize(doc any, ns []*normalizer, b *budget) any {
	d := doc.(protoDoc)
	switch {
	case d.none:
	case d.payloads != nil: // normalized with the parts the diff decodes
		if slices.ContainsFunc(ns, reachesJSON) {
			d.ns = ns
		}
	default:
		d.root = jsonFormat{}.normalize(d.root, ns, b)
	}
	return d
}

// decoded returns a doc with its messages decoded and normalized,
// charging b.
func (d protoDoc) decoded(b *budget) protoDoc {
	if d.payloads == nil {
		return d
	}
	plan := planFor(d.desc)
	msgs := make([]any, len(d.payloads))
	for i, p := range d.payloads {
		msgs[i], _ = decodeFast(p, plan) // readsFast said it does
	}
	d.payloads = nil
	if d.stream {
		d.root = msgs
	} else if len(msgs) > 0 {
		d.root = msgs[0]
	}
	if d.ns != nil && !d.none {
		d.root = jsonFormat{}.normalize(d.root, d.ns, b)
	}
	return d
}

// diff diffs the messages as JSON trees, after reporting the oneofs set
// to different members.
func (protobufFormat) diff(a, b any, c *collector) {
	x, y := a.(protoDoc), b.(protoDoc)
	from := len(c.fields)
	if x.payloads != nil && y.payloads != nil && x.desc == y.desc && !x.none && !y.none {
		wireDiff(x, y, c)
		bareNumbers(c, from)
		return
	}
	x, y = x.decoded(&c.budget), y.decoded(&c.budget)
	switch {
	case x.none && y.none:
		return
	case x.none || y.none:
		d := jsonDiffers.Get().(*jsonDiffer)
		d.c = c
		if x.none {
			d.record(Added, nil, y.root)
		} else {
			d.record(Removed, x.root, nil)
		}
		d.release()
		return
	}
	xr, yr := x.root, y.root
	if x.stream != y.stream { // by field number, one message against a stream
		if !x.stream {
			xr = []any{xr}
		} else {
			yr = []any{yr}
		}
	}
	if x.desc != nil && x.desc == y.desc && hasOneofs(x.desc) {
		w := oneofWalk{c: c}
		if x.stream && y.stream {
			xr, yr, _, _ = w.list(x.desc, xr, yr)
		} else {
			xr, yr, _, _ = w.message(x.desc, xr, yr)
		}
	}
	if !c.spent {
		jsonFormat{}.diff(xr, yr, c)
	}
	bareNumbers(c, from)
}

// bareNumbers writes the keys that are field numbers in the paths and
// fields found since from (fields and kept differences are added
// together) bare: "$.3.1" rather than `$["3"]["1"]`. The path grammar
// reads both the same.
func bareNumbers(c *collector, from int) {
	for i := from; i < len(c.fields); i++ {
		c.fields[i] = bareNumberKeys(c.fields[i])
		if i < len(c.diffs) {
			c.diffs[i].Path = bareNumberKeys(c.diffs[i].Path)
			c.diffs[i].field = c.fields[i]
		}
	}
}

// bareNumberKeys rewrites `["123"]` steps of a path as ".123".
func bareNumberKeys(p string) string {
	if !strings.Contains(p, `["`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '[' && i+1 < len(p) && p[i+1] == '"' {
			j := i + 2
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			if j > i+2 && p[i+2] != '0' && j+1 < len(p) && p[j] == '"' && p[j+1] == ']' {
				if b.Len() == 0 {
					b.Grow(len(p))
				}
				b.WriteByte('.')
				b.WriteString(p[i+2 : j])
				i = j + 1
				continue
			}
			// Another quoted key: copy it whole, escapes and all.
			k := i + 2
			for k < len(p) && p[k] != '"' {
				if p[k] == '\\' {
					k++
				}
				k++
			}
			end := min(k+2, len(p))
			b.WriteString(p[i:end])
			i = end - 1
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// oneofWalk finds, in two trees of the same message type, the oneofs set
// to different members. Each is reported as one type change at the
// oneof's name, and the members are left out of the trees the JSON diff
// sees (copies: the trees are shared with other comparisons).
type oneofWalk struct {
	c     *collector
	steps []jsonStep
}

// message walks two messages of type md. It returns them, or the copies
// it made of either, and whether it made them.
func (w *oneofWalk) message(md protoreflect.MessageDescriptor, a, b any) (any, any, bool, bool) {
	x, okx := a.(map[string]any)
	y, oky := b.(map[string]any)
	if !okx || !oky || w.c.spent {
		return a, b, false, false
	}
	var cx, cy bool // x and y are copies
	oos := md.Oneofs()
	for i := range oos.Len() {
		oo := oos.Get(i)
		if oo.IsSynthetic() {
			continue
		}
		kx, vx := oneofMember(x, oo)
		ky, vy := oneofMember(y, oo)
		if kx == "" || ky == "" || kx == ky {
			continue
		}
		w.report(string(oo.Name()), map[string]any{kx: vx}, map[string]any{ky: vy})
		x, cx = cloneMap(x, cx)
		y, cy = cloneMap(y, cy)
		delete(x, kx)
		delete(y, ky)
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		sub := fd.Message()
		if fd.IsMap() {
			sub = fd.MapValue().Message()
		}
		if sub == nil || isWellKnown(sub) || !hasOneofs(sub) {
			continue
		}
		key := string(fd.Name())
		vx, okx := x[key]
		vy, oky := y[key]
		if !okx || !oky {
			continue
		}
		w.steps = append(w.steps, jsonStep{key: key, index: -1})
		var nx, ny any
		var chx, chy bool
		switch {
		case fd.IsList():
			nx, ny, chx, chy = w.list(sub, vx, vy)
		case fd.IsMap():
			nx, ny, chx, chy = w.entries(sub, vx, vy)
		default:
			nx, ny, chx, chy = w.message(sub, vx, vy)
		}
		w.steps = w.steps[:len(w.steps)-1]
		if chx {
			x, cx = cloneMap(x, cx)
			x[key] = nx
		}
		if chy {
			y, cy = cloneMap(y, cy)
			y[key] = ny
		}
	}
	return x, y, cx, cy
}

// list walks two lists of messages of type md index by index.
func (w *oneofWalk) list(md protoreflect.MessageDescriptor, a, b any) (any, any, bool, bool) {
	x, okx := a.([]any)
	y, oky := b.([]any)
	if !okx || !oky {
		return a, b, false, false
	}
	var cx, cy bool
	for i := range min(len(x), len(y)) {
		w.steps = append(w.steps, jsonStep{index: i})
		nx, ny, chx, chy := w.message(md, x[i], y[i])
		w.steps = w.steps[:len(w.steps)-1]
		if chx {
			if !cx {
				x, cx = append([]any(nil), x...), true
			}
			x[i] = nx
		}
		if chy {
			if !cy {
				y, cy = append([]any(nil), y...), true
			}
			y[i] = ny
		}
	}
	return x, y, cx, cy
}

// entries walks two maps of messages of type md key by key.
func (w *oneofWalk) entries(md protoreflect.MessageDescriptor, a, b any) (any, any, bool, bool) {
	x, okx := a.(map[string]any)
	y, oky := b.(map[string]any)
	if !okx || !oky {
		return a, b, false, false
	}
	var cx, cy bool
	for _, k := range sortedMapKeys(x) { // reports in key order, as the JSON diff does
		vy, ok := y[k]
		if !ok {
			continue
		}
		w.steps = append(w.steps, jsonStep{key: k, index: -1})
		nx, ny, chx, chy := w.message(md, x[k], vy)
		w.steps = w.steps[:len(w.steps)-1]
		if chx {
			x, cx = cloneMap(x, cx)
			x[k] = nx
		}
		if chy {
			y, cy = cloneMap(y, cy)
			y[k] = ny
		}
	}
	return x, y, cx, cy
}

// report records a oneof set to different members at the oneof's name.
func (w *oneofWalk) report(name string, x, y any) {
	d := jsonDiffers.Get().(*jsonDiffer)
	d.c = w.c
	d.steps = append(append(d.steps[:0], w.steps...), jsonStep{key: name, index: -1})
	d.record(TypeChanged, x, y)
	clear(d.steps[:cap(d.steps)])
	d.release()
}

// oneofMember returns the member of oneof oo that a message tree has, if any.
func oneofMember(m map[string]any, oo protoreflect.OneofDescriptor) (string, any) {
	fs := oo.Fields()
	for i := range fs.Len() {
		k := string(fs.Get(i).Name())
		if v, ok := m[k]; ok {
			return k, v
		}
	}
	return "", nil
}

// cloneMap returns a copy of m unless copied says m is one already.
func cloneMap(m map[string]any, copied bool) (map[string]any, bool) {
	if copied {
		return m, true
	}
	return maps.Clone(m), true
}

func sortedMapKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// hasOneofs reports whether messages of type md can hold a oneof, in
// themselves or in a message field at any depth (well-known types
// aside, which are not read by their fields).
func hasOneofs(md protoreflect.MessageDescriptor) bool {
	if v, ok := oneofCache.Load(md); ok {
		return v.(bool)
	}
	seen := map[protoreflect.MessageDescriptor]bool{}
	var walk func(protoreflect.MessageDescriptor) bool
	walk = func(m protoreflect.MessageDescriptor) bool {
		if seen[m] || isWellKnown(m) {
			return false
		}
		seen[m] = true
		oos := m.Oneofs()
		for i := range oos.Len() {
			if !oos.Get(i).IsSynthetic() {
				return true
			}
		}
		fs := m.Fields()
		for i := range fs.Len() {
			fd := fs.Get(i)
			if fd.IsMap() {
				fd = fd.MapValue()
			}
			if sub := fd.Message(); sub != nil && walk(sub) {
				return true
			}
		}
		return false
	}
	has := walk(md)
	oneofCache.Store(md, has)
	return has
}

// oneofCache remembers hasOneofs per message descriptor. Descriptors
// live as long as the resolver that made them, which is the process.
var oneofCache sync.Map
