package compare

import (
	"bytes"
	be "encoding/binary"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// protoSeeds are wire messages for the protobuf fuzz tests: real
// encodings of the shop's messages, and hand-made oddities.
func protoSeeds(f *testing.F) [][]byte {
	f.Helper()
	seeds := [][]byte{
		orderMsg(f, `{"id":"o-1","items":[{"sku":"a","qty":1,"unit_price":2.5}],"labels":{"k":"v"},"stock":{"3":{"sku":"c"}},
			"note":"n","total_cents":"-5","signature":"AQI=","created_at":"2024-05-01T12:00:00.120Z","coupon":"C","card":{"number":"1"},
			"parent":{"paypal":{"email":"e"}}}`),
		orderMsg(f, `{"state":7,"created_at":"0001-01-01T00:00:00Z","coupon":""}`),
		nil,
	}
	var odd []byte
	odd = protowire.AppendTag(odd, 1, protowire.BytesType) // id twice: the last wins
	odd = protowire.AppendString(odd, "a")
	odd = protowire.AppendTag(odd, 1, protowire.BytesType)
	odd = protowire.AppendString(odd, "b")
	odd = protowire.AppendTag(odd, 3, protowire.BytesType) // an item
	odd = protowire.AppendBytes(odd, protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 300))
	odd = protowire.AppendTag(odd, 99, protowire.StartGroupType) // an unknown group
	odd = protowire.AppendTag(odd, 1, protowire.VarintType)
	odd = protowire.AppendVarint(odd, 1)
	odd = protowire.AppendTag(odd, 99, protowire.EndGroupType)
	odd = protowire.AppendTag(odd, 2, protowire.Fixed32Type) // state with the wrong wire type
	odd = be.LittleEndian.AppendUint32(odd, 1)
	seeds = append(seeds, odd)
	var packed []byte // an item whose qty comes packed (a list field would)
	packed = protowire.AppendTag(packed, 11, protowire.BytesType)
	packed = protowire.AppendBytes(packed, []byte{0x0a, 0x02, 0xff, 0xfe})
	return append(seeds, packed)
}

// FuzzProtobufDecode: the fast decoder never panics, and wherever it
// answers, dynamicpb decodes the message too, into a tree that the diff
// finds equal. The by-number reader never panics either.
func FuzzProtobufDecode(f *testing.F) {
	for _, s := range protoSeeds(f) {
		f.Add(s)
	}
	svc := shopSchemas(f)
	types := []protoreflect.MessageDescriptor{svc[getOrder].Output(), svc[getOrder].Input(),
		svc[getOrder].Output().Fields().ByName("items").Message()}
	f.Fuzz(func(t *testing.T, b []byte) {
		rawMessage(b, 0)
		for _, md := range types {
			fast, ok := decodeFast(b, planFor(md))
			if !ok {
				continue
			}
			slow, ok := decodeMessage(b, md)
			if !ok {
				t.Fatalf("%s: the fast path read %x, dynamicpb does not", md.FullName(), b)
			}
			c := collector{budget: newBudget(Budget{}.withDefaults())}
			jsonFormat{}.diff(fast, slow, &c)
			if d := c.done(); len(d.diffs) > 0 {
				t.Fatalf("%s: %x: the fast path and dynamicpb differ: %+v", md.FullName(), b, d.diffs)
			}
		}
	})
}

