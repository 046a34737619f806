package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// bodyPath answers a generated JSON body of a given size or shape, for
// the harness's growth tables:
//
//	/__bench/body?bytes=N            8 string fields, N bytes in all
//	/__bench/body?fields=F[&types=1] F number fields ("k0": 0, ...)
//
// A server named with -variant answers the other version of the same
// body: with bytes, the last field's value differs in its last byte; with
// fields, every tenth value differs, and with types=1 every value is a
// string instead of a number (the wide answer that changes every type).
const bodyPath = "/__bench/body"

// Bounds of what bodyPath generates.
const (
	maxBodyBytes  = 16 << 20
	maxBodyFields = 200_000
	maxCached     = 64
)

// bodyKey names one generated body.
type bodyKey struct {
	bytes, fields int
	types, other  bool
}

// bodies caches generated bodies; at most maxCached are kept.
type bodies struct {
	mu sync.Mutex
	m  map[bodyKey][]byte
}

// parseBodyQuery reads bodyPath's query.
func parseBodyQuery(q url.Values, other bool) (bodyKey, error) {
	k := bodyKey{other: other, types: q.Get("types") == "1"}
	var err error
	switch {
	case q.Get("bytes") != "":
		k.bytes, err = strconv.Atoi(q.Get("bytes"))
		if err != nil || k.bytes < 64 || k.bytes > maxBodyBytes {
			return k, fmt.Errorf("bytes=%q: want 64 to %d", q.Get("bytes"), maxBodyBytes)
		}
	case q.Get("fields") != "":
		k.fields, err = strconv.Atoi(q.Get("fields"))
		if err != nil || k.fields < 1 || k.fields > maxBodyFields {
			return k, fmt.Errorf("fields=%q: want 1 to %d", q.Get("fields"), maxBodyFields)
		}
	default:
		return k, fmt.Errorf("want bytes=N or fields=N")
	}
	return k, nil
}

// get returns the body for k, generating it once.
func (b *bodies) get(k bodyKey) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if body, ok := b.m[k]; ok {
		return body
	}
	if b.m == nil || len(b.m) >= maxCached {
		b.m = map[bodyKey][]byte{}
	}
	body := generate(k)
	b.m[k] = body
	return body
}

// generate builds the body k names.
func generate(k bodyKey) []byte {
	var sb strings.Builder
	sb.WriteByte('{')
	if k.bytes > 0 {
		const n = 8
		// {"f0":"...",...}: 8 names, quotes, colons and commas take 8*8+1 bytes.
		each := max(1, (k.bytes-(n*8+1))/n)
		sb.Grow(k.bytes)
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `"f%d":"`, i)
			v := strings.Repeat("a", each-1)
			last := "a"
			if k.other && i == n-1 {
				last = "b"
			}
			sb.WriteString(v + last + `"`)
		}
	} else {
		for i := 0; i < k.fields; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			v := i % 1000
			if k.other && i%10 == 0 {
				v++
			}
			if k.other && k.types {
				fmt.Fprintf(&sb, `"k%s":"%d"`, strconv.FormatInt(int64(i), 36), v)
			} else {
				fmt.Fprintf(&sb, `"k%s":%d`, strconv.FormatInt(int64(i), 36), v)
			}
		}
	}
	sb.WriteByte('}')
	return []byte(sb.String())
}
