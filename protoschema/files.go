package protoschema

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	// The well-known types, so that a descriptor set written without
	// them still resolves its imports of google/protobuf/*.proto.
	_ "google.golang.org/protobuf/types/known/anypb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

// maxSetBytes bounds a descriptor set file; real ones are a few MiB.
const maxSetBytes = 64 << 20

// maxCompileErrors bounds the compile errors reported for .proto files.
const maxCompileErrors = 20

// finder is one source of descriptors.
type finder interface {
	FindDescriptorByName(protoreflect.FullName) (protoreflect.Descriptor, error)
}

// readDescriptorSet reads a binary FileDescriptorSet into a registry.
func readDescriptorSet(path string) (*protoregistry.Files, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSetBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSetBytes {
		return nil, fmt.Errorf("larger than %d MiB", maxSetBytes>>20)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a binary FileDescriptorSet (protoc --descriptor_set_out or buf build -o writes one): %w", err)
	}
	if len(set.File) == 0 {
		return nil, errors.New("the descriptor set holds no file")
	}
	files, err := buildFiles(set.File)
	if err != nil {
		return nil, fmt.Errorf("%w (protoc writes imports with --include_imports)", err)
	}
	return files, nil
}

// buildFiles links file descriptor protos into a registry, each after
// its imports. An import of a well-known type the protos do not hold is
// taken from this binary; any other missing import is an error.
func buildFiles(protos []*descriptorpb.FileDescriptorProto) (*protoregistry.Files, error) {
	byName := make(map[string]*descriptorpb.FileDescriptorProto, len(protos))
	for _, fd := range protos {
		byName[fd.GetName()] = fd
	}
	files := new(protoregistry.Files)
	visiting := map[string]bool{}
	var add func(name, importer string) error
	add = func(name, importer string) error {
		if _, err := files.FindFileByPath(name); err == nil {
			return nil
		}
		fd, ok := byName[name]
		if !ok {
			if strings.HasPrefix(name, "google/protobuf/") {
				if gf, err := protoregistry.GlobalFiles.FindFileByPath(name); err == nil {
					return files.RegisterFile(gf)
				}
			}
			return fmt.Errorf("%q imports %q, which is not among the descriptors", importer, name)
		}
		if visiting[name] {
			return fmt.Errorf("%q imports itself through %q", name, importer)
		}
		visiting[name] = true
		for _, dep := range fd.GetDependency() {
			if err := add(dep, name); err != nil {
				return err
			}
		}
		f, err := protodesc.NewFile(fd, files)
		if err != nil {
			return fmt.Errorf("link %q: %w", name, err)
		}
		return files.RegisterFile(f)
	}
	for _, fd := range protos {
		if err := add(fd.GetName(), fd.GetName()); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// compileProtos compiles .proto files with protocompile. names are
// relative to one of importPaths. Problems name the file's key.
func compileProtos(ctx context.Context, names, importPaths []string) (finder, []Problem) {
	var errs []reporter.ErrorWithPos
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: importPaths}),
		Reporter: reporter.NewReporter(func(err reporter.ErrorWithPos) error {
			errs = append(errs, err)
			if len(errs) >= maxCompileErrors {
				return err
			}
			return nil // report them all, up to the bound
		}, nil),
		MaxParallelism: 1,
	}
	var unique []string
	for _, n := range names {
		if !slices.Contains(unique, n) {
			unique = append(unique, n)
		}
	}
	files, err := c.Compile(ctx, unique...)
	if err == nil {
		return files.AsResolver(), nil
	}
	// An error with a position names the file it is in; one without (a
	// file not found) names it in its text.
	keyOf := func(file, msg string) string {
		for i, n := range names {
			if n == file || file == "" && strings.Contains(msg, strconv.Quote(n)) {
				return fmt.Sprintf("proto_files[%d]", i)
			}
		}
		return "proto_files"
	}
	var probs []Problem
	for _, e := range errs {
		probs = append(probs, Problem{keyOf(e.GetPosition().Filename, e.Error()), e.Error()})
	}
	if len(errs) == 0 {
		var file string
		if ep, ok := errors.AsType[reporter.ErrorWithPos](err); ok {
			file = ep.GetPosition().Filename
		}
		probs = append(probs, Problem{keyOf(file, err.Error()), err.Error()})
	}
	return nil, probs
}
