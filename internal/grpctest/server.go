package grpctest

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	rv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
)

// Reflection says which server reflection services a Server offers.
type Reflection int

// The reflection a Server offers.
const (
	// ReflectionV1 offers v1 and v1alpha, as reflection.Register does.
	ReflectionV1 Reflection = iota
	// ReflectionV1Alpha offers only v1alpha, as older servers do.
	ReflectionV1Alpha
	// NoReflection offers none.
	NoReflection
)

// Server is the interop TestService on a loopback port, recording the
// method and incoming metadata of every call.
type Server struct {
	// Addr is the host:port it listens on.
	Addr string

	mu    sync.Mutex
	calls []Call
}

// Call is one call a Server received.
type Call struct {
	Method   string
	Metadata metadata.MD
}

// Start serves the interop TestService (interop.NewTestServer) on
// 127.0.0.1 in the clear (h2c) until the test ends.
func Start(t testing.TB, refl Reflection) *Server {
	t.Helper()
	return StartService(t, refl, interop.NewTestServer())
}

// StartService is Start serving impl (a Variant, say) as the TestService.
func StartService(t testing.TB, refl Reflection, impl testgrpc.TestServiceServer) *Server {
	t.Helper()
	return serve(t, refl, impl)
}

// StartTLS is StartService over TLS (h2 by ALPN) with cert.
func StartTLS(t testing.TB, refl Reflection, impl testgrpc.TestServiceServer, cert tls.Certificate) *Server {
	t.Helper()
	return serve(t, refl, impl, grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
}

func serve(t testing.TB, refl Reflection, impl testgrpc.TestServiceServer, opts ...grpc.ServerOption) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String()}
	gs := grpc.NewServer(append(opts,
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			s.record(ctx, info.FullMethod)
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			s.record(ss.Context(), info.FullMethod)
			return h(srv, ss)
		}),
	)...)
	testgrpc.RegisterTestServiceServer(gs, impl)
	switch refl {
	case ReflectionV1:
		reflection.Register(gs)
	case ReflectionV1Alpha:
		rv1alpha.RegisterServerReflectionServer(gs, reflection.NewServer(reflection.ServerOptions{Services: gs}))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		gs.Serve(ln)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-done
	})
	return s
}

func (s *Server) record(ctx context.Context, method string) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Metadata: md.Copy()})
	s.mu.Unlock()
}

// Calls returns the calls received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallsTo counts the calls received so far to one method.
func (s *Server) CallsTo(method string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Dial returns a client connection to the server, closed when the test
// ends.
func (s *Server) Dial(t testing.TB) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}
