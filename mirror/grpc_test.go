package mirror

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	gstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/grpctest"
	"github.com/understudy-dev/understudy/internal/testio"
)

// The gRPC tests run real grpc-go interop servers (internal/grpctest) as
// primary, secondary and candidate, and a grpc-go client in front of
// shadow's own listener (wire, h2c), beside a plain ReverseProxy in front
// of the same primary.

const (
	unaryCall     = "/grpc.testing.TestService/UnaryCall"
	streamingCall = "/grpc.testing.TestService/StreamingOutputCall"
	fullDuplex    = "/grpc.testing.TestService/FullDuplexCall"
)

// grpcURL is the base URL of a grpctest server.
func grpcURL(s *grpctest.Server) string { return "http://" + s.Addr }

// grpcFront serves a proxy for cfg on wire's listener and returns a
// TestService client to it.
func grpcFront(t *testing.T, cfg Config) (*Proxy, testgrpc.TestServiceClient) {
	t.Helper()
	p := newTestProxy(t, cfg)
	return p, testClient(t, wireFront(t, p))
}

// testClient dials base (http://host:port) in the clear.
func testClient(t *testing.T, base string) testgrpc.TestServiceClient {
	t.Helper()
	cc, err := grpc.NewClient(strings.TrimPrefix(base, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return testgrpc.NewTestServiceClient(cc)
}

// plainGRPCProxy is a plain ReverseProxy to primary over h2c, on wire's
// listener: the baseline shadow's client side must equal.
func plainGRPCProxy(t *testing.T, primary string) testgrpc.TestServiceClient {
	t.Helper()
	u, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Protocols: &http.Protocols{}}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport:     tr,
		FlushInterval: -1,
		ErrorLog:      discardLogLogger,
	}
	return testClient(t, wireFront(t, rp))
}

