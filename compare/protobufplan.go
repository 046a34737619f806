package compare

import (
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The plans of message types: what the fast decoder (protobufwire.go)
// and the wire diff (protobufdiff.go) need to know of a type, worked out
// once per descriptor.

// messagePlan is what decoding needs to know of a message type, worked
// out once: descriptors answer HasPresence and the like slowly.
type messagePlan struct {
	md        protoreflect.MessageDescriptor
	wellKnown bool
	wkt       wktKind      // how the fast path reads a well-known type
	size      int          // fields, for the tree's map
	byNum     []*planField // by field number, when numbers are small
	byNumMap  map[protowire.Number]*planField
	implicit  []implicitField // fields without presence that are not lists or maps
	oneofs    int             // real oneofs
}

// wktKind says how the fast path reads a well-known type: the common ones
// itself, as protojson writes them, the others through dynamicpb.
type wktKind uint8

const (
	wktOther wktKind = iota
	wktTimestamp
	wktWrapper // Int32Value and the like: the value
	wktQuoted  // Int64Value and UInt64Value: the value, quoted
	wktEmpty
)

func wktOf(name protoreflect.FullName) wktKind {
	switch name {
	case "google.protobuf.Timestamp":
		return wktTimestamp
	case "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
		return wktQuoted
	case "google.protobuf.Int32Value", "google.protobuf.UInt32Value", "google.protobuf.BoolValue",
		"google.protobuf.StringValue", "google.protobuf.BytesValue", "google.protobuf.FloatValue",
		"google.protobuf.DoubleValue":
		return wktWrapper
	case "google.protobuf.Empty":
		return wktEmpty
	}
	return wktOther
}

// planField is one field of a messagePlan.
type planField struct {
	name     string
	kind     protoreflect.Kind
	wire     protowire.Type // of one value
	list     bool
	packable bool                            // a list of numbers, which may be packed
	index    int                             // among the message's fields, for duplicates
	oneof    int                             // 1 + the index of its real oneof; 0 for none
	utf8     bool                            // a string that must be valid UTF-8
	closed   bool                            // a closed enum: unknown numbers are unknown fields
	enum     map[protoreflect.EnumNumber]any // value names, as tree nodes
	fd       protoreflect.FieldDescriptor
	key, val *planField                  // of a map field's entries
	sub      atomic.Pointer[messagePlan] // of a message field, once asked for
}

// subPlan returns the plan of a message field's type.
func (f *planField) subPlan() *messagePlan {
	if p := f.sub.Load(); p != nil {
		return p
	}
	p := planFor(f.fd.Message())
	f.sub.Store(p)
	return p
}

// implicitField is a field without presence and its default's tree.
type implicitField struct {
	name  string
	zero  any
	index int // among the message's fields
}

// plans holds a *messagePlan per message descriptor. Descriptors live as
// long as the resolver that made them, which is the process.
var plans sync.Map

// maxPlanNumber bounds the field numbers looked up by index.
const maxPlanNumber = 256

func planFor(md protoreflect.MessageDescriptor) *messagePlan {
	if p, ok := plans.Load(md); ok {
		return p.(*messagePlan)
	}
	fs := md.Fields()
	p := &messagePlan{md: md, wellKnown: isWellKnown(md), size: fs.Len()}
	if p.wellKnown {
		p.wkt = wktOf(md.FullName())
	}
	oos := md.Oneofs()
	oneofIndex := map[protoreflect.FullName]int{}
	for i := range oos.Len() {
		if oo := oos.Get(i); !oo.IsSynthetic() {
			p.oneofs++
			oneofIndex[oo.FullName()] = p.oneofs
		}
	}
	for i := range fs.Len() {
		fd := fs.Get(i)
		f := newPlanField(fd, i)
		if oo := fd.ContainingOneof(); oo != nil {
			f.oneof = oneofIndex[oo.FullName()]
		}
		if fd.IsMap() {
			f.key, f.val = newPlanField(fd.MapKey(), 0), newPlanField(fd.MapValue(), 1)
		}
		if n := fd.Number(); n < maxPlanNumber {
			for len(p.byNum) <= int(n) {
				p.byNum = append(p.byNum, nil)
			}
			p.byNum[n] = f
		} else {
			if p.byNumMap == nil {
				p.byNumMap = map[protowire.Number]*planField{}
			}
			p.byNumMap[n] = f
		}
		if !fd.HasPresence() && !fd.IsList() && !fd.IsMap() {
			p.implicit = append(p.implicit, implicitField{f.name, valueTree(fd, fd.Default()), i})
		}
	}
	plans.Store(md, p)
	return p
}

func newPlanField(fd protoreflect.FieldDescriptor, index int) *planField {
	f := &planField{name: string(fd.Name()), kind: fd.Kind(), list: fd.IsList(), index: index, fd: fd}
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
		protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		f.wire, f.packable = protowire.VarintType, f.list
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		f.wire, f.packable = protowire.Fixed32Type, f.list
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		f.wire, f.packable = protowire.Fixed64Type, f.list
	case protoreflect.GroupKind:
		f.wire = protowire.StartGroupType
	default:
		f.wire = protowire.BytesType
	}
	if fd.Kind() == protoreflect.StringKind {
		f.utf8 = enforceUTF8(fd)
	}
	if ed := fd.Enum(); ed != nil {
		f.closed = ed.IsClosed()
		vs := ed.Values()
		f.enum = make(map[protoreflect.EnumNumber]any, vs.Len())
		for i := range vs.Len() {
			if _, dup := f.enum[vs.Get(i).Number()]; !dup { // the first of aliases, as ByNumber
				f.enum[vs.Get(i).Number()] = string(vs.Get(i).Name())
			}
		}
	}
	return f
}

// enforceUTF8 reports whether the protobuf runtime rejects a string
// field's invalid UTF-8: in proto3, and where an edition's features ask
// for it.
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	if e, ok := fd.(interface{ EnforceUTF8() bool }); ok && fd.Syntax() == protoreflect.Editions {
		return e.EnforceUTF8()
	}
	return fd.Syntax() == protoreflect.Proto3
}

func (p *messagePlan) field(n protowire.Number) *planField {
	if int(n) < len(p.byNum) {
		return p.byNum[n]
	}
	return p.byNumMap[n]
}
