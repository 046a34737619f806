package protoschema

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// maxReflectedFiles bounds the files one reflection lookup fetches: the
// file that defines the service and its imports.
const maxReflectedFiles = 512

// reflector asks a server for descriptors through gRPC server reflection
// (grpc-go's generated v1 client types): the v1 service, or v1alpha once
// the server has said it has no v1.
type reflector struct {
	conn  grpc.ClientConnInterface
	alpha atomic.Bool // the server answered v1 with Unimplemented
}

// reflectionStream is one reflection stream of either version.
type reflectionStream interface {
	// ask sends one request, for the file that defines symbol or for the
	// file named file, and returns the serialized files of the answer.
	ask(symbol, file string) ([][]byte, error)
}

// files returns the descriptors of the file that defines symbol and of
// every file it imports, as far as the server has them.
func (r *reflector) files(ctx context.Context, symbol string) ([]*descriptorpb.FileDescriptorProto, error) {
	if !r.alpha.Load() {
		fds, err := r.fetch(ctx, symbol, false)
		if status.Code(err) != codes.Unimplemented {
			return fds, err
		}
		r.alpha.Store(true)
	}
	return r.fetch(ctx, symbol, true)
}

// fetch asks for symbol's file, then for each import the answers did not
// hold, on one stream.
func (r *reflector) fetch(ctx context.Context, symbol string, alpha bool) ([]*descriptorpb.FileDescriptorProto, error) {
	ctx, cancel := context.WithCancel(ctx) // ends the stream, whatever happens
	defer cancel()
	st, err := r.open(ctx, alpha)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	var out []*descriptorpb.FileDescriptorProto
	add := func(raw [][]byte) error {
		for _, b := range raw {
			fd := new(descriptorpb.FileDescriptorProto)
			if err := proto.Unmarshal(b, fd); err != nil {
				return fmt.Errorf("decode a file descriptor the server sent: %w", err)
			}
			if have[fd.GetName()] {
				continue
			}
			if len(have) == maxReflectedFiles {
				return fmt.Errorf("the service's files import more than %d files", maxReflectedFiles)
			}
			have[fd.GetName()] = true
			out = append(out, fd)
		}
		return nil
	}
	raw, err := st.ask(symbol, "")
	if err != nil {
		return nil, err
	}
	if err := add(raw); err != nil {
		return nil, err
	}
	for i := 0; i < len(out); i++ { // out grows as imports arrive
		for _, dep := range out[i].GetDependency() {
			if have[dep] {
				continue
			}
			raw, err := st.ask("", dep)
			if err != nil {
				return nil, fmt.Errorf("file %q: %w", dep, err)
			}
			if err := add(raw); err != nil {
				return nil, err
			}
			if !have[dep] {
				return nil, fmt.Errorf("asked for file %q, the server sent others", dep)
			}
		}
	}
	return out, nil
}

// v1alphaMethod is the v1alpha reflection service's one method. Its
// messages are v1's, field for field, so v1's types speak to it.
const v1alphaMethod = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

func (r *reflector) open(ctx context.Context, alpha bool) (reflectionStream, error) {
	method := rv1.ServerReflection_ServerReflectionInfo_FullMethodName
	if alpha {
		method = v1alphaMethod
	}
	cs, err := r.conn.NewStream(ctx, &rv1.ServerReflection_ServiceDesc.Streams[0], method)
	if err != nil {
		return nil, err
	}
	return stream{&grpc.GenericClientStream[rv1.ServerReflectionRequest, rv1.ServerReflectionResponse]{ClientStream: cs}}, nil
}

// stream is one reflection stream, of either version.
type stream struct {
	s grpc.BidiStreamingClient[rv1.ServerReflectionRequest, rv1.ServerReflectionResponse]
}

func (v stream) ask(symbol, file string) ([][]byte, error) {
	req := &rv1.ServerReflectionRequest{MessageRequest: &rv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}}
	if file != "" {
		req.MessageRequest = &rv1.ServerReflectionRequest_FileByFilename{FileByFilename: file}
	}
	if err := v.s.Send(req); err != nil {
		// Send says io.EOF once the server has ended the stream; why
		// (Unimplemented, for a server without the service) RecvMsg says.
		if rerr := v.s.RecvMsg(new(rv1.ServerReflectionResponse)); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	resp, err := v.s.Recv()
	if err != nil {
		return nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage())
	}
	if fdr := resp.GetFileDescriptorResponse(); fdr != nil {
		return fdr.GetFileDescriptorProto(), nil
	}
	return nil, errors.New("the server answered with no file descriptors")
}