func ctxWait(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// messages splits a gRPC body into its messages' payloads.
func messages(t *testing.T, body []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(body) > 0 {
		if len(body) < 5 {
			t.Fatalf("a gRPC body ends inside a message prefix: % x", body)
		}
		n := int(binary.BigEndian.Uint32(body[1:]))
		if len(body) < 5+n {
			t.Fatalf("a gRPC body ends inside a message: want %d bytes, have %d", n, len(body)-5)
		}
		out = append(out, body[5:5+n])
		body = body[5+n:]
	}
	return out
}

// simpleResponse decodes an answer holding one SimpleResponse.
func simpleResponse(t *testing.T, r *exchange.Response) *testgrpc.SimpleResponse {
	t.Helper()
	msgs := messages(t, r.Body)
	if len(msgs) != 1 {
		t.Fatalf("%s answer: %d messages, want 1", r.Side, len(msgs))
	}
	m := new(testgrpc.SimpleResponse)
	if err := proto.Unmarshal(msgs[0], m); err != nil {
		t.Fatal(err)
	}
	return m
}

func grpcStatusOf(r *exchange.Response) string {
	if v := r.Trailer.Get("Grpc-Status"); v != "" {
		return v
	}
	return r.Header.Get("Grpc-Status") // a trailers-only answer
}

func TestGRPCUnaryMirrored(t *testing.T) {
	primary := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v1"}.Service())
	secondary := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v1"}.Service())
	candidate := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v2"}.Service())
	obs := newCollector()
	_, client := grpcFront(t, Config{Primary: grpcURL(primary), Secondary: grpcURL(secondary), Candidate: grpcURL(candidate), Observer: obs})

	got, err := client.UnaryCall(ctxWait(t), &testgrpc.SimpleRequest{ResponseSize: 8, FillServerId: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetServerId() != "v1" || len(got.GetPayload().GetBody()) != 8 {
		t.Errorf("client got %v, want the primary's answer (server_id v1, 8 bytes)", got)
	}
	x := obs.next(t)
	if x.Request.URL != unaryCall || x.Request.Method != http.MethodPost {
		t.Errorf("request %s %s, want POST %s", x.Request.Method, x.Request.URL, unaryCall)
	}
	if n := len(messages(t, x.Request.Body)); n != 1 {
		t.Errorf("request body: %d messages, want 1 (the frames as received)", n)
	}
	for _, r := range []*exchange.Response{&x.Primary, x.Secondary, &x.Candidate} {
		if !r.OK() || grpcStatusOf(r) != "0" {
			t.Fatalf("%s: error %q, grpc-status %q; want an OK answer with its trailers", r.Side, r.Error, grpcStatusOf(r))
		}
	}
	for side, want := range map[*exchange.Response]string{&x.Primary: "v1", x.Secondary: "v1", &x.Candidate: "v2"} {
		if id := simpleResponse(t, side).GetServerId(); id != want {
			t.Errorf("%s answer: server_id %q, want %q", side.Side, id, want)
		}
	}
	for _, s := range []*grpctest.Server{secondary, candidate} {
		calls := s.Calls()
		if len(calls) != 1 || calls[0].Method != unaryCall || calls[0].Metadata.Get("x-shadow-request")[0] != "1" {
			t.Errorf("copies received %+v, want one UnaryCall with the marker", calls)
		}
	}
}

// TestGRPCClientGetsThePrimarysCall runs the same calls through shadow
// and directly to the primary: answers, statuses with their messages and
// details, a trailers-only answer, header and trailer metadata must be
// the same.
func TestGRPCClientGetsThePrimarysCall(t *testing.T) {
	primary := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{NotFoundSize: 7, Details: true}.Service())
	candidate := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v2"}.Service())
	obs := newCollector()
	_, viaShadow := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate), Observer: obs})
	// The baseline is the primary itself: a plain ReverseProxy turns a
	// trailers-only answer into INTERNAL now and then (see grpcWriter).
	direct := testgrpc.NewTestServiceClient(primary.Dial(t))

	type outcome struct {
		Msgs             []proto.Message
		Code             codes.Code
		Message          string
		Details          []any
		Header, Trailer  metadata.MD
		StreamedMessages int
	}
	echo := metadata.Pairs("x-grpc-test-echo-initial", "hello", "x-grpc-test-echo-trailing-bin", "\x00\x01trail")
	calls := map[string]func(c testgrpc.TestServiceClient) outcome{
		"ok": func(c testgrpc.TestServiceClient) outcome {
			var o outcome
			m, err := c.UnaryCall(metadata.NewOutgoingContext(ctxWait(t), echo), &testgrpc.SimpleRequest{ResponseSize: 16},
				grpc.Header(&o.Header), grpc.Trailer(&o.Trailer))
			o.Msgs = append(o.Msgs, m)
			st := gstatus.Convert(err)
			o.Code, o.Message, o.Details = st.Code(), st.Message(), st.Details()
			return o
		},
		"echoed status (trailers only)": func(c testgrpc.TestServiceClient) outcome {
			var o outcome
			_, err := c.UnaryCall(ctxWait(t), &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: 9, Message: "précondition: ÷"}},
				grpc.Header(&o.Header), grpc.Trailer(&o.Trailer))
			st := gstatus.Convert(err)
			o.Code, o.Message = st.Code(), st.Message()
			return o
		},
		"status with details": func(c testgrpc.TestServiceClient) outcome {
			var o outcome
			_, err := c.UnaryCall(ctxWait(t), &testgrpc.SimpleRequest{ResponseSize: 7}, grpc.Trailer(&o.Trailer))
			st := gstatus.Convert(err)
			o.Code, o.Message, o.Details = st.Code(), st.Message(), st.Details()
			return o
		},
		"unimplemented": func(c testgrpc.TestServiceClient) outcome {
			var o outcome
			_, err := c.UnimplementedCall(ctxWait(t), &testgrpc.Empty{})
			o.Code = gstatus.Code(err)
			return o
		},
		"server stream": func(c testgrpc.TestServiceClient) outcome {
			var o outcome
			st, err := c.StreamingOutputCall(ctxWait(t), &testgrpc.StreamingOutputCallRequest{
				ResponseParameters: []*testgrpc.ResponseParameters{{Size: 3}, {Size: 5}, {Size: 7}}})
			if err != nil {
				t.Fatal(err)
			}
			for {
				m, err := st.Recv()
				if err != nil {
					o.Code = gstatus.Code(err)
					if errors.Is(err, io.EOF) {
						o.Code = codes.OK
					}
					break
				}
				o.Msgs = append(o.Msgs, m)
			}
			return o
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			want, got := call(direct), call(viaShadow)
			// Go's HTTP/2 server adds a date and, to an answer without a
			// body, content-length: 0, as any Go proxy does; a trailers-only
			// answer's headers are its trailers.
			for _, o := range []*outcome{&want, &got} {
				for _, k := range []string{"date", "content-length"} {
					o.Header.Delete(k)
					o.Trailer.Delete(k)
				}
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("through shadow (+) vs directly (-):\n%s", diff)
			}
			if name == "status with details" && len(got.Details) != 1 {
				t.Errorf("details %v, want the primary's one", got.Details)
			}
			if name == "echoed status (trailers only)" && (got.Code != codes.FailedPrecondition || got.Message != "précondition: ÷") {
				t.Errorf("status %v %q, want FAILED_PRECONDITION with the message as sent", got.Code, got.Message)
			}
		})
	}
	for range calls {
		if x := obs.next(t); x.Candidate.Error != "" {
			t.Errorf("%s: candidate failed: %s", x.Request.URL, x.Candidate.Error)
		}
	}
}

