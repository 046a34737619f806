package protoschema

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Bounds of the reflection cache.
const (
	// maxServices bounds the services whose lookups are remembered, so a
	// client that calls made-up method names cannot grow the cache: past
	// it the failed lookups are forgotten first.
	maxServices = 1024
	// maxLookups bounds the reflection lookups in flight at once; a
	// lookup beyond them fails at once (and is not remembered).
	maxLookups = 4
	// retryFailed is how long a failed lookup is remembered before the
	// next call to the service asks again.
	retryFailed = time.Minute
)

// Options are what Load needs besides the Config.
type Options struct {
	// Dir is the directory relative paths are taken from: the config
	// file's. Empty means the working directory.
	Dir string
	// Conn is the connection reflection asks (for shadow, to the primary;
	// for synth, to the target). Required when Config.Reflection is set.
	Conn grpc.ClientConnInterface
	// Logger receives one warning per service whose lookup failed. Nil
	// means none.
	Logger *slog.Logger
}

// Schemas finds the descriptors of gRPC methods in the sources of a
// Config. It is safe for concurrent use. Its Method is what
// compare.MessageResolver asks for.
type Schemas struct {
	static  []finder   // descriptor sets, then compiled .proto files
	refl    *reflector // nil without reflection
	timeout time.Duration
	log     *slog.Logger

	methods sync.Map // full method name -> protoreflect.MethodDescriptor, found ones only
	group   singleflight.Group
	sem     chan struct{}

	mu       sync.Mutex
	services map[string]*lookup // reflection lookups by service name
}

// lookup is a remembered reflection lookup of one service.
type lookup struct {
	svc   protoreflect.ServiceDescriptor // nil when it failed
	err   error
	retry time.Time // when a failed lookup may be asked again
}

// Load reads the descriptor sets and compiles the .proto files of cfg.
// Problems with them are returned as Problems, naming the key under grpc
// of each file and, for .proto files, the line.
func Load(ctx context.Context, cfg Config, opts Options) (*Schemas, error) {
	if probs := cfg.Check(); len(probs) > 0 {
		return nil, Problems(probs)
	}
	if cfg.Reflection && opts.Conn == nil {
		return nil, errors.New("grpc.reflection: no connection to ask")
	}
	s := &Schemas{timeout: cfg.reflectionTimeout(), log: opts.Logger, sem: make(chan struct{}, maxLookups),
		services: map[string]*lookup{}}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var probs []Problem
	for i, p := range cfg.DescriptorSets {
		files, err := readDescriptorSet(join(opts.Dir, p))
		if err != nil {
			probs = append(probs, Problem{fmt.Sprintf("descriptor_sets[%d]", i), fmt.Sprintf("%s: %v", p, err)})
			continue
		}
		s.static = append(s.static, files)
	}
	if len(cfg.ProtoFiles) > 0 {
		paths := []string{cmpOr(opts.Dir, ".")}
		if len(cfg.ImportPaths) > 0 {
			paths = paths[:0]
			for _, ip := range cfg.ImportPaths {
				paths = append(paths, join(opts.Dir, ip))
			}
		}
		names := make([]string, len(cfg.ProtoFiles))
		for i, n := range cfg.ProtoFiles {
			names[i] = importName(n, cfg.ImportPaths)
		}
		f, ps := compileProtos(ctx, names, paths)
		probs = append(probs, ps...)
		if f != nil {
			s.static = append(s.static, f)
		}
	}
	if len(probs) > 0 {
		return nil, Problems(probs)
	}
	if cfg.Reflection {
		s.refl = &reflector{conn: opts.Conn}
	}
	return s, nil
}

// Problems lists what is wrong with a Config or its files.
type Problems []Problem

// Error joins the problems, one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// importName returns a .proto file's name relative to its import path:
// as written, or without the import path it starts with
// ("proto/shop/orders.proto" with the import path "proto"), as protoc
// takes it.
func importName(name string, importPaths []string) string {
	clean := filepath.Clean(name)
	for _, ip := range importPaths {
		if rest, ok := strings.CutPrefix(clean, filepath.Clean(ip)+string(filepath.Separator)); ok && filepath.Clean(ip) != "." {
			return filepath.ToSlash(rest)
		}
	}
	return filepath.ToSlash(clean)
}

