package grpctest

import (
	"context"
	"math/rand/v2"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// Variant is the interop TestService with the differences a parallel run
// is meant to find: a field of its own, a field that differs on every
// call, an error for one kind of request, or no answer at all. The zero
// value answers UnaryCall exactly as the interop service does.
type Variant struct {
	// ServerID, when set, fills SimpleResponse.server_id of every
	// UnaryCall answer.
	ServerID string
	// NoisyHostname fills SimpleResponse.hostname with a new random
	// value on every UnaryCall answer.
	NoisyHostname bool
	// NotFoundSize, when not 0, fails a UnaryCall that asks for a
	// response_size of that many bytes with NOT_FOUND.
	NotFoundSize int32
	// Hold, when not nil, makes every UnaryCall, StreamingOutputCall
	// and FullDuplexCall wait until it is closed or the call is
	// cancelled: a channel never closed is a server that hangs.
	Hold <-chan struct{}
	// Details, with NotFoundSize, adds a detail to the NOT_FOUND status
	// (sent as grpc-status-details-bin).
	Details bool
}

// Service returns the TestService v serves.
func (v Variant) Service() testgrpc.TestServiceServer {
	return &variant{TestServiceServer: interop.NewTestServer(), v: v}
}

type variant struct {
	testgrpc.TestServiceServer
	v Variant
}

func (s *variant) UnaryCall(ctx context.Context, in *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if err := s.hold(ctx); err != nil {
		return nil, err
	}
	if s.v.NotFoundSize != 0 && in.GetResponseSize() == s.v.NotFoundSize {
		st := status.New(codes.NotFound, "no such payload")
		if s.v.Details {
			if d, err := st.WithDetails(&testgrpc.Payload{Body: []byte("detail")}); err == nil {
				st = d
			}
		}
		return nil, st.Err()
	}
	out, err := s.TestServiceServer.UnaryCall(ctx, in)
	if err != nil {
		return nil, err
	}
	if s.v.ServerID != "" {
		out.ServerId = s.v.ServerID
	}
	if s.v.NoisyHostname {
		out.Hostname = "host-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	return out, nil
}

func (s *variant) StreamingOutputCall(in *testgrpc.StreamingOutputCallRequest, st testgrpc.TestService_StreamingOutputCallServer) error {
	if err := s.hold(st.Context()); err != nil {
		return err
	}
	return s.TestServiceServer.StreamingOutputCall(in, st)
}

func (s *variant) FullDuplexCall(st testgrpc.TestService_FullDuplexCallServer) error {
	if err := s.hold(st.Context()); err != nil {
		return err
	}
	return s.TestServiceServer.FullDuplexCall(st)
}

// hold waits for Hold to close, or fails when ctx ends first.
func (s *variant) hold(ctx context.Context) error {
	if s.v.Hold == nil {
		return nil
	}
	select {
	case <-s.v.Hold:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}
