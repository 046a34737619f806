package capture

import (
	"encoding/binary"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// The Writer encodes exchange records, one per mirrored request, and synth
// records, one per step, with the functions below instead of msgpack's reflection, which spent most of
// capture's CPU walking struct fields. They append exactly the bytes
// msgpack/v5 writes for the same value with compact integers and sorted map
// keys (TestAppendExchangeRecordIsMsgpack and TestAppendSynthRecordIsMsgpack
// prove it on every field), so
// files and readers are unchanged: struct fields as map entries in
// declaration order under their msgpack tag, omitempty fields left out
// when empty, time.Time as the timestamp extension, nil slices and maps as
// nil. A field added to a recorded type must be added here too; the test
// fails until it is.

// appendExchangeRecord appends r's msgpack encoding to b, with sealed (an
// appendExchange encoding) as its exchange when it is not nil.
func appendExchangeRecord(b []byte, r *ExchangeRecord, sealed []byte) []byte {
	n := 3 + nonEmpty(len(r.Diffs)) + nonEmpty(len(r.Noise)) + nonEmpty(len(r.Descriptors)) + nonEmpty(len(r.Candidates))
	b = appendMapLen(b, n)
	if sealed != nil {
		b = append(appendString(b, "exchange"), sealed...)
	} else {
		b = appendExchange(appendString(b, "exchange"), &r.Exchange)
	}
	b = appendString(appendString(b, "endpoint"), r.Endpoint)
	b = appendBool(appendString(b, "differs"), r.Differs)
	if len(r.Diffs) > 0 {
		b = appendStrings(appendString(b, "diffs"), r.Diffs)
	}
	if len(r.Noise) > 0 {
		b = appendStrings(appendString(b, "noise"), r.Noise)
	}
	if r.Descriptors != "" {
		b = appendString(appendString(b, "descriptors"), r.Descriptors)
	}
	if len(r.Candidates) > 0 {
		b = appendArrayLen(appendString(b, "candidates"), len(r.Candidates))
		for i := range r.Candidates {
			b = appendCandidateVerdict(b, &r.Candidates[i])
		}
	}
	return b
}

func appendCandidateVerdict(b []byte, c *CandidateVerdict) []byte {
	b = appendMapLen(b, 2+nonEmpty(len(c.Diffs))+nonEmpty(len(c.Noise)))
	b = appendString(appendString(b, "name"), c.Name)
	b = appendBool(appendString(b, "differs"), c.Differs)
	if len(c.Diffs) > 0 {
		b = appendStrings(appendString(b, "diffs"), c.Diffs)
	}
	if len(c.Noise) > 0 {
		b = appendStrings(appendString(b, "noise"), c.Noise)
	}
	return b
}

func appendExchange(b []byte, x *exchange.Exchange) []byte {
	n := 3 + nonEmpty(len(x.Route)) + nonNil(x.Secondary != nil) + nonEmpty(len(x.OtherCandidates)) +
		nonEmpty(len(x.Outbound)) + nonNil(x.WebSocket != nil)
	b = appendMapLen(b, n)
	b = appendRequest(appendString(b, "request"), &x.Request)
	if x.Route != "" {
		b = appendString(appendString(b, "route"), x.Route)
	}
	b = appendResponse(appendString(b, "primary"), &x.Primary)
	if x.Secondary != nil {
		b = appendResponse(appendString(b, "secondary"), x.Secondary)
	}
	b = appendResponse(appendString(b, "candidate"), &x.Candidate)
	if len(x.OtherCandidates) > 0 {
		b = appendArrayLen(appendString(b, "other_candidates"), len(x.OtherCandidates))
		for i := range x.OtherCandidates {
			b = appendResponse(b, &x.OtherCandidates[i])
		}
	}
	if len(x.Outbound) > 0 {
		b = appendArrayLen(appendString(b, "outbound"), len(x.Outbound))
		for i := range x.Outbound {
			b = appendOutboundCall(b, &x.Outbound[i])
		}
	}
	if ws := x.WebSocket; ws != nil {
		b = appendMapLen(appendString(b, "websocket"), 2)
		b = appendString(appendString(b, "connection"), ws.Connection)
		b = appendInt(appendString(b, "message"), int64(ws.Message))
	}
	return b
}

func appendRequest(b []byte, r *exchange.Request) []byte {
	b = appendMapLen(b, 7)
	b = appendString(appendString(b, "id"), r.ID)
	b = appendString(appendString(b, "method"), r.Method)
	b = appendString(appendString(b, "url"), r.URL)
	b = appendString(appendString(b, "host"), r.Host)
	b = appendHeader(appendString(b, "header"), r.Header)
	b = appendBytes(appendString(b, "body"), r.Body)
	return appendTime(appendString(b, "received"), r.Received)
}

func appendResponse(b []byte, r *exchange.Response) []byte {
	n := 6 + nonEmpty(len(r.Trailer)) + nonNil(r.Truncated) + nonEmpty(len(r.Error)) + nonNil(r.Timeout) +
		nonEmpty(len(r.ErrorKind)) + nonEmpty(len(r.Injected)) + nonEmpty(len(r.Name)) + nonEmpty(len(r.NotSent))
	b = appendMapLen(b, n)
	b = appendString(appendString(b, "side"), string(r.Side))
	b = appendInt(appendString(b, "status"), int64(r.Status))
	b = appendHeader(appendString(b, "header"), r.Header)
	if len(r.Trailer) > 0 {
		b = appendHeader(appendString(b, "trailer"), r.Trailer)
	}
	b = appendBytes(appendString(b, "body"), r.Body)
	b = appendInt(appendString(b, "size"), r.Size)
	if r.Truncated {
		b = appendBool(appendString(b, "truncated"), true)
	}
	b = appendInt(appendString(b, "latency"), int64(r.Latency))
	if r.Error != "" {
		b = appendString(appendString(b, "error"), r.Error)
	}
	if r.Timeout {
		b = appendBool(appendString(b, "timeout"), true)
	}
	if r.ErrorKind != "" {
		b = appendString(appendString(b, "error_kind"), r.ErrorKind)
	}
	if len(r.Injected) > 0 {
		b = appendStringMap(appendString(b, "injected"), r.Injected)
	}
	if r.Name != "" {
		b = appendString(appendString(b, "name"), r.Name)
	}
	if r.NotSent != "" {
		b = appendString(appendString(b, "not_sent"), r.NotSent)
	}
	return b
}

func appendOutboundCall(b []byte, c *exchange.OutboundCall) []byte {
	b = appendMapLen(b, 11+nonNil(c.BodyTruncated)+nonNil(c.Matched)+nonEmpty(len(c.Refused)))
	b = appendString(appendString(b, "side"), string(c.Side))
	b = appendString(appendString(b, "dependency"), c.Dependency)
	b = appendString(appendString(b, "method"), c.Method)
	b = appendString(appendString(b, "url"), c.URL)
	b = appendString(appendString(b, "template"), c.Template)
	b = appendInt(appendString(b, "ordinal"), int64(c.Ordinal))
	b = appendHeader(appendString(b, "header"), c.Header)
	b = appendBytes(appendString(b, "body"), c.Body)
	b = appendInt(appendString(b, "body_size"), c.BodySize)
	if c.BodyTruncated {
		b = appendBool(appendString(b, "body_truncated"), true)
	}
	b = appendTime(appendString(b, "started"), c.Started)
	b = appendResponse(appendString(b, "response"), &c.Response)
	if c.Matched {
		b = appendBool(appendString(b, "matched"), true)
	}
	if c.Refused != "" {
		b = appendString(appendString(b, "refused"), c.Refused)
	}
	return b
}

// appendSynthRecord appends r's msgpack encoding to b.
func appendSynthRecord(b []byte, r *SynthRecord) []byte {
	b = appendMapLen(b, 11+nonEmpty(len(r.Tags))+nonEmpty(len(r.ErrorKind))+nonEmpty(len(r.Failures)))
	b = appendString(appendString(b, "run_id"), r.RunID)
	b = appendString(appendString(b, "scenario"), r.Scenario)
	b = appendString(appendString(b, "journey"), r.Journey)
	b = appendString(appendString(b, "journey_id"), r.JourneyID)
	b = appendString(appendString(b, "step"), r.Step)
	if len(r.Tags) > 0 {
		b = appendStringMap(appendString(b, "tags"), r.Tags)
	}
	b = appendString(appendString(b, "method"), r.Method)
	b = appendString(appendString(b, "url"), r.URL)
	b = appendInt(appendString(b, "status"), int64(r.Status))
	b = appendInt(appendString(b, "latency"), int64(r.Latency))
	b = appendTime(appendString(b, "intended"), r.Intended)
	if r.ErrorKind != "" {
		b = appendString(appendString(b, "error_kind"), r.ErrorKind)
	}
	b = appendBool(appendString(b, "passed"), r.Passed)
	if len(r.Failures) > 0 {
		b = appendStrings(appendString(b, "failures"), r.Failures)
	}
	return b
}

// nonEmpty is 1 for a positive length (an omitempty field that is
// written), else 0.
func nonEmpty(n int) int {
	if n > 0 {
		return 1
	}
	return 0
}

// nonNil is 1 when an omitempty pointer or bool field is written.
func nonNil(set bool) int {
	if set {
		return 1
	}
	return 0
}

// msgpack type codes (see the msgpack specification).
const (
	mpNil      = 0xc0
	mpFalse    = 0xc2
	mpTrue     = 0xc3
	mpBin8     = 0xc4
	mpBin16    = 0xc5
	mpBin32    = 0xc6
	mpExt8     = 0xc7
	mpUint8    = 0xcc
	mpUint16   = 0xcd
	mpUint32   = 0xce
	mpUint64   = 0xcf
	mpInt8     = 0xd0
	mpInt16    = 0xd1
	mpInt32    = 0xd2
	mpInt64    = 0xd3
	mpFixExt4  = 0xd6
	mpFixExt8  = 0xd7
	mpStr8     = 0xd9
	mpStr16    = 0xda
	mpStr32    = 0xdb
	mpArray16  = 0xdc
	mpArray32  = 0xdd
	mpMap16    = 0xde
	mpMap32    = 0xdf
	mpFixStr   = 0xa0
	mpFixArray = 0x90
	mpFixMap   = 0x80
	mpTimeExt  = 0xff // the timestamp extension, type -1
)

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, mpTrue)
	}
	return append(b, mpFalse)
}

