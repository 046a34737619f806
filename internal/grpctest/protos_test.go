package grpctest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/google/go-cmp/cmp"
	tg "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
)

var update = flag.Bool("update", false, "rewrite proto/ from the descriptors compiled into google.golang.org/grpc/interop/grpc_testing")

// interopFiles are the files of the interop TestService, as compiled into
// the grpc module.
var interopFiles = []protoreflect.FileDescriptor{
	tg.File_grpc_testing_empty_proto, tg.File_grpc_testing_messages_proto, tg.File_grpc_testing_test_proto,
}

// TestProtos: proto/ holds the interop service's .proto files as the
// descriptors in the grpc module describe them (the module ships only
// the generated code), and they compile back to those descriptors.
func TestProtos(t *testing.T) {
	version := "(unknown version)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "google.golang.org/grpc" {
				version = m.Version
			}
		}
	}
	for _, f := range interopFiles {
		want := printProto(protodesc.ToFileDescriptorProto(f), header(f.Path(), version))
		path := filepath.Join("proto", filepath.FromSlash(f.Path()))
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is not what the grpc module's descriptors print: go test ./internal/grpctest -run TestProtos -update", path)
		}
	}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{"proto"}})}
	compiled, err := c.Compile(context.Background(), "grpc/testing/test.proto")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range interopFiles {
		var cf protoreflect.FileDescriptor = compiled[0]
		if f.Path() != cf.Path() {
			cf = compiled[0].FindImportByPath(f.Path())
		}
		got := bare(protodesc.ToFileDescriptorProto(cf))
		if want := bare(protodesc.ToFileDescriptorProto(f)); !proto.Equal(got, want) {
			t.Errorf("%s compiles to other descriptors than the grpc module's:\n%s", f.Path(), cmp.Diff(want, got, protocmp.Transform()))
		}
	}
}

// bare drops what differs between compilers without changing meaning.
func bare(fd *descriptorpb.FileDescriptorProto) *descriptorpb.FileDescriptorProto {
	fd = proto.Clone(fd).(*descriptorpb.FileDescriptorProto)
	fd.SourceCodeInfo = nil
	var msgs func([]*descriptorpb.DescriptorProto)
	msgs = func(ms []*descriptorpb.DescriptorProto) {
		for _, m := range ms {
			for _, f := range m.Field {
				f.JsonName = nil
			}
			msgs(m.NestedType)
		}
	}
	msgs(fd.MessageType)
	for _, s := range fd.Service {
		for _, m := range s.Method {
			if m.Options != nil && len(m.Options.ProtoReflect().GetUnknown()) == 0 && proto.Size(m.Options) == 0 {
				m.Options = nil
			}
		}
	}
	return fd
}

func header(path, version string) string {
	return `// Copyright 2015-2016 gRPC authors.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// ` + path + ` of the gRPC interop tests, printed from the descriptors
// compiled into google.golang.org/grpc ` + version + ` (interop/grpc_testing),
// which ships no .proto files: go test ./internal/grpctest -run TestProtos
// -update. Comments are not in the descriptors.

`
}
