// Package protoschema finds the protobuf descriptors of gRPC methods, so
// that their messages can be read by field name: compare decodes the
// answers of a parallel run with them, and synth encodes its gRPC steps'
// messages.
//
// Descriptors come from, in this order: descriptor set files (what
// protoc --descriptor_set_out --include_imports or buf build -o writes),
// .proto files compiled at start (with github.com/bufbuild/protocompile,
// no protoc needed), and gRPC server reflection on a server (v1, falling
// back to v1alpha). The first source that knows a service answers for
// all of its methods.
//
// Schemas resolves a full method name ("/pkg.Service/Method", the path
// of a gRPC request) to its descriptor. Reflection lookups are cached per
// service and coalesced (a burst of first calls to a new method makes
// one lookup), bounded in time and in number, and a failed lookup is
// logged once and answered with no descriptor, so that the caller falls
// back to reading messages by field number.
package protoschema