// appendInt writes n in the fewest bytes, as msgpack's EncodeInt does.
func appendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= math.MaxInt8:
		return append(b, byte(n))
	case n >= 0 && n <= math.MaxUint8:
		return append(b, mpUint8, byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, mpUint16), uint16(n))
	case n >= 0 && n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, mpUint32), uint32(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(b, mpUint64), uint64(n))
	case n >= -32:
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, mpInt8, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, mpInt16), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, mpInt32), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, mpInt64), uint64(n))
	}
}

func appendString(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, mpFixStr|byte(n))
	case n <= math.MaxUint8:
		b = append(b, mpStr8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, mpStr16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, mpStr32), uint32(n))
	}
	return append(b, s...)
}

// appendBytes writes v as bin, nil as nil.
func appendBytes(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, mpNil)
	}
	switch n := len(v); {
	case n <= math.MaxUint8:
		b = append(b, mpBin8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, mpBin16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, mpBin32), uint32(n))
	}
	return append(b, v...)
}

func appendArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, mpFixArray|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, mpArray16), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, mpArray32), uint32(n))
	}
}

func appendMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, mpFixMap|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, mpMap16), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, mpMap32), uint32(n))
	}
}

// appendStrings writes ss as an array of strings, nil as nil.
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, mpNil)
	}
	b = appendArrayLen(b, len(ss))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// appendTime writes t as the timestamp extension in its shortest form,