func TestGRPCServerStreamMirrored(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	candidate := grpctest.Start(t, grpctest.NoReflection)
	obs := newCollector()
	_, client := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate), Observer: obs})
	st, err := client.StreamingOutputCall(ctxWait(t), &testgrpc.StreamingOutputCallRequest{
		ResponseParameters: []*testgrpc.ResponseParameters{{Size: 1}, {Size: 2}, {Size: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		if _, err := st.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if n != 3 {
		t.Fatalf("client got %d messages, want 3", n)
	}
	x := obs.next(t)
	if x.Request.URL != streamingCall {
		t.Errorf("request %s, want %s", x.Request.URL, streamingCall)
	}
	for _, r := range []*exchange.Response{&x.Primary, &x.Candidate} {
		if got := len(messages(t, r.Body)); got != 3 || grpcStatusOf(r) != "0" {
			t.Errorf("%s answer: %d messages, grpc-status %q; want 3 and 0", r.Side, got, grpcStatusOf(r))
		}
	}
}

// TestGRPCBidiPassedThrough has an interactive bidi call (each message
// waits for the answer to the one before) go through shadow: it works as
// it does directly, and is not mirrored, unless its route opts in; then
// the copy is sent once the client has half-closed.
func TestGRPCBidiPassedThrough(t *testing.T) {
	for _, optIn := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "grpc_streams"}[optIn], func(t *testing.T) {
			primary := grpctest.Start(t, grpctest.NoReflection)
			candidate := grpctest.Start(t, grpctest.NoReflection)
			obs := newCollector()
			cfg := Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate), Observer: obs}
			if optIn {
				cfg.Routes = []Route{{Path: fullDuplex, GRPCStreams: true}}
			}
			p, client := grpcFront(t, cfg)
			st, err := client.FullDuplexCall(ctxWait(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int32{4, 9, 2} {
				if err := st.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: []*testgrpc.ResponseParameters{{Size: size}}}); err != nil {
					t.Fatal(err)
				}
				m, err := st.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if got := int32(len(m.GetPayload().GetBody())); got != size {
					t.Fatalf("answer of %d bytes, want %d", got, size)
				}
			}
			if err := st.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Recv(); !errors.Is(err, io.EOF) {
				t.Fatalf("end of stream: %v, want io.EOF", err)
			}
			if !optIn {
				p.Close() // drains the workers: a queued copy would be sent
				if n := candidate.CallsTo(fullDuplex); n != 0 {
					t.Errorf("candidate got %d calls, want none", n)
				}
				if s := p.Stats(); s.Skipped["grpc_stream"] != 1 || s.Mirrored != 0 {
					t.Errorf("skipped %v, mirrored %d; want one grpc_stream skip", s.Skipped, s.Mirrored)
				}
				obs.none(t)
				return
			}
			x := obs.next(t)
			if got := len(messages(t, x.Request.Body)); got != 3 {
				t.Errorf("recorded %d client messages, want 3", got)
			}
			for _, r := range []*exchange.Response{&x.Primary, &x.Candidate} {
				if got := len(messages(t, r.Body)); got != 3 || grpcStatusOf(r) != "0" {
					t.Errorf("%s answer: %d messages, grpc-status %q (%s); want 3 and 0", r.Side, got, grpcStatusOf(r), r.Error)
				}
			}
		})
	}
}