func join(dir, p string) string {
	if dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SplitMethod splits a full method name, "/pkg.Service/Method" (the path
// of a gRPC request), into the service's full name and the method's
// name. ok is false for anything else.
func SplitMethod(fullName string) (service, method string, ok bool) {
	rest, found := strings.CutPrefix(fullName, "/")
	if !found {
		return "", "", false
	}
	service, method, found = strings.Cut(rest, "/")
	if !found || !protoreflect.FullName(service).IsValid() || !protoreflect.Name(method).IsValid() {
		return "", "", false
	}
	return service, method, true
}

// Method returns the descriptor of a method by its full name
// ("/pkg.Service/Method"), or nil when no source knows it or its
// reflection lookup failed. It waits at most Config.ReflectionTimeout
// for a lookup.
func (s *Schemas) Method(fullName string) protoreflect.MethodDescriptor {
	md, _ := s.Lookup(context.Background(), fullName)
	return md
}

// Lookup is Method that says why a method has no descriptor. ctx bounds
// the wait for a reflection lookup (never beyond
// Config.ReflectionTimeout); the lookup itself goes on for the callers
// that share it.
func (s *Schemas) Lookup(ctx context.Context, fullName string) (protoreflect.MethodDescriptor, error) {
	if s == nil {
		return nil, errors.New("no descriptor sources")
	}
	if md, ok := s.methods.Load(fullName); ok {
		return md.(protoreflect.MethodDescriptor), nil
	}
	svcName, name, ok := SplitMethod(fullName)
	if !ok {
		return nil, fmt.Errorf("%q is not a gRPC method name: want /package.Service/Method", fullName)
	}
	svc, err := s.service(ctx, svcName)
	if err != nil {
		return nil, err
	}
	md := svc.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		return nil, fmt.Errorf("service %s has no method %s", svcName, name)
	}
	s.methods.Store(fullName, md)
	return md, nil
}

// service finds a service in the files, then through reflection.
func (s *Schemas) service(ctx context.Context, name string) (protoreflect.ServiceDescriptor, error) {
	for _, f := range s.static {
		if d, err := f.FindDescriptorByName(protoreflect.FullName(name)); err == nil {
			if sd, ok := d.(protoreflect.ServiceDescriptor); ok {
				return sd, nil
			}
			return nil, fmt.Errorf("%s is a %s, not a service", name, kindOf(d))
		}
	}
	if s.refl == nil {
		if len(s.static) == 0 {
			return nil, fmt.Errorf("service %s: no descriptor sources are configured", name)
		}
		return nil, fmt.Errorf("service %s is in no descriptor set or .proto file", name)
	}
	s.mu.Lock()
	l := s.services[name]
	s.mu.Unlock()
	if l != nil && (l.svc != nil || time.Now().Before(l.retry)) {
		return l.svc, l.err
	}
	ch := s.group.DoChan(name, func() (any, error) { return s.reflect(name), nil })
	select {
	case res := <-ch:
		l := res.Val.(*lookup)
		return l.svc, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("service %s: reflection lookup: %w", name, ctx.Err())
	}
}

// reflect looks a service up through reflection, remembers the outcome
// and logs the first failure.
func (s *Schemas) reflect(name string) *lookup {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		return &lookup{err: fmt.Errorf("service %s: %d reflection lookups are already in flight", name, maxLookups)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	l := &lookup{}
	l.svc, l.err = s.reflectService(ctx, name)
	if l.err != nil {
		l.err = fmt.Errorf("service %s: reflection lookup: %w", name, l.err)
		l.retry = time.Now().Add(retryFailed)
	}
	s.mu.Lock()
	prev := s.services[name]
	if len(s.services) >= maxServices && prev == nil {
		for k, v := range s.services {
			if v.svc == nil {
				delete(s.services, k)
			}
		}
	}
	if len(s.services) < maxServices || prev != nil {
		s.services[name] = l
	}
	s.mu.Unlock()
	if l.err != nil && prev == nil {
		s.log.Warn("grpc: no descriptor for a service; its messages are compared by field number", "service", name, "err", l.err)
	}
	return l
}

func (s *Schemas) reflectService(ctx context.Context, name string) (protoreflect.ServiceDescriptor, error) {
	fds, err := s.refl.files(ctx, name)
	if err != nil {
		return nil, err
	}
	files, err := buildFiles(fds)
	if err != nil {
		return nil, err
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("the server's files do not define it: %w", err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not a service", name, kindOf(d))
	}
	return sd, nil
}

func kindOf(d protoreflect.Descriptor) string {
	switch d.(type) {
	case protoreflect.MessageDescriptor:
		return "message"
	case protoreflect.EnumDescriptor:
		return "enum"
	case protoreflect.FieldDescriptor:
		return "field"
	case protoreflect.MethodDescriptor:
		return "method"
	}
	return "descriptor"
}
