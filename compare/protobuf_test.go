package compare

import (
	"bytes"
	"compress/gzip"
	"context"
	be "encoding/binary"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/understudy-dev/understudy/exchange"
)

// shopService compiles testdata/shop.proto once.
var shopService = sync.OnceValues(func() (protoreflect.ServiceDescriptor, error) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{"testdata"}})}
	files, err := c.Compile(context.Background(), "shop.proto")
	if err != nil {
		return nil, err
	}
	return files[0].Services().ByName("Orders"), nil
})

// methods is a MessageResolver over a fixed set of methods.
type methods map[string]protoreflect.MethodDescriptor

func (m methods) Method(name string) protoreflect.MethodDescriptor { return m[name] }

// shopSchemas resolves the shop's methods.
func shopSchemas(t testing.TB) methods {
	t.Helper()
	svc, err := shopService()
	if err != nil {
		t.Fatalf("compile shop.proto: %v", err)
	}
	out := methods{}
	for i := range svc.Methods().Len() {
		md := svc.Methods().Get(i)
		out["/"+string(svc.FullName())+"/"+string(md.Name())] = md
	}
	return out
}

const (
	getOrder    = "/shop.v1.Orders/GetOrder"
	watchOrders = "/shop.v1.Orders/WatchOrders"
)

// orderMsg encodes an Order written in protojson.
func orderMsg(t testing.TB, js string) []byte {
	t.Helper()
	md := shopSchemas(t)[getOrder].Output()
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatalf("order %s: %v", js, err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// frames writes messages as uncompressed gRPC frames.
func frames(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, 0)
		out = be.BigEndian.AppendUint32(out, uint32(len(m)))
		out = append(out, m...)
	}
	return out
}

// gzipFrame writes one message as a gzip-compressed frame.
func gzipFrame(t testing.TB, msg []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(msg)
	zw.Close()
	out := append([]byte{1}, be.BigEndian.AppendUint32(nil, uint32(buf.Len()))...)
	return append(out, buf.Bytes()...)
}

// grpcAnswer is a gRPC answer with its status in the trailers; hdr holds
// extra header name, value pairs.
func grpcAnswer(code int, body []byte, hdr ...string) exchange.Response {
	h := http.Header{"Content-Type": {"application/grpc"}}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return exchange.Response{Status: 200, Header: h, Trailer: http.Header{"Grpc-Status": {strconv.Itoa(code)}},
		Body: body, Size: int64(len(body)), Latency: time.Millisecond}
}

// grpcPair is an exchange of a gRPC call to method.
func grpcPair(method string, p, c exchange.Response) *exchange.Exchange {
	x := pairOf("POST", method, p, c)
	x.Request.Header.Set("Content-Type", "application/grpc")
	return x
}

