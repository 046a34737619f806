package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/protoset"
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
	schemas *protoschema.Schemas // nil: none configured
	conn    *grpc.ClientConn     // to the primary, for reflection; nil without
	raw     atomic.Uint64        // answers compared without a descriptor
	log     *slog.Logger
	once    sync.Once // the first raw answer is logged

	// recorded are the methods of the descriptor records read from
	// capture files (report, replay), by full name; asked first.
	recorded sync.Map // string -> protoreflect.MethodDescriptor
	// sets are the descriptor records for capture files, by the path of
	// the file that defines a method's service.
	sets sync.Map // string -> *capture.DescriptorRecord
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
	if md := g.lookup(context.Background(), fullName); md != nil {
		return md
	}
	if _, _, ok := protoschema.SplitMethod(fullName); !ok {
		return nil // not a gRPC call: a bare protobuf body of another path
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
	md := g.lookup(noWait, fullName)
	if md == nil {
		return false, false
	}
	return md.IsStreamingClient(), true
}

// lookup finds a method in the recorded descriptors, then in the
// configured sources, waiting for a reflection lookup as long as ctx
// lets it (Schemas.Lookup).
func (g *grpcSchemas) lookup(ctx context.Context, fullName string) protoreflect.MethodDescriptor {
	if md, ok := g.recorded.Load(fullName); ok {
		return md.(protoreflect.MethodDescriptor)
	}
	if g.schemas == nil {
		return nil
	}
	md, _ := g.schemas.Lookup(ctx, fullName)
	return md
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

// offlineGRPC is what report and replay read gRPC answers with: the
// descriptor records of the capture files (addRecorded), then the
// descriptor sets and .proto files of the config's grpc section.
// Reflection is not asked: the primary of a recorded run need not be up.
func offlineGRPC(cfg config, logger *slog.Logger) (*grpcSchemas, error) {
	cfg.GRPC.Reflection, cfg.GRPC.ReflectionTimeout = false, 0
	g, err := loadGRPC(cfg, logger)
	if g == nil && err == nil {
		g = &grpcSchemas{log: logger}
	}
	return g, err
}

// addRecorded learns the methods of a descriptor record read from a
// capture file. A record that does not parse is reported and skipped:
// its exchanges are compared by field number.
func (g *grpcSchemas) addRecorded(d *capture.DescriptorRecord) error {
	if _, seen := g.sets.LoadOrStore("hash:"+d.Hash, d); seen {
		return nil
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(d.Set, &set); err != nil {
		return fmt.Errorf("descriptor record %s: %w", d.Hash, err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return fmt.Errorf("descriptor record %s: %w", d.Hash, err)
	}
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		svcs := f.Services()
		for i := range svcs.Len() {
			ms := svcs.Get(i).Methods()
			for j := range ms.Len() {
				md := ms.Get(j)
				g.recorded.Store("/"+string(md.Parent().FullName())+"/"+string(md.Name()), md)
			}
		}
		return true
	})
	return nil
}

// descriptorRecord returns the descriptor record of a gRPC request's
// method for a capture file: the file that defines its service and
// every file that one imports, as a FileDescriptorSet; nil when the
// method is not known (yet: a reflection lookup is never waited for).
func (g *grpcSchemas) descriptorRecord(req *exchange.Request) *capture.DescriptorRecord {
	if g == nil || !isGRPCRequest(req) {
		return nil
	}
	method, _, _ := strings.Cut(req.URL, "?")
	md := g.lookup(noWait, method)
	if md == nil {
		return nil
	}
	file := md.ParentFile()
	if d, ok := g.sets.Load(file.Path()); ok {
		return d.(*capture.DescriptorRecord)
	}
	set := protoset.Of(file)
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		return nil
	}
	d := &capture.DescriptorRecord{Hash: capture.DescriptorHash(b), Set: b}
	actual, _ := g.sets.LoadOrStore(file.Path(), d)
	return actual.(*capture.DescriptorRecord)
}

// isGRPCRequest reports whether a recorded request is a gRPC call.
func isGRPCRequest(req *exchange.Request) bool {
	ct := strings.ToLower(req.Header.Get("Content-Type"))
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;")
}

// descriptorWriter is a capture writer whose gRPC exchange records refer
// to the descriptors of their method, written into the same file.
type descriptorWriter struct {
	*capture.Writer
	g *grpcSchemas
}

// WriteExchange writes r, and before it, if its file does not hold them
// yet, the descriptors of its method.
func (w descriptorWriter) WriteExchange(r *capture.ExchangeRecord) error {
	if d := w.g.descriptorRecord(&r.Exchange.Request); d != nil {
		if ok, err := w.AddDescriptors(d); err == nil && ok {
			r.Descriptors = d.Hash
		}
	}
	return w.Writer.WriteExchange(r)
}

// learnDescriptors has g learn a descriptor record read from a capture
// file; one that does not parse is logged and its exchanges are compared
// by field number. Nil g learns nothing.
func learnDescriptors(g *grpcSchemas, d *capture.DescriptorRecord) error {
	if g == nil {
		return nil
	}
	if err := g.addRecorded(d); err != nil && g.log != nil {
		g.log.Warn("grpc: a capture's descriptors do not parse; its gRPC answers are compared by field number", "err", err)
	}
	return nil
}