// as msgpack's EncodeTime does.
func appendTime(b []byte, t time.Time) []byte {
	secs := uint64(t.Unix())
	if secs>>34 == 0 {
		data := uint64(t.Nanosecond())<<34 | secs
		if data&0xffffffff00000000 == 0 {
			return binary.BigEndian.AppendUint32(append(b, mpFixExt4, mpTimeExt), uint32(data))
		}
		return binary.BigEndian.AppendUint64(append(b, mpFixExt8, mpTimeExt), data)
	}
	b = binary.BigEndian.AppendUint32(append(b, mpExt8, 12, mpTimeExt), uint32(t.Nanosecond()))
	return binary.BigEndian.AppendUint64(b, secs)
}

// appendHeader writes h as header_codec.go's encodeHeaderValue does: keys
// sorted, nil as nil.
func appendHeader(b []byte, h http.Header) []byte {
	return appendSortedMap(b, h, appendStrings)
}

// appendStringMap writes m with its keys sorted, nil as nil.
func appendStringMap(b []byte, m map[string]string) []byte {
	return appendSortedMap(b, m, appendString)
}

// appendSortedMap writes m with its keys sorted, each value by appendValue;
// nil as nil.
func appendSortedMap[M ~map[string]V, V any](b []byte, m M, appendValue func([]byte, V) []byte) []byte {
	if m == nil {
		return append(b, mpNil)
	}
	var backing [32]string
	keys := backing[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = appendMapLen(b, len(keys))
	for _, k := range keys {
		b = appendValue(appendString(b, k), m[k])
	}
	return b
}