func TestProtobufDiff(t *testing.T) {
	t.Parallel()
	const base = `{"id":"o-1","state":"PLACED","items":[{"sku":"a","qty":1,"unit_price":2.5},{"sku":"b","qty":2,"unit_price":3.1}],
		"labels":{"color":"red"},"stock":{"3":{"sku":"c","qty":9}},"total_cents":"12345678901234567","signature":"AQI=",
		"created_at":"2024-05-01T12:00:00Z","card":{"number":"4111","expiry_year":2030},"trace_id":"t-1",
		"parent":{"id":"p","card":{"number":"1"}}}`
	tests := []struct {
		name   string
		change string // fields to set on base, as protojson
		drop   []string
		norms  []Normalizer
		want   []brief
	}{
		{name: "equal after re-encoding", change: `{"labels":{"color":"red"}}`},
		{name: "a nested field", change: `{"items":[{"sku":"a","qty":1,"unit_price":2.5},{"sku":"b","qty":2,"unit_price":3.15}]}`,
			want: []brief{{"$.items[1].unit_price", Changed, "3.1", "3.15"}}},
		{name: "an enum", change: `{"state":"SHIPPED"}`, want: []brief{{"$.state", Changed, `"PLACED"`, `"SHIPPED"`}}},
		{name: "64-bit numbers keep every digit", change: `{"total_cents":"12345678901234568"}`,
			want: []brief{{"$.total_cents", Changed, "12345678901234567", "12345678901234568"}}},
		{name: "map entries by key", change: `{"labels":{"color":"blue"},"stock":{"3":{"sku":"c","qty":8}}}`,
			want: []brief{{"$.labels.color", Changed, `"red"`, `"blue"`}, {"$.stock.3.qty", Changed, "9", "8"}}},
		{name: "unset against set to the default", change: `{"note":""}`, want: []brief{{"$.note", Added, "", `""`}}},
		{name: "proto3 scalars without presence read as their default", drop: []string{"trace_id"},
			want: []brief{{"$.trace_id", Changed, `"t-1"`, `""`}}},
		{name: "a message field unset", drop: []string{"created_at"},
			want: []brief{{"$.created_at", Removed, `"2024-05-01T12:00:00Z"`, ""}}},
		{name: "a oneof set to another member is a type change", change: `{"paypal":{"email":"a@b.c"}}`, drop: []string{"card"},
			want: []brief{{"$.payment", TypeChanged, `{"card":{"expiry_year":2030,"number":"4111"}}`, `{"paypal":{"email":"a@b.c"}}`}}},
		{name: "a oneof member changed inside", change: `{"card":{"number":"4111","expiry_year":2031}}`,
			want: []brief{{"$.card.expiry_year", Changed, "2030", "2031"}}},
		{name: "a oneof in a nested message", change: `{"parent":{"id":"p","paypal":{"email":"x"}}}`,
			want: []brief{{"$.parent.payment", TypeChanged, `{"card":{"expiry_year":0,"number":"1"}}`, `{"paypal":{"email":"x"}}`}}},
		{name: "wrappers are their value", change: `{"coupon":"SAVE5"}`, want: []brief{{"$.coupon", Added, "", `"SAVE5"`}}},
		{name: "a timestamp is RFC 3339 text, normalizers apply", change: `{"created_at":"2024-05-01T12:00:07Z"}`,
			norms: []Normalizer{{Kind: Replace, Builtin: "rfc3339", Path: "$.created_at"}}},
		{name: "ignore applies", change: `{"trace_id":"t-2"}`, norms: []Normalizer{{Kind: Ignore, Path: "$.trace_id"}}},
		{name: "tolerance applies", change: `{"items":[{"sku":"a","qty":1,"unit_price":2.5},{"sku":"b","qty":2,"unit_price":3.1000001}]}`,
			norms: []Normalizer{{Kind: Tolerance, Path: "$.items[*].unit_price", Tolerance: 0.001}}},
		{name: "bytes are base64", change: `{"signature":"AQM="}`, want: []brief{{"$.signature", Changed, `"AQI="`, `"AQM="`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := orderMsg(t, base)
			c := orderMsg(t, mergeJSON(t, base, tt.change, tt.drop))
			e := mustEngine(t, Config{Schemas: shopSchemas(t), Normalizers: tt.norms})
			res := e.Compare(grpcPair(getOrder, grpcAnswer(0, frames(p)), grpcAnswer(0, frames(c))))
			if res.Outcome != Compared || len(res.Status)+len(res.Headers) > 0 {
				t.Fatalf("outcome %s, status %v, headers %v", res.Outcome, res.Status, res.Headers)
			}
			got := briefs(res.Body)
			if diff := cmp.Diff(tt.want, got); diff != "" && !(len(tt.want) == 0 && len(got) == 0) {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

// mergeJSON sets the fields of change on base and removes drop.
func mergeJSON(t testing.TB, base, change string, drop []string) string {
	t.Helper()
	md := shopSchemas(t)[getOrder].Output()
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(base), m); err != nil {
		t.Fatal(err)
	}
	if change != "" {
		ch := dynamicpb.NewMessage(md)
		if err := protojson.Unmarshal([]byte(change), ch); err != nil {
			t.Fatal(err)
		}
		ch.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			m.Set(fd, v)
			return true
		})
	}
	for _, name := range drop {
		m.Clear(md.Fields().ByName(protoreflect.Name(name)))
	}
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProtobufByFieldNumber(t *testing.T) {
	t.Parallel()
	p := orderMsg(t, `{"id":"o-1","items":[{"sku":"a","qty":1}],"card":{"number":"4111"},"total_cents":"5"}`)
	c := orderMsg(t, `{"id":"o-1","items":[{"sku":"a","qty":2}],"card":{"number":"4112"},"total_cents":"5"}`)
	for _, schemas := range []MessageResolver{nil, methods{}} { // none, or not knowing the method
		e := mustEngine(t, Config{Schemas: schemas, Normalizers: []Normalizer{{Kind: Ignore, Path: "$.11.1"}}})
		res := e.Compare(grpcPair(getOrder, grpcAnswer(0, frames(p)), grpcAnswer(0, frames(c))))
		want := []brief{{"$.3.2", Changed, "1", "2"}} // the card number, $.11.1, is ignored
		if diff := cmp.Diff(want, briefs(res.Body)); diff != "" {
			t.Errorf("schemas %v: differences (-want +got):\n%s", schemas, diff)
		}
		if got := res.Body[0].Field(); got != "$.3.2" {
			t.Errorf("field = %q", got)
		}
	}
}

func TestProtobufUnknownFields(t *testing.T) {
	t.Parallel()
	p := orderMsg(t, `{"id":"o-1"}`)
	c := protowire.AppendTag(slices.Clone(p), 99, protowire.VarintType)
	c = protowire.AppendVarint(c, 7)
	c = protowire.AppendTag(c, 98, protowire.BytesType)
	c = protowire.AppendBytes(c, []byte("new"))
	e := mustEngine(t, Config{Schemas: shopSchemas(t)})
	res := e.Compare(grpcPair(getOrder, grpcAnswer(0, frames(p)), grpcAnswer(0, frames(c))))
	want := []brief{{"$.98", Added, "", `"new"`}, {"$.99", Added, "", "7"}}
	if diff := cmp.Diff(want, briefs(res.Body)); diff != "" {
		t.Errorf("differences (-want +got):\n%s", diff)
	}
}

func TestProtobufStreams(t *testing.T) {
	t.Parallel()
	a, b, b2 := orderMsg(t, `{"id":"a"}`), orderMsg(t, `{"id":"b"}`), orderMsg(t, `{"id":"b2"}`)
	tests := []struct {
		name   string
		method string
		p, c   []byte
		want   []brief
	}{
		{"paired by position", watchOrders, frames(a, b), frames(a, b2), []brief{{"$[1].id", Changed, `"b"`, `"b2"`}}},
		{"a message more", watchOrders, frames(a), frames(a, b), []brief{{"$[1]", Added, "", `{"id":"b","signature":"","state":"STATE_UNSPECIFIED","total_cents":0,"trace_id":""}`}}},
		{"one message of a stream is still a list", watchOrders, frames(a), frames(b), []brief{{"$[0].id", Changed, `"a"`, `"b"`}}},
		{"no message against one", getOrder, frames(a), nil, []brief{{"$", Removed, `{"id":"a","signature":"","state":"STATE_UNSPECIFIED","total_cents":0,"trace_id":""}`, ""}}},
		{"by field number, a message against two", "/unknown.Svc/M", frames(a), frames(a, b), []brief{{"$[1]", Added, "", `{"1":"b"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, Config{Schemas: shopSchemas(t)})
			res := e.Compare(grpcPair(tt.method, grpcAnswer(0, tt.p), grpcAnswer(0, tt.c)))
			if diff := cmp.Diff(tt.want, briefs(res.Body)); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProtobufFrames(t *testing.T) {
	t.Parallel()
	msg := orderMsg(t, `{"id":"o-1","note":"hello"}`)
	other := orderMsg(t, `{"id":"o-2","note":"hello"}`)
	bomb := func() []byte { // 9 MiB of zeros in a few KiB
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(make([]byte, 9<<20))
		zw.Close()
		return append(append([]byte{1}, be.BigEndian.AppendUint32(nil, uint32(buf.Len()))...), buf.Bytes()...)
	}()
	tests := []struct {
		name       string
		p, c       exchange.Response
		wantBody   []brief
		wantHeader []string
	}{
		{name: "gzip against identity compares the messages",
			p: grpcAnswer(0, frames(msg)), c: grpcAnswer(0, gzipFrame(t, msg), "Grpc-Encoding", "gzip"),
			wantHeader: []string{"header.Grpc-Encoding"}},
		{name: "a gzip frame with a difference",
			p: grpcAnswer(0, frames(msg)), c: grpcAnswer(0, gzipFrame(t, other), "Grpc-Encoding", "gzip"),
			wantBody: []brief{{"$.id", Changed, `"o-1"`, `"o-2"`}}, wantHeader: []string{"header.Grpc-Encoding"}},
		{name: "a compressed frame without an encoding is not protobuf",
			p: grpcAnswer(0, frames(msg)), c: grpcAnswer(0, gzipFrame(t, msg)),
			wantBody: []brief{{"body", TypeChanged, "protobuf, 17 bytes", "application/grpc, 41 bytes"}}},
		{name: "a frame that decodes past the bound is not protobuf",
			p: grpcAnswer(0, bomb, "Grpc-Encoding", "gzip"), c: grpcAnswer(0, bomb[:len(bomb)-1], "Grpc-Encoding", "gzip"),
			wantBody: []brief{{"body", Changed, strconv.Itoa(len(bomb)) + " bytes", strconv.Itoa(len(bomb)-1) + " bytes"}}},
		{name: "a truncated frame is not protobuf",
			p: grpcAnswer(0, frames(msg)), c: grpcAnswer(0, frames(msg)[:10]),
			wantBody: []brief{{"body", TypeChanged, "protobuf, 17 bytes", "application/grpc, 10 bytes"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, Config{Schemas: shopSchemas(t)})
			res := e.Compare(grpcPair(getOrder, tt.p, tt.c))
			if diff := cmp.Diff(tt.wantBody, briefs(res.Body)); diff != "" && len(tt.wantBody)+len(res.Body) > 0 {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			var headers []string
			for _, d := range res.Headers {
				headers = append(headers, d.Path)
			}
			if !slices.Equal(headers, tt.wantHeader) {
				t.Errorf("headers = %v, want %v", headers, tt.wantHeader)
			}
		})
	}
}

func TestGRPCStatus(t *testing.T) {
	t.Parallel()
	msg := frames(orderMsg(t, `{"id":"o-1"}`))
	trailersOnly := func(code string) exchange.Response {
		return exchange.Response{Status: 200, Header: http.Header{"Content-Type": {"application/grpc"}, "Grpc-Status": {code},
			"Grpc-Message": {"order o-1 not found"}}}
	}
	plain := func(status int) exchange.Response { return textAnswer("text/plain", "upstream down") }
	tests := []struct {
		name string
		p, c exchange.Response
		want []brief
	}{
		{"OK against NOT_FOUND in the trailers", grpcAnswer(0, msg), grpcAnswer(5, nil), []brief{{"status", Changed, "OK", "NOT_FOUND"}}},
		{"trailers only", grpcAnswer(0, msg), trailersOnly("5"), []brief{{"status", Changed, "OK", "NOT_FOUND"}}},
		{"same status, one of trailers only", grpcAnswer(5, nil), trailersOnly("5"), nil},
		{"an HTTP error is the code gRPC maps it to", grpcAnswer(0, msg),
			func() exchange.Response { r := plain(503); r.Status = 503; return r }(),
			[]brief{{"status", Changed, "OK", "UNAVAILABLE (HTTP 503)"}}},
		{"HTTP 200 without grpc-status", grpcAnswer(0, msg), plain(200), []brief{{"status", Changed, "OK", "UNKNOWN (no grpc-status)"}}},
		{"a code the spec does not name", grpcAnswer(0, msg), grpcAnswer(42, msg), []brief{{"status", Changed, "OK", "CODE(42)"}}},
		{"HTTP statuses when neither is gRPC", answer(200, `{}`), answer(404, `{}`), []brief{{"status", Changed, "200", "404"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, Config{Schemas: shopSchemas(t)})
			res := e.Compare(grpcPair(getOrder, tt.p, tt.c))
			if diff := cmp.Diff(tt.want, briefs(res.Status)); diff != "" && len(tt.want)+len(res.Status) > 0 {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			if len(res.Status) > 0 != res.Differs && len(res.Body) == 0 {
				t.Errorf("Differs = %v with status %v", res.Differs, res.Status)
			}
		})
	}
}

// TestProtobufNoise: a field that the secondary also changes is learned
// as noise, as it is for JSON bodies; the changed field is not.
func TestProtobufNoise(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Schemas: shopSchemas(t), Seed: 1})
	for i := range 30 {
		p := orderMsg(t, `{"id":"o-1","state":"PLACED","trace_id":"p`+strconv.Itoa(i)+`"}`)
		s := orderMsg(t, `{"id":"o-1","state":"PLACED","trace_id":"s`+strconv.Itoa(i)+`"}`)
		c := orderMsg(t, `{"id":"o-1","state":"SHIPPED","trace_id":"c`+strconv.Itoa(i)+`"}`)
		x := grpcPair(getOrder, grpcAnswer(0, frames(p)), grpcAnswer(0, frames(c)))
		sec := grpcAnswer(0, frames(s))
		x.Secondary = &sec
		e.Observe(x)
	}
	rep := e.Report()
	if len(rep.Endpoints) != 1 {
		t.Fatalf("endpoints = %+v", rep.Endpoints)
	}
	var noise, real []string
	for _, f := range rep.Endpoints[0].Fields {
		if f.Noisy {
			noise = append(noise, f.Path)
		} else {
			real = append(real, f.Path)
		}
	}
	if !slices.Equal(noise, []string{"$.trace_id"}) || !slices.Equal(real, []string{"$.state"}) {
		t.Errorf("noise %v, real %v; want [$.trace_id] and [$.state]", noise, real)
	}
}
