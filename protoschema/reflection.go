package protoschema

//lint:file-ignore SA1019 v1alpha is deprecated, and it is what servers without v1 answer: the fallback.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	rv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// maxReflectedFiles bounds the files one reflection lookup fetches: the
// file that defines the service and its imports.
const maxReflectedFiles = 512

// reflector asks a server for descriptors through gRPC server reflection:
// the v1 service, or v1alpha once the server has said it has no v1.
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

func (r *reflector) open(ctx context.Context, alpha bool) (reflectionStream, error) {
	if alpha {
		s, err := rv1alpha.NewServerReflectionClient(r.conn).ServerReflectionInfo(ctx)
		return v1alphaStream{s}, err
	}
	s, err := rv1.NewServerReflectionClient(r.conn).ServerReflectionInfo(ctx)
	return v1Stream{s}, err
}

// v1Stream speaks grpc.reflection.v1.
type v1Stream struct {
	s grpc.BidiStreamingClient[rv1.ServerReflectionRequest, rv1.ServerReflectionResponse]
}

func (v v1Stream) ask(symbol, file string) ([][]byte, error) {
	req := &rv1.ServerReflectionRequest{MessageRequest: &rv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}}
	if file != "" {
		req.MessageRequest = &rv1.ServerReflectionRequest_FileByFilename{FileByFilename: file}
	}
	if err := v.s.Send(req); err != nil {
		return nil, recvErr(v.s.RecvMsg(new(rv1.ServerReflectionResponse)), err)
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

// v1alphaStream speaks grpc.reflection.v1alpha, the same protocol.
type v1alphaStream struct {
	s grpc.BidiStreamingClient[rv1alpha.ServerReflectionRequest, rv1alpha.ServerReflectionResponse]
}

func (v v1alphaStream) ask(symbol, file string) ([][]byte, error) {
	req := &rv1alpha.ServerReflectionRequest{MessageRequest: &rv1alpha.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}}
	if file != "" {
		req.MessageRequest = &rv1alpha.ServerReflectionRequest_FileByFilename{FileByFilename: file}
	}
	if err := v.s.Send(req); err != nil {
		return nil, recvErr(v.s.RecvMsg(new(rv1alpha.ServerReflectionResponse)), err)
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

// recvErr returns the stream's status when a Send failed: grpc-go's Send
// returns io.EOF once the server has ended the stream, and the reason
// (Unimplemented, for a server without the service) is what RecvMsg
// says.
func recvErr(recv, send error) error {
	if recv != nil {
		return recv
	}
	return send
}
