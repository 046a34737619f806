package protoschema

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/understudy-dev/understudy/internal/grpctest"
	"github.com/understudy-dev/understudy/internal/testio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	unaryCall         = "/grpc.testing.TestService/UnaryCall"
	streamCall        = "/grpc.testing.TestService/StreamingOutputCall"
	reflectionV1      = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
	reflectionV1Alpha = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
)

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"zero", Config{}, nil},
		{"all sources", Config{DescriptorSets: []string{"a.protoset"}, ProtoFiles: []string{"a.proto"}, ImportPaths: []string{"proto"},
			Reflection: true, ReflectionTimeout: time.Second}, nil},
		{"empty names", Config{DescriptorSets: []string{""}, ProtoFiles: []string{" "}, ImportPaths: []string{""}},
			[]string{"grpc.descriptor_sets[0]: want a file name", "grpc.proto_files[0]: want a .proto file name", "grpc.import_paths[0]: want a directory"}},
		{"not a .proto", Config{ProtoFiles: []string{"a.txt"}}, []string{`grpc.proto_files[0]: want a .proto file, got "a.txt"`}},
		{"import paths alone", Config{ImportPaths: []string{"proto"}}, []string{"grpc.import_paths: set with no proto_files"}},
		{"timeout", Config{ReflectionTimeout: -time.Second}, []string{"grpc.reflection_timeout: must not be negative",
			"grpc.reflection_timeout: set without reflection: true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var probs Problems
			if !errors.As(err, &probs) || len(probs) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d problems", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(probs[i].Error(), w) {
					t.Errorf("problem %d = %q, want it to start with %q", i, probs[i].Error(), w)
				}
			}
		})
	}
}

// TestSources: every source finds the interop service's methods, the
// unary one and the streaming one, with their message types.
func TestSources(t *testing.T) {
	t.Parallel()
	srv := grpctest.Start(t, grpctest.ReflectionV1)
	alpha := grpctest.Start(t, grpctest.ReflectionV1Alpha)
	protoDir := grpctest.ProtoDir(t)
	tests := []struct {
		name string
		cfg  Config
		opts Options
	}{
		{"descriptor set", Config{DescriptorSets: []string{grpctest.DescriptorSet(t)}}, Options{}},
		{"proto files", Config{ProtoFiles: []string{grpctest.ProtoFile}, ImportPaths: []string{"."}}, Options{Dir: protoDir}},
		{"proto files named with their import path", Config{ProtoFiles: []string{"p/" + grpctest.ProtoFile}, ImportPaths: []string{"p"}},
			Options{Dir: filepath.Dir(linkDir(t, protoDir, "p"))}},
		{"reflection v1", Config{Reflection: true}, Options{Conn: srv.Dial(t)}},
		{"reflection v1alpha", Config{Reflection: true}, Options{Conn: alpha.Dial(t)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(context.Background(), tt.cfg, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []struct{ name, in, out string }{
				{unaryCall, "grpc.testing.SimpleRequest", "grpc.testing.SimpleResponse"},
				{streamCall, "grpc.testing.StreamingOutputCallRequest", "grpc.testing.StreamingOutputCallResponse"},
			} {
				md, err := s.Lookup(context.Background(), m.name)
				if err != nil {
					t.Fatalf("Lookup(%s): %v", m.name, err)
				}
				if string(md.Input().FullName()) != m.in || string(md.Output().FullName()) != m.out {
					t.Errorf("%s: %s -> %s, want %s -> %s", m.name, md.Input().FullName(), md.Output().FullName(), m.in, m.out)
				}
				if md.IsStreamingServer() != (m.name == streamCall) {
					t.Errorf("%s: IsStreamingServer = %v", m.name, md.IsStreamingServer())
				}
			}
			if md, err := s.Lookup(context.Background(), "/grpc.testing.TestService/NoSuchCall"); md != nil || err == nil {
				t.Errorf("an unknown method: %v, %v", md, err)
			}
		})
	}
	if n := alpha.CallsTo(reflectionV1Alpha); n == 0 {
		t.Errorf("the v1alpha server got no v1alpha lookup")
	}
}

// linkDir copies dir under a new directory as name, and returns the copy.
func linkDir(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(out, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoadProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("bad.proto", "syntax = \"proto3\";\nmessage A {\n  int32 x = ;\n}\n")
	write("imports.proto", "syntax = \"proto3\";\nimport \"missing.proto\";\n")
	write("junk.protoset", "not a descriptor set")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing set", Config{DescriptorSets: []string{"nope.protoset"}}, "grpc.descriptor_sets[0]: nope.protoset: open "},
		{"not a set", Config{DescriptorSets: []string{"junk.protoset"}}, "grpc.descriptor_sets[0]: junk.protoset: not a binary FileDescriptorSet"},
		{"a syntax error names the file and line", Config{ProtoFiles: []string{"bad.proto"}}, "grpc.proto_files[0]: bad.proto:3:"},
		{"a missing import", Config{ProtoFiles: []string{"imports.proto"}}, "grpc.proto_files[0]: imports.proto:2:"},
		{"reflection without a connection", Config{Reflection: true}, "grpc.reflection: no connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(context.Background(), tt.cfg, Options{Dir: dir})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Load() = %v, want an error starting with %q", err, tt.want)
			}
		})
	}
}

