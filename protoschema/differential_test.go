package protoschema

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/grpctest"
)

// TestDifferentialSources: compare reads the same pairs of real interop
// answers into the same differences whether the descriptors come from a
// descriptor set, from .proto files compiled at start or from the
// server's reflection, and into other ones (by field number) without
// descriptors.
func TestDifferentialSources(t *testing.T) {
	t.Parallel()
	srv := grpctest.Start(t, grpctest.ReflectionV1)
	client := testgrpc.NewTestServiceClient(srv.Dial(t))
	ctx := context.Background()

	unary := func(size int32, edit func(*testgrpc.SimpleResponse)) []byte {
		resp, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseSize: size})
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(resp)
		}
		return frames(marshal(t, resp))
	}
	stream := func(sizes ...int32) []byte {
		var params []*testgrpc.ResponseParameters
		for _, s := range sizes {
			params = append(params, &testgrpc.ResponseParameters{Size: s})
		}
		st, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: params})
		if err != nil {
			t.Fatal(err)
		}
		var msgs [][]byte
		for {
			m, err := st.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, marshal(t, m))
		}
		return frames(msgs...)
	}
	withUnknown := func(b []byte) []byte { // a field the descriptors do not know
		msg := b[5:]
		msg = protowire.AppendTag(slices.Clone(msg), 42, protowire.VarintType)
		return frames(protowire.AppendVarint(msg, 7))
	}
	base := unary(4, nil)
	pairs := []struct {
		name, method string
		p, c         []byte
	}{
		{"a longer payload", unaryCall, base, unary(6, nil)},
		{"a field set", unaryCall, base, unary(4, func(r *testgrpc.SimpleResponse) { r.Username = "ada"; r.ServerId = "s-2" })},
		{"an enum", unaryCall, base, unary(4, func(r *testgrpc.SimpleResponse) {
			r.GrpclbRouteType = testgrpc.GrpclbRouteType_GRPCLB_ROUTE_TYPE_BACKEND
		})},
		{"an unknown field", unaryCall, base, withUnknown(base)},
		{"a stream, paired by position", streamCall, stream(1, 2, 3), stream(1, 5, 3)},
		{"a stream one message short", streamCall, stream(1, 2, 3), stream(1, 2)},
	}

	sources := []struct {
		name string
		cfg  Config
		opts Options
	}{
		{"descriptor set", Config{DescriptorSets: []string{grpctest.DescriptorSet(t)}}, Options{}},
		{"proto files", Config{ProtoFiles: []string{grpctest.ProtoFile}}, Options{Dir: grpctest.ProtoDir(t)}},
		{"reflection", Config{Reflection: true}, Options{Conn: srv.Dial(t)}},
	}
	results := map[string][][]string{} // source -> differences per pair
	for _, src := range sources {
		s, err := Load(ctx, src.cfg, src.opts)
		if err != nil {
			t.Fatalf("%s: %v", src.name, err)
		}
		results[src.name] = judge(t, compare.Config{Schemas: s}, pairs)
	}
	results["none"] = judge(t, compare.Config{}, pairs)

	want := results["descriptor set"]
	for i, p := range pairs {
		if len(want[i]) == 0 {
			t.Errorf("%s: no difference found", p.name)
		}
		for _, src := range []string{"proto files", "reflection"} {
			if !slices.Equal(results[src][i], want[i]) {
				t.Errorf("%s: %s found %v, the descriptor set %v", p.name, src, results[src][i], want[i])
			}
		}
		byNumber := p.name == "an unknown field" || p.name == "a stream one message short" // paths without names
		if slices.Equal(results["none"][i], want[i]) && !byNumber {
			t.Errorf("%s: by field number too %v: the descriptors were not used", p.name, want[i])
		}
	}
	for i, w := range []string{"$.payload.body changed", "$.server_id changed", "$.grpclb_route_type changed", "$.42 added",
		"$[1].payload.body changed", "$[2] removed"} {
		if !slices.Contains(want[i], w) {
			t.Errorf("%s: %v, want %q among them", pairs[i].name, want[i], w)
		}
	}
}

// judge compares each pair with cfg and lists its body differences as
// "path kind".
func judge(t *testing.T, cfg compare.Config, pairs []struct {
	name, method string
	p, c         []byte
}) [][]string {
	t.Helper()
	e, err := compare.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, p := range pairs {
		res := e.Compare(&exchange.Exchange{
			Request:   exchange.Request{Method: "POST", URL: p.method, Header: http.Header{"Content-Type": {"application/grpc"}}},
			Primary:   grpcAnswer(p.p),
			Candidate: grpcAnswer(p.c),
		})
		if res.Outcome != compare.Compared || len(res.Status) > 0 {
			t.Fatalf("%s: %s, status %v", p.name, res.Outcome, res.Status)
		}
		var ds []string
		for _, d := range res.Body {
			ds = append(ds, fmt.Sprintf("%s %s", d.Path, d.Kind))
		}
		out = append(out, ds)
	}
	return out
}

func grpcAnswer(body []byte) exchange.Response {
	return exchange.Response{Status: 200, Header: http.Header{"Content-Type": {"application/grpc"}},
		Trailer: http.Header{"Grpc-Status": {"0"}}, Body: body, Size: int64(len(body))}
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frames(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint32(append(out, 0), uint32(len(m)))
		out = append(out, m...)
	}
	return out
}
