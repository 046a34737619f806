package capture

import (
	"net/http"
	"reflect"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// msgpack encodes maps by reflection, allocating for every key and value;
// headers are most of a record's entries, so this codec does them
// directly. The bytes are what msgpack writes for any map[string][]string
// (a map of string to array of string, nil for a nil map), with keys
// sorted so records encode deterministically. Registering it affects every
// msgpack user of http.Header in the program, with that same wire format.
func init() {
	msgpack.Register(http.Header(nil), encodeHeaderValue, decodeHeaderValue)
}

func encodeHeaderValue(e *msgpack.Encoder, v reflect.Value) error {
	h := v.Interface().(http.Header)
	if h == nil {
		return e.EncodeNil()
	}
	var backing [32]string
	keys := backing[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := e.EncodeMapLen(len(keys)); err != nil {
		return err
	}
	for _, k := range keys {
		if err := e.EncodeString(k); err != nil {
			return err
		}
		vs := h[k]
		if vs == nil {
			if err := e.EncodeNil(); err != nil {
				return err
			}
			continue
		}
		if err := e.EncodeArrayLen(len(vs)); err != nil {
			return err
		}
		for _, s := range vs {
			if err := e.EncodeString(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeHeaderValue reads what encodeHeaderValue (or msgpack's generic map
// encoding) wrote. Declared lengths only size allocations up to a small
// bound, so hostile input cannot make it allocate ahead of the data.
func decodeHeaderValue(d *msgpack.Decoder, v reflect.Value) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	if n < 0 {
		v.Set(reflect.Zero(v.Type()))
		return nil
	}
	h := make(http.Header, min(n, 64))
	for range n {
		k, err := d.DecodeString()
		if err != nil {
			return err
		}
		m, err := d.DecodeArrayLen()
		if err != nil {
			return err
		}
		if m < 0 {
			h[k] = nil
			continue
		}
		vs := make([]string, 0, min(m, 64))
		for range m {
			s, err := d.DecodeString()
			if err != nil {
				return err
			}
			vs = append(vs, s)
		}
		h[k] = vs
	}
	v.Set(reflect.ValueOf(h))
	return nil
}
