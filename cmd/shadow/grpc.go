package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/protoschema"
)

// grpcSchemas are the descriptors of the gRPC methods a parallel run
// sees, from the config's grpc section: descriptor sets and .proto files
// read at start, and server reflection on the primary (over its own
// tls and Host). compare asks it for each gRPC answer's method
// (compare.MessageResolver), the proxy whether a method streams its
// requests (mirror.GRPCMethods). A method with no descriptor (no source
// knows it, or its reflection lookup failed: logged once per service by
// protoschema) is compared by field number; such answers are counted.
// The nil *grpcSchemas knows no method.
type grpcSchemas struct {
	schemas *protoschema.Schemas
	conn    *grpc.ClientConn // to the primary, for reflection; nil without
	raw     atomic.Uint64    // answers compared without a descriptor
	log     *slog.Logger
	once    sync.Once // the first raw answer is logged
}

// loadGRPC loads cfg.GRPC, or returns nil when it names no source.
// Errors name their key under grpc, with where its value came from.
func loadGRPC(cfg config, logger *slog.Logger) (*grpcSchemas, error) {
	if !cfg.GRPC.Enabled() {
		return nil, nil
	}
	g := &grpcSchemas{log: logger}
	opts := protoschema.Options{Dir: cfg.configDir(), Logger: logger}
	if cfg.GRPC.Reflection {
		conn, err := dialReflection(cfg.Mirror)
		if err != nil {
			return nil, fmt.Errorf("grpc.reflection: %w", err)
		}
		g.conn, opts.Conn = conn, conn
	}
	s, err := protoschema.Load(context.Background(), cfg.GRPC, opts)
	if err != nil {
		g.close()
		return nil, cfg.explain(problems(err))
	}
	g.schemas = s
	return g, nil
}

// dialReflection returns a client connection to the primary for
// reflection: h2c to an http primary, TLS with primary_target.tls to an
// https one, with primary_target.host as the authority when set. It
// connects on first use.
func dialReflection(m mirror.Config) (*grpc.ClientConn, error) {
	u, err := url.Parse(m.Primary)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if u.Scheme == "https" {
		tc, err := m.PrimaryTarget.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("primary_target.tls: %w", err)
		}
		creds = credentials.NewTLS(tc)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if h := m.PrimaryTarget.Host; h != "" {
		opts = append(opts, grpc.WithAuthority(h))
	}
	host := u.Host
	if u.Port() == "" {
		host += map[string]string{"http": ":80", "https": ":443"}[u.Scheme]
	}
	return grpc.NewClient("passthrough:///"+host, opts...)
}

// problems turns protoschema's Problems into joined errors, one per key,
// so that each gets its file:line.
func problems(err error) error {
	var ps protoschema.Problems
	if !errors.As(err, &ps) {
		return err
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// Method returns the descriptor of a method, and counts the answers that
// have none.
func (g *grpcSchemas) Method(fullName string) protoreflect.MethodDescriptor {
	if md := g.schemas.Method(fullName); md != nil {
		return md
	}
	if g.raw.Add(1) == 1 {
		g.once.Do(func() {
			g.log.Info("grpc: an answer compared by field number, without a descriptor; later ones are counted", "method", fullName)
		})
	}
	return nil
}

// ClientStreaming reports what the descriptors already known say; it
// never waits for a reflection lookup (a cancelled context only starts
// one, for the calls that follow).
func (g *grpcSchemas) ClientStreaming(fullName string) (streaming, known bool) {
	md, err := g.schemas.Lookup(noWait, fullName)
	if err != nil || md == nil {
		return false, false
	}
	return md.IsStreamingClient(), true
}

// noWait is a context that is done already: a lookup with it answers from
// what is known and waits for nothing.
var noWait = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// summary is what the final line says about descriptors: how many
// answers were compared by field number.
func (g *grpcSchemas) summary() string {
	if g == nil || g.raw.Load() == 0 {
		return ""
	}
	return fmt.Sprintf("%d gRPC answers compared by field number (no descriptor)", g.raw.Load())
}

// close closes the reflection connection.
func (g *grpcSchemas) close() {
	if g != nil && g.conn != nil {
		_ = g.conn.Close()
	}
}

// configDir is the directory relative paths in the config file are
// taken from: the file's, or the working directory without one.
func (c config) configDir() string {
	if f := c.origins.File(); f != "" {
		return filepath.Dir(f)
	}
	return ""
}