// TestGRPCHungCandidate: a candidate that never answers costs the client
// nothing: every call is answered, as through a plain proxy, while the
// copies are still waiting; they end at candidate_timeout as timeouts.
func TestGRPCHungCandidate(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	hold := make(chan struct{})
	defer close(hold)
	candidate := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{Hold: hold}.Service())
	obs := newCollector()
	p, viaShadow := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate), Observer: obs,
		CandidateTimeout: 2 * wait, Workers: 2, QueueSize: 2})
	viaPlain := plainGRPCProxy(t, grpcURL(primary))
	const calls = 8 // twice the workers and the queue: the rest are dropped
	for i := range calls {
		req := &testgrpc.SimpleRequest{ResponseSize: int32(i + 1)}
		want, err := viaPlain.UnaryCall(ctxWait(t), req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := viaShadow.UnaryCall(ctxWait(t), req)
		if err != nil {
			t.Fatalf("call %d through shadow: %v", i, err)
		}
		if !proto.Equal(got, want) {
			t.Errorf("call %d: got %v, want %v", i, got, want)
		}
	}
	s := p.Stats()
	if s.Completed != 0 {
		t.Fatalf("%d copies completed: the candidate was meant to hang", s.Completed)
	}
	// At most the workers and the queue hold copies; the rest are dropped
	// and counted, their bodies given back.
	if s.Mirrored+s.Dropped != calls || s.Mirrored > 4 || s.BufferedBytes > 4*grpcFirstChunk {
		t.Errorf("mirrored %d, dropped %d of %d calls, %d body bytes held; want at most 4 mirrored, the rest dropped",
			s.Mirrored, s.Dropped, calls, s.BufferedBytes)
	}
	testio.Eventually(t, "the workers' copies reach the hung candidate", func() bool { return candidate.CallsTo(unaryCall) == 2 })
	if n := candidate.CallsTo(unaryCall); n != 2 {
		t.Errorf("candidate holds %d calls, want 2 (one per worker)", n)
	}
}

// TestGRPCTimeoutPropagates: the candidate's grpc-timeout is the
// client's, less the wait, at most candidate_timeout; a call without one
// is copied without one.
func TestGRPCTimeoutPropagates(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	cand := newBackendWith(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", "12")
	}, startH2C)
	obs := newCollector()
	const candidateTimeout = 3 * time.Second
	_, client := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: cand.URL, Observer: obs, CandidateTimeout: candidateTimeout})
	for _, tc := range []struct {
		name     string
		deadline time.Duration // 0: none
		max      time.Duration
	}{
		{"no deadline", 0, 0},
		{"longer than candidate_timeout", time.Hour, candidateTimeout},
		{"shorter", 2 * time.Second, 2 * time.Second},
	} {
		ctx := context.Background() // no deadline: the server answers at once
		if tc.deadline > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tc.deadline)
			defer cancel()
		}
		if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
			t.Fatal(err)
		}
		got := cand.next(t).Header.Get("Grpc-Timeout")
		obs.next(t)
		if tc.deadline == 0 {
			if got != "" {
				t.Errorf("%s: candidate got grpc-timeout %q, want none", tc.name, got)
			}
			continue
		}
		d, ok := parseGRPCTimeout(got)
		if !ok || d <= 0 || d > tc.max {
			t.Errorf("%s: candidate got grpc-timeout %q, want one in (0, %s]", tc.name, got, tc.max)
		}
	}
}

// startH2C starts a test server speaking h2c (and HTTP/1.1).
func startH2C(s *httptest.Server) {
	s.Config.Protocols = &http.Protocols{}
	s.Config.Protocols.SetHTTP1(true)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
}

