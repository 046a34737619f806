package compare

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Numbers are compared exactly, as decimals: "1.10", "1.1" and "11e-1"
// are equal, "1" and "1.0000000000000000001" are not. No float64 rounding
// is involved, so large ids and money amounts keep every digit.

// decimal is a JSON number in canonical form: value = ±digits × 10^exp,
// digits without leading or trailing zeros ("" for zero).
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// parseDecimal canonicalizes a JSON number. ok is false for text that is
// not a JSON number or whose exponent overflows.
func parseDecimal(s string) (d decimal, ok bool) {
	if s == "" {
		return d, false
	}
	i := 0
	if s[0] == '-' {
		d.neg = true
		i++
	}
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[intStart:i]
	if intPart == "" {
		return d, false
	}
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
		if frac == "" {
			return d, false
		}
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, err := strconv.ParseInt(strings.TrimPrefix(s[i+1:], "+"), 10, 64)
		if err != nil || e > 1<<40 || e < -(1<<40) {
			return d, false
		}
		exp = e
		i = len(s)
	}
	if i != len(s) {
		return d, false
	}
	// digits = intPart+frac with leading and trailing zeros stripped.
	exp -= int64(len(frac))
	var digits string
	if frac == "" {
		digits = intPart
	} else {
		digits = intPart + frac
	}
	digits = strings.TrimLeft(digits, "0")
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	d.digits = trimmed
	if d.digits == "" {
		return decimal{}, true // zero, sign ignored
	}
	return d, true
}

// numEqual reports whether two JSON numbers have the same value.
func numEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	da, okA := parseDecimal(string(a))
	db, okB := parseDecimal(string(b))
	if !okA || !okB {
		return false
	}
	return da == db
}

// canonical returns a unique text for the value of d.
func (d decimal) canonical() string {
	if d.digits == "" {
		return "0"
	}
	s := d.digits + "e" + strconv.FormatInt(d.exp, 10)
	if d.neg {
		return "-" + s
	}
	return s
}

// display renders a JSON value as compact JSON for a Difference, cut at
// maxValueLen. Object keys are sorted; numbers keep their original text.
func display(v any) string { return string(appendDisplay(make([]byte, 0, 32), v)) }

// appendDisplay appends what display returns.
func appendDisplay(b []byte, v any) []byte {
	n := len(b)
	b = appendJSON(b, v, false, n+maxValueLen+1, nil)
	if len(b)-n <= maxValueLen {
		return b
	}
	cut := n + maxValueLen // as clip cuts
	for cut > n && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return append(b[:cut], "…"...)
}

// canonicalJSON renders a value so that equal values (by the rules of the
// diff) render the same: sorted keys, canonical numbers. Used to sort and
// deduplicate arrays. It charges bud for every value it renders, and
// stops once bud is spent.
func canonicalJSON(v any, bud *budget) string {
	return string(appendJSON(nil, v, true, -1, bud))
}

// appendJSON appends v as compact JSON. limit < 0 means unbounded;
// otherwise appending stops soon after len(b) passes limit. With a
// budget, every value rendered is charged, and rendering stops once it is
// spent.
func appendJSON(b []byte, v any, canon bool, limit int, bud *budget) []byte {
	if (limit >= 0 && len(b) > limit) || (bud != nil && !bud.visit(1)) {
		return b
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case json.Number:
		if canon {
			if d, ok := parseDecimal(string(x)); ok {
				return append(b, d.canonical()...)
			}
		}
		return append(b, x...)
	case tolNumber:
		return appendJSON(b, x.n, canon, limit, nil) // charged as itself
	case string:
		return appendQuoted(b, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, k)
			b = append(b, ':')
			b = appendJSON(b, x[k], canon, limit, bud)
			if limit >= 0 && len(b) > limit {
				return b
			}
		}
		return append(b, '}')
	case []any:
		return appendArray(b, x, canon, limit, bud)
	case partialArray:
		return appendArray(b, x, canon, limit, bud)
	case ignoredValue:
		return append(b, `"<ignored>"`...)
	}
	return append(b, `"<?>"`...)
}

func appendArray(b []byte, x []any, canon bool, limit int, bud *budget) []byte {
	b = append(b, '[')
	for i, e := range x {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, e, canon, limit, bud)
		if limit >= 0 && len(b) > limit {
			return b
		}
	}
	return append(b, ']')
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, tolNumber:
		return "number"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any, partialArray:
		return "array"
	case ignoredValue:
		return "ignored"
	}
	return fmt.Sprintf("%T", v)
}

// leafEqual reports whether two values that are not both objects or
// both arrays are equal by the rules of the diff; it is false for any
// object or array.
func leafEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numEqual(x, y)
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	case tolNumber:
		y, ok := b.(tolNumber)
		return ok && tolEqual(x, y)
	case ignoredValue:
		_, ok := b.(ignoredValue)
		return ok
	}
	return false
}

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// quote returns s as a JSON string.
func quote(s string) string { return string(appendQuoted(nil, s)) }
