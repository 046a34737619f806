package grpctest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// printProto writes a file descriptor as .proto source: the subset of
// the language the interop files use (proto3, messages, nested types,
// maps, enums, services, field and file options), which is what
// TestProtos checks by compiling the output back.
func printProto(fd *descriptorpb.FileDescriptorProto, header string) string {
	p := &printer{pkg: "." + fd.GetPackage() + "."}
	p.raw(header)
	p.line(`syntax = %q;`, fd.GetSyntax())
	p.line("")
	p.line("package %s;", fd.GetPackage())
	if len(fd.GetDependency()) > 0 {
		p.line("")
		for _, d := range fd.GetDependency() {
			p.line("import %q;", d)
		}
	}
	if o := fd.GetOptions(); o != nil {
		p.line("")
		for _, opt := range scalarOptions(o.ProtoReflect()) {
			p.line("option %s;", opt)
		}
	}
	for _, e := range fd.GetEnumType() {
		p.line("")
		p.enum(e)
	}
	for _, m := range fd.GetMessageType() {
		p.line("")
		p.message(m)
	}
	for _, s := range fd.GetService() {
		p.line("")
		p.line("service %s {", s.GetName())
		p.depth++
		for _, m := range s.GetMethod() {
			in, out := strings.TrimPrefix(m.GetInputType(), p.pkg), strings.TrimPrefix(m.GetOutputType(), p.pkg)
			if m.GetClientStreaming() {
				in = "stream " + in
			}
			if m.GetServerStreaming() {
				out = "stream " + out
			}
			p.line("rpc %s(%s) returns (%s);", m.GetName(), in, out)
		}
		p.depth--
		p.line("}")
	}
	return p.b.String()
}

type printer struct {
	b     strings.Builder
	depth int
	pkg   string // ".package.", cut from type names
}

func (p *printer) raw(s string) { p.b.WriteString(s) }

func (p *printer) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if s != "" {
		p.b.WriteString(strings.Repeat("  ", p.depth))
	}
	p.b.WriteString(s + "\n")
}

func (p *printer) enum(e *descriptorpb.EnumDescriptorProto) {
	p.line("enum %s {", e.GetName())
	p.depth++
	for _, opt := range scalarOptions(e.GetOptions().ProtoReflect()) {
		p.line("option %s;", opt)
	}
	for _, v := range e.GetValue() {
		p.line("%s = %d;", v.GetName(), v.GetNumber())
	}
	p.depth--
	p.line("}")
}

func (p *printer) message(m *descriptorpb.DescriptorProto) {
	p.line("message %s {", m.GetName())
	p.depth++
	entries := map[string]*descriptorpb.DescriptorProto{}
	for _, n := range m.GetNestedType() {
		if n.GetOptions().GetMapEntry() {
			entries[n.GetName()] = n
		}
	}
	for _, e := range m.GetEnumType() {
		p.enum(e)
	}
	// A map field's entry type takes its place among the nested types
	// where the field is declared: print the fields up to it first.
	fields, oneof := m.GetField(), -1
	next := 0
	printFields := func(to int) {
		for ; next < to; next++ {
			f := fields[next]
			in := f.OneofIndex != nil && !f.GetProto3Optional()
			if oneof >= 0 && (!in || int(f.GetOneofIndex()) != oneof) {
				p.depth--
				p.line("}")
				oneof = -1
			}
			if in && oneof < 0 {
				oneof = int(f.GetOneofIndex())
				p.line("oneof %s {", m.GetOneofDecl()[oneof].GetName())
				p.depth++
			}
			p.field(f, entries)
		}
		if oneof >= 0 {
			p.depth--
			p.line("}")
			oneof = -1
		}
	}
	for _, n := range m.GetNestedType() {
		if !n.GetOptions().GetMapEntry() {
			p.message(n)
			continue
		}
		for i := next; i < len(fields); i++ {
			if strings.HasSuffix(fields[i].GetTypeName(), "."+n.GetName()) {
				printFields(i + 1)
				break
			}
		}
	}
	printFields(len(fields))
	for _, r := range m.GetReservedRange() {
		p.line("reserved %d to %d;", r.GetStart(), r.GetEnd()-1)
	}
	for _, n := range m.GetReservedName() {
		p.line("reserved %q;", n)
	}
	p.depth--
	p.line("}")
}

func (p *printer) field(f *descriptorpb.FieldDescriptorProto, entries map[string]*descriptorpb.DescriptorProto) {
	typ := strings.TrimPrefix(typeName(f), p.pkg)
	label := ""
	switch {
	case f.GetProto3Optional():
		label = "optional "
	case f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REPEATED:
		label = "repeated "
		name := f.GetTypeName()
		if e := entries[name[strings.LastIndex(name, ".")+1:]]; e != nil && strings.HasSuffix(name, "."+e.GetName()) {
			label, typ = "", fmt.Sprintf("map<%s, %s>", typeName(e.GetField()[0]), strings.TrimPrefix(typeName(e.GetField()[1]), p.pkg))
		}
	}
	var opts []string
	opts = append(opts, scalarOptions(f.GetOptions().ProtoReflect())...)
	if f.JsonName != nil && f.GetJsonName() != jsonName(f.GetName()) {
		opts = append(opts, "json_name = "+strconv.Quote(f.GetJsonName()))
	}
	suffix := ""
	if len(opts) > 0 {
		suffix = " [" + strings.Join(opts, ", ") + "]"
	}
	p.line("%s%s %s = %d%s;", label, typ, f.GetName(), f.GetNumber(), suffix)
}

func typeName(f *descriptorpb.FieldDescriptorProto) string {
	if f.GetTypeName() != "" {
		return f.GetTypeName()
	}
	return strings.ToLower(strings.TrimPrefix(f.GetType().String(), "TYPE_"))
}

// jsonName is protoc's default JSON name: lowerCamelCase.
func jsonName(s string) string {
	var b strings.Builder
	up := false
	for _, c := range s {
		switch {
		case c == '_':
			up = true
		case up && c >= 'a' && c <= 'z':
			b.WriteRune(c - 'a' + 'A')
			up = false
		default:
			b.WriteRune(c)
			up = false
		}
	}
	return b.String()
}

// scalarOptions lists the options set on an options message that are
// scalars ("deprecated = true", `java_package = "x"`), in field order.
func scalarOptions(m protoreflect.Message) []string {
	if !m.IsValid() {
		return nil
	}
	var out []string
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Name() == "map_entry" || !m.Has(fd) || fd.IsList() || fd.Message() != nil {
			continue
		}
		v := m.Get(fd)
		var s string
		switch fd.Kind() {
		case protoreflect.StringKind:
			s = strconv.Quote(v.String())
		case protoreflect.EnumKind:
			s = string(fd.Enum().Values().ByNumber(v.Enum()).Name())
		default:
			s = fmt.Sprint(v.Interface())
		}
		out = append(out, fmt.Sprintf("%s = %s", fd.Name(), s))
	}
	slices.Sort(out)
	return out
}