// TestGRPCBoundedAnswersKeepStatus: a candidate answer over
// max_response_bytes is kept up to it, and read on (dropped) to its
// trailers, so its gRPC status is known.
func TestGRPCBoundedAnswersKeepStatus(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	candidate := grpctest.Start(t, grpctest.NoReflection)
	obs := newCollector()
	const limit = 256
	_, client := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate), Observer: obs, MaxResponseBytes: limit})
	const size = 64 << 10
	m, err := client.UnaryCall(ctxWait(t), &testgrpc.SimpleRequest{ResponseSize: size})
	if err != nil || len(m.GetPayload().GetBody()) != size {
		t.Fatalf("client got %d bytes, %v; want the whole answer", len(m.GetPayload().GetBody()), err)
	}
	x := obs.next(t)
	for _, r := range []*exchange.Response{&x.Primary, &x.Candidate} {
		if len(r.Body) != limit || !r.Truncated || r.Size <= size || grpcStatusOf(r) != "0" {
			t.Errorf("%s: kept %d bytes of %d (truncated %v), grpc-status %q (%s); want %d kept, the size, and status 0",
				r.Side, len(r.Body), r.Size, r.Truncated, grpcStatusOf(r), r.Error, limit)
		}
	}
}

// TestGRPCBodyOverLimit: a request message over max_body_bytes is
// forwarded whole and not mirrored, and its buffer is given back.
func TestGRPCBodyOverLimit(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	candidate := grpctest.Start(t, grpctest.NoReflection)
	obs := newCollector()
	p, client := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate), Observer: obs, MaxBodyBytes: 1 << 10})
	big := make([]byte, 64<<10)
	m, err := client.UnaryCall(ctxWait(t), &testgrpc.SimpleRequest{ResponseSize: 3, Payload: &testgrpc.Payload{Body: big}})
	if err != nil || len(m.GetPayload().GetBody()) != 3 {
		t.Fatalf("client got %v, %v", m, err)
	}
	p.Close()
	s := p.Stats()
	if s.Skipped["body_size"] != 1 || s.Mirrored != 0 || s.BufferedBytes != 0 {
		t.Errorf("skipped %v, mirrored %d, buffered %d; want one body_size skip and nothing held", s.Skipped, s.Mirrored, s.BufferedBytes)
	}
	if n := candidate.CallsTo(unaryCall); n != 0 {
		t.Errorf("candidate got %d calls", n)
	}
}

func TestGRPCTimeoutFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1S", time.Second, true}, {"100m", 100 * time.Millisecond, true}, {"5H", 5 * time.Hour, true},
		{"99999999n", 99999999, true}, {"2M", 2 * time.Minute, true}, {"7u", 7 * time.Microsecond, true},
		{"", 0, false}, {"S", 0, false}, {"123456789S", 0, false}, {"1x", 0, false}, {"-1S", 0, false},
	} {
		got, ok := parseGRPCTimeout(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseGRPCTimeout(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for _, d := range []time.Duration{1, 99999999, 100000000, 3 * time.Second, 1500 * time.Millisecond, 1000 * time.Hour} {
		s := formatGRPCTimeout(d)
		back, ok := parseGRPCTimeout(s)
		if !ok || back < d {
			t.Errorf("formatGRPCTimeout(%v) = %q, read back as %v: want at least %v", d, s, back, d)
		}
	}
}

// TestGRPCTrailersOnlyIntact sends many calls answered trailers-only (an
// error status, no message) through shadow: every one must reach the
// client with its status. Through a plain ReverseProxy (FlushInterval -1)
// some come out as INTERNAL ("server closed the stream without sending
// trailers"): its flush timer can send the headers before the end of the
// empty body (see grpcWriter); the count is logged for comparison.
func TestGRPCTrailersOnlyIntact(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	candidate := grpctest.Start(t, grpctest.NoReflection)
	_, viaShadow := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate)})
	viaPlain := plainGRPCProxy(t, grpcURL(primary))
	const calls = 200
	wrong := func(c testgrpc.TestServiceClient) int {
		n := 0
		for range calls {
			_, err := c.UnaryCall(ctxWait(t), &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.NotFound), Message: "gone"}})
			if st := gstatus.Convert(err); st.Code() != codes.NotFound || st.Message() != "gone" {
				n++
			}
		}
		return n
	}
	if n := wrong(viaShadow); n != 0 {
		t.Errorf("through shadow, %d of %d trailers-only answers lost their status", n, calls)
	}
	t.Logf("through a plain ReverseProxy, %d of %d trailers-only answers lost their status", wrong(viaPlain), calls)
}