// TestDescriptorSetWithoutImports: a set written without
// --include_imports says so.
func TestDescriptorSetWithoutImports(t *testing.T) {
	t.Parallel()
	full := grpctest.DescriptorSet(t)
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := readDescriptorSet(full)
	if err != nil || fds.NumFiles() != 3 {
		t.Fatalf("the full set: %v files, %v", fds.NumFiles(), err)
	}
	// The set holds empty, messages and test, in that order.
	last := lastFile(t, b)
	path := filepath.Join(t.TempDir(), "alone.protoset")
	if err := os.WriteFile(path, last, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(context.Background(), Config{DescriptorSets: []string{path}}, Options{})
	if err == nil || !strings.Contains(err.Error(), `imports "grpc/testing/empty.proto", which is not among the descriptors`) ||
		!strings.Contains(err.Error(), "--include_imports") {
		t.Fatalf("Load() = %v", err)
	}
}

// TestReflectionCoalesced: a burst of first calls to a new service makes
// one reflection lookup, and later calls none.
func TestReflectionCoalesced(t *testing.T) {
	t.Parallel()
	srv := grpctest.Start(t, grpctest.ReflectionV1)
	s, err := Load(context.Background(), Config{Reflection: true}, Options{Conn: srv.Dial(t)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			if s.Method(unaryCall) == nil {
				t.Error("no descriptor")
			}
		})
	}
	close(start)
	wg.Wait()
	for range 10 {
		s.Method(streamCall) // the same service: cached
	}
	if n := srv.CallsTo(reflectionV1); n != 1 {
		t.Errorf("%d reflection lookups, want 1", n)
	}
}

// TestReflectionFailures: a server without reflection, one without the
// service and one that never answers each leave the method without a
// descriptor, logged once per service, bounded by the timeout, and
// remembered (no second lookup).
func TestReflectionFailures(t *testing.T) {
	t.Parallel()
	none := grpctest.Start(t, grpctest.NoReflection)
	other := grpctest.Start(t, grpctest.ReflectionV1)
	hung := hungServer(t)
	tests := []struct {
		name   string
		addr   string
		method string
		want   string
	}{
		{"no reflection service", none.Addr, unaryCall, "Unimplemented"},
		{"an unknown service", other.Addr, "/no.such.Service/Call", "NotFound"},
		{"a server that never answers", hung, unaryCall, "DeadlineExceeded"},
	}
	t.Run("each", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				cc, err := grpc.NewClient(tt.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					t.Fatal(err)
				}
				defer cc.Close()
				var logs testio.Buffer
				s, err := Load(context.Background(), Config{Reflection: true, ReflectionTimeout: 300 * time.Millisecond},
					Options{Conn: cc, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				if err != nil {
					t.Fatal(err)
				}
				for range 3 {
					if md, err := s.Lookup(context.Background(), tt.method); md != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("Lookup = %v, %v; want no descriptor and an error with %q", md, err, tt.want)
					}
				}
				if n := strings.Count(logs.String(), "no descriptor for a service"); n != 1 {
					t.Errorf("logged %d times, want once:\n%s", n, logs.String())
				}
			})
		}
	})
	if n := other.CallsTo(reflectionV1); n != 1 {
		t.Errorf("the unknown service was looked up %d times, want once", n)
	}
}

// hungServer accepts connections and never says a word.
func hungServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// TestLookupWaitBounded: a caller's context bounds its own wait for a
// lookup, while the lookup goes on for others.
func TestLookupWaitBounded(t *testing.T) {
	t.Parallel()
	cc, err := grpc.NewClient(hungServer(t), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	s, err := Load(context.Background(), Config{Reflection: true, ReflectionTimeout: time.Second}, Options{Conn: cc})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Lookup(ctx, unaryCall); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lookup with a cancelled context = %v", err)
	}
	if _, err := s.Lookup(context.Background(), unaryCall); err == nil || !strings.Contains(err.Error(), "DeadlineExceeded") {
		t.Fatalf("Lookup = %v, want the lookup's deadline", err)
	}
}

func TestSplitMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, svc, method string
		ok              bool
	}{
		{"/pkg.Svc/Call", "pkg.Svc", "Call", true},
		{"/Svc/Call", "Svc", "Call", true},
		{"pkg.Svc/Call", "", "", false},
		{"/pkg.Svc/Call/x", "", "", false},
		{"/pkg.Svc/", "", "", false},
		{"/orders/123", "", "", false},
		{"/pkg..Svc/Call", "", "", false},
	}
	for _, tt := range tests {
		svc, method, ok := SplitMethod(tt.in)
		if svc != tt.svc || method != tt.method || ok != tt.ok {
			t.Errorf("SplitMethod(%q) = %q, %q, %v; want %q, %q, %v", tt.in, svc, method, ok, tt.svc, tt.method, tt.ok)
		}
	}
}

// lastFile returns a descriptor set holding only the last file of the
// set b.
func lastFile(t *testing.T, b []byte) []byte {
	t.Helper()
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	set.File = set.File[len(set.File)-1:]
	out, err := proto.Marshal(&set)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
