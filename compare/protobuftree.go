package compare

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The trees of protobuf messages (see protobuf.go) have the node types of
// decoded JSON: map[string]any, []any, string, json.Number, bool.

// maxProtoDepth bounds the nesting of a message that is compared as a
// tree, with its descriptor or by field number.
const maxProtoDepth = 100

// decodeMessage decodes one message of type desc with dynamicpb and
// returns its tree. ok is false when it does not decode.
func decodeMessage(b []byte, desc protoreflect.MessageDescriptor) (any, bool) {
	m := dynamicpb.NewMessage(desc)
	// AllowPartial: required fields (proto2) are compared, not enforced.
	if err := (proto.UnmarshalOptions{AllowPartial: true, RecursionLimit: maxProtoDepth}).Unmarshal(b, m); err != nil {
		return nil, false
	}
	return messageTree(m), true
}

// messageTree returns the tree of a message: its fields by proto name,
// with presence kept, and its unknown fields by number.
func messageTree(m protoreflect.Message) any {
	md := m.Descriptor()
	p := planFor(md)
	if p.wellKnown {
		if t, ok := wellKnownTree(m); ok {
			return t
		}
	}
	out := make(map[string]any, p.size)
	// Range visits the fields that are set (Has); a field without
	// presence has its value anyway, its default when unset.
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !fd.IsExtension() {
			out[string(fd.Name())] = fieldTree(fd, v)
		}
		return true
	})
	for _, f := range p.implicit {
		if _, ok := out[f.name]; !ok {
			out[f.name] = f.zero
		}
	}
	if u := m.GetUnknown(); len(u) > 0 {
		rawFields(u, out, 1) // the decoder checked them: they parse
	}
	return out
}

func fieldTree(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = valueTree(fd, l.Get(i))
		}
		return out
	case fd.IsMap():
		vd := fd.MapValue()
		out := make(map[string]any, v.Map().Len())
		v.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			out[k.String()] = valueTree(vd, v)
			return true
		})
		return out
	}
	return valueTree(fd, v)
}

// valueTree returns the tree of one value of a field's kind.
func valueTree(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case protoreflect.FloatKind:
		return floatTree(v.Float(), 32)
	case protoreflect.DoubleKind:
		return floatTree(v.Float(), 64)
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return json.Number(strconv.FormatInt(int64(v.Enum()), 10))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageTree(v.Message())
	}
	return nil
}

// floatTree writes a float as a number, or as protojson names the values
// JSON has no number for.
func floatTree(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}

// isWellKnown reports whether a message is one of the well-known types
// (google.protobuf.Timestamp and the like), which protojson writes in
// their own form.
func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile() != nil && md.ParentFile().Package() == "google.protobuf"
}

// wellKnownTree returns the tree of a well-known type as protojson writes
// it: a Timestamp is an RFC 3339 string, a wrapper its value, a Struct a
// JSON object. An Any is its type URL and its value by field number.
func wellKnownTree(m protoreflect.Message) (any, bool) {
	md := m.Descriptor()
	if md.FullName() == "google.protobuf.Any" {
		url, value := md.Fields().ByNumber(1), md.Fields().ByNumber(2)
		if url == nil || value == nil {
			return nil, false
		}
		out := map[string]any{"@type": m.Get(url).String()}
		if v, ok := rawMessage(m.Get(value).Bytes(), 1); ok {
			out["value"] = v
		}
		return out, true
	}
	b, err := protojson.Marshal(m.Interface())
	if err != nil {
		return nil, false
	}
	return decodeJSON(b)
}

// rawMessage reads a message from the wire format alone (see
// protobuf.go). ok is false when b is not a message.
func rawMessage(b []byte, depth int) (map[string]any, bool) {
	out := map[string]any{}
	if !rawFields(b, out, depth) {
		return nil, false
	}
	return out, true
}

// rawFields adds the fields of b to out, keyed by field number: a
// number that appears more than once is a list.
func rawFields(b []byte, out map[string]any, depth int) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return false
		}
		b = b[n:]
		var v any
		switch typ {
		case protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			v = uintNumber(x)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = json.Number(strconv.FormatUint(uint64(x), 10))
		case protowire.Fixed64Type:
			var x uint64
			x, n = protowire.ConsumeFixed64(b)
			v = json.Number(strconv.FormatUint(x, 10))
		case protowire.BytesType:
			var x []byte
			x, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				v = rawBytes(x, depth)
			}
		case protowire.StartGroupType:
			var x []byte
			x, n = protowire.ConsumeGroup(num, b)
			if n >= 0 {
				if depth >= maxProtoDepth {
					return false
				}
				var ok bool
				if v, ok = rawMessage(x, depth+1); !ok {
					return false
				}
			}
		default:
			return false
		}
		if n < 0 {
			return false
		}
		b = b[n:]
		key := fieldNumber(num)
		switch old, ok := out[key]; {
		case !ok:
			out[key] = v
		default:
			if l, isList := old.(rawList); isList {
				out[key] = append(l, v)
			} else {
				out[key] = rawList{old, v}
			}
		}
	}
	return true
}

// rawList is a field number's values while a message is read; it is
// an []any in the tree.
type rawList = []any

// rawBytes reads a length-delimited field: printable text, else a
// message, else other text, else bytes in base64.
func rawBytes(x []byte, depth int) any {
	if printable(x) {
		return string(x)
	}
	if depth < maxProtoDepth {
		if m, ok := rawMessage(x, depth+1); ok {
			return m
		}
	}
	if utf8.Valid(x) {
		return string(x)
	}
	return base64.StdEncoding.EncodeToString(x)
}

// printable reports whether b is UTF-8 text with no control characters
// but tabs and line breaks.
func printable(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return true
}

// fieldNumbers are the keys of the first field numbers, made once.
var fieldNumbers = func() (s [64]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func fieldNumber(n protowire.Number) string {
	if int(n) < len(fieldNumbers) {
		return fieldNumbers[n]
	}
	return strconv.Itoa(int(n))
}