// TestGRPCEveryUnaryCallMirrored: each unary call is mirrored, whether
// the primary answers before or after its transport has read the
// client's half-close.
func TestGRPCEveryUnaryCallMirrored(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	candidate := grpctest.Start(t, grpctest.NoReflection)
	p, client := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: grpcURL(candidate)})
	const calls = 300
	for i := range calls {
		req := &testgrpc.SimpleRequest{ResponseSize: int32(i % 16)}
		if i%2 == 1 {
			req.ResponseStatus = &testgrpc.EchoStatus{Code: int32(codes.NotFound)}
		}
		_, _ = client.UnaryCall(ctxWait(t), req)
	}
	if _, err := p.Shutdown(ctxWait(t)); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Mirrored != calls || s.Completed != calls {
		t.Errorf("mirrored %d, completed %d of %d calls; skipped %v", s.Mirrored, s.Completed, calls, s.Skipped)
	}
}

// TestGRPCHostileCandidates: a candidate that resets its streams, answers
// garbage, never sends trailers or refuses connections costs the client
// nothing: its unary and streaming calls get what the primary gives
// directly, and the copies record the candidate's failure.
func TestGRPCHostileCandidates(t *testing.T) {
	primary := grpctest.Start(t, grpctest.NoReflection)
	direct := testgrpc.NewTestServiceClient(primary.Dial(t))
	hostile := map[string]http.HandlerFunc{
		"reset": func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler) // RST_STREAM
		},
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			_, _ = io.WriteString(w, "\xff\xff\xff\xff\xffnot a gRPC message at all")
		},
		"no trailers": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			_, _ = w.Write([]byte{0, 0, 0, 0, 0})
		},
	}
	candidates := map[string]string{"refused": deadAddr(t)}
	for name, h := range hostile {
		candidates[name] = newBackendWith(t, h, startH2C).URL
	}
	for name, cand := range candidates {
		t.Run(name, func(t *testing.T) {
			obs := newCollector()
			_, viaShadow := grpcFront(t, Config{Primary: grpcURL(primary), Candidate: cand, Observer: obs})
			unary := func(c testgrpc.TestServiceClient, req *testgrpc.SimpleRequest) (proto.Message, codes.Code) {
				m, err := c.UnaryCall(ctxWait(t), req)
				return m, gstatus.Code(err)
			}
			for _, req := range []*testgrpc.SimpleRequest{{ResponseSize: 9}, {ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.Aborted)}}} {
				wm, wc := unary(direct, req)
				gm, gc := unary(viaShadow, req)
				if gc != wc || !proto.Equal(gm, wm) {
					t.Errorf("through shadow %v %v, directly %v %v", gc, gm, wc, wm)
				}
				x := obs.next(t)
				if x.Candidate.OK() && grpcStatusOf(&x.Candidate) == grpcStatusOf(&x.Primary) && name != "no trailers" {
					t.Errorf("the %s candidate's answer recorded as fine: %+v", name, x.Candidate)
				}
			}
			st, err := viaShadow.StreamingOutputCall(ctxWait(t), &testgrpc.StreamingOutputCallRequest{
				ResponseParameters: []*testgrpc.ResponseParameters{{Size: 1}, {Size: 2}}})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for ; ; n++ {
				if _, err := st.Recv(); err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("stream through shadow: %v", err)
					}
					break
				}
			}
			if n != 2 {
				t.Errorf("stream through shadow: %d messages, want 2", n)
			}
			obs.next(t)
		})
	}
}
