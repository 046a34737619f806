// Package grpctest holds what the tests of several packages need to
// talk gRPC: the interop TestService of google.golang.org/grpc on
// loopback, with server reflection and a record of the metadata of every
// call, and its .proto files, as files or a compiled descriptor set.
package grpctest

import (
	"context"
	"embed"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/understudy-dev/understudy/internal/protoset"
	"google.golang.org/protobuf/proto"
)

// protos are the interop service's .proto files (see TestProtos).
//
//go:embed proto
var protos embed.FS

// ProtoFile is the interop service's file, relative to ProtoDir.
const ProtoFile = "grpc/testing/test.proto"

// ProtoDir writes the interop .proto files under a temporary directory
// and returns it: the import path of ProtoFile.
func ProtoDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(protos, "proto", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := protos.ReadFile(path)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(path[len("proto/"):]))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// DescriptorSet compiles the interop .proto files, writes them as a
// binary FileDescriptorSet with their imports (what protoc
// --descriptor_set_out --include_imports writes) and returns its path.
func DescriptorSet(t testing.TB) string {
	t.Helper()
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: func(path string) (io.ReadCloser, error) { return protos.Open("proto/" + path) },
	})}
	files, err := c.Compile(context.Background(), ProtoFile)
	if err != nil {
		t.Fatal(err)
	}
	set := protoset.Of(files[0])
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "interop.protoset")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