// FuzzGRPCFrames: splitting a body into frames never panics, keeps every
// message of an uncompressed body, and holds no more than the bound when
// frames are compressed.
func FuzzGRPCFrames(f *testing.F) {
	msg := orderMsg(f, `{"id":"o-1"}`)
	f.Add(frames(msg, msg), "")
	f.Add(gzipFrame(f, msg), "gzip")
	f.Add([]byte{0, 0, 0, 0, 9, 1}, "")
	f.Add([]byte{2, 0, 0, 0, 0}, "")
	f.Fuzz(func(t *testing.T, body []byte, encoding string) {
		msgs, ok := grpcFrames(body, encoding)
		if !ok {
			return
		}
		total := 0
		for _, m := range msgs {
			total += len(m)
		}
		if total > maxDecoded {
			t.Fatalf("%d bytes of messages, above the bound %d", total, maxDecoded)
		}
		if !bytes.ContainsRune(body, 1) && !slices.Equal(frames(msgs...), body) { // no frame can be compressed
			t.Fatalf("frames of %x re-framed are %x", body, frames(msgs...))
		}
		for _, m := range msgs { // and each message reads by field number or not, without panicking
			readProtobuf(frames(m), "application/grpc", "", nil, false)
		}
	})
}

// fuzzNormalizers reach the shop's orders in every way.
var fuzzNormalizers = func() []*normalizer {
	ns, err := compileNormalizers([]Normalizer{
		{Kind: Ignore, Path: "$.trace_id"},
		{Kind: Replace, Builtin: "rfc3339", Path: "$..created_at"},
		{Kind: Tolerance, Path: "$.items[*].unit_price", Tolerance: 0.5},
		{Kind: Sort, Path: "$.items", Key: "sku"},
		{Kind: Set, Path: "$.parent.items"},
		{Kind: Replace, Pattern: "[0-9]", Replacement: "#"},
	})
	if err != nil {
		panic(err)
	}
	return ns
}()

// FuzzProtobufWireDiff: comparing two messages on the wire finds the
// differences their whole trees show, with normalizers too.
func FuzzProtobufWireDiff(f *testing.F) {
	seeds := protoSeeds(f)
	seeds = append(seeds,
		orderMsg(f, `{"id":"o-1","items":[{"sku":"a","qty":1,"unit_price":2.5},{"sku":"b"}],"card":{"number":"1"},"labels":{"k":"w"}}`),
		orderMsg(f, `{"id":"o-1","items":[{"sku":"a","qty":2,"unit_price":2.5}],"paypal":{"email":"e"},"parent":{"id":"p","card":{}}}`))
	for _, a := range seeds {
		for _, b := range seeds {
			f.Add(a, b)
		}
	}
	unary, stream := shopSchemas(f)[getOrder], shopSchemas(f)[watchOrders]
	plan := planFor(unary.Output())
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if !readsFast(a, plan) || !readsFast(b, plan) {
			return
		}
		md, pb := unary, frames(b)
		if len(a)%2 == 1 { // a stream of a against one of b, b and a
			md, pb = stream, frames(b, b, a)
		}
		var ns []*normalizer
		if len(b)%2 == 1 && md == unary { // and with normalizers of every kind
			ns = fuzzNormalizers
		}
		judge := func(lazy bool) bodyDiff {
			c := collector{budget: newBudget(Budget{}.withDefaults())}
			x, _ := readProtobuf(frames(a), "application/grpc", "", md, lazy)
			y, _ := readProtobuf(pb, "application/grpc", "", md, lazy)
			x = protobufFormat{}.normalize(x, ns, &c.budget)
			y = protobufFormat{}.normalize(y, ns, &c.budget)
			protobufFormat{}.diff(x, y, &c)
			return c.done()
		}
		whole, wire := judge(false), judge(true)
		if whole.tooLarge || len(whole.diffs) >= maxDifferences {
			return
		}
		if !slices.Equal(whole.fields, wire.fields) || len(whole.diffs) != len(wire.diffs) {
			t.Fatalf("%x against %x:\nwhole trees %+v\non the wire %+v", a, b, whole.diffs, wire.diffs)
		}
		for i := range whole.diffs {
			if w, g := whole.diffs[i], wire.diffs[i]; w.Path != g.Path || w.Kind != g.Kind || w.Primary != g.Primary || w.Candidate != g.Candidate {
				t.Fatalf("%x against %x: difference %d: whole trees %+v, on the wire %+v", a, b, i, w, g)
			}
		}
	})
}
