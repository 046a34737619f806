package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/understudy-dev/understudy/exchange"
)

// SealedExchange is an exchange as a Writer writes it: redacted by a
// Redactor's rules and encoded at once, by Redactor.Seal (the zero value
// seals nothing). A Writer given a record with a seal made under its own
// rules writes the sealed bytes instead of redacting the record's Exchange
// a second time; under other rules, or with a zero SealedExchange, it
// redacts the record's Exchange as it always does. Since the bytes are
// taken when the exchange is redacted, nothing done to the exchange
// afterwards (judging, metrics) reaches the file.
type SealedExchange struct {
	rules string // the rules it was redacted by (Redactor.rules); "" for none
	enc   []byte // the redacted exchange, as appendExchange encodes it
}

// Seal redacts x in place as Redact does, and returns it sealed for a
// Writer with the same rules.
func (r *Redactor) Seal(x *exchange.Exchange) *SealedExchange {
	rules := r.rules()
	r.Redact(x)
	buf := sealBuffers.Get().(*[]byte)
	b := appendExchange((*buf)[:0], x)
	s := &SealedExchange{rules: rules, enc: bytes.Clone(b)}
	if cap(b) <= 1<<20 {
		*buf = b
		sealBuffers.Put(buf)
	}
	return s
}

// sealBuffers hold Seal's encodings while their size is not known yet, so
// that each seal allocates its bytes once.
var sealBuffers = sync.Pool{New: func() any { return new([]byte) }}

// sealedFor returns the encoded exchange of s when it was sealed under
// rules (never for a zero SealedExchange), else nil.
func (s *SealedExchange) sealedFor(rules string) []byte {
	if s == nil || s.rules == "" || s.rules != rules || s.enc == nil {
		return nil
	}
	return s.enc
}

// rules identifies r's redaction rules: equal for Redactors that redact
// alike, never empty. It holds every configured field (Key only as its
// SHA-256, so no copy of the key travels with records);
// TestRulesCoverEveryRedactorField fails when a field is missing here.
func (r *Redactor) rules() string {
	var a [64]byte
	b := append(a[:0], 'r', '1') // never empty
	list := func(ss []string) {
		b = binary.AppendUvarint(b, uint64(len(ss)))
		for _, s := range ss {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	list(r.Headers)
	list(r.QueryParams)
	list(r.FieldNames)
	list(r.FieldPaths)
	if r.NoDefaultFieldNames {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	if len(r.Key) > 0 {
		sum := sha256.Sum256(r.Key)
		b = append(append(b, 1), sum[:]...)
	} else {
		b = append(b, 0)
	}
	return string(b)
}
