package compare

import (
	"bytes"
	"encoding/json"
	"html"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// htmlText escapes text for an element's content; quotes need no escape
// there, and leaving them keeps the page's source readable.
var htmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// htmlMaxIndent is the deepest level a pretty-printed body is indented
// to; deeper values are printed compactly on their parent's line, so a
// deeply nested body grows by a bounded factor, not with its depth.
const htmlMaxIndent = 8

// marks are the paths to mark in a body, each true when its difference
// is noise (marked, but not as a difference that counts).
type marks map[string]bool

// open writes the opening tag marking path.
func (m marks) open(b *strings.Builder, path string) {
	b.WriteString(`<mark class="diff`)
	if m[path] {
		b.WriteString(` noise`)
	}
	b.WriteString(`" data-path="`)
	b.WriteString(html.EscapeString(path))
	b.WriteString(`">`)
}

// bodyHTML renders an exemplar body for a <pre>, escaped, with what
// differs marked (<mark class="diff">): a JSON body is pretty-printed and
// the values at the JSON paths in marks are marked; a text body whose
// difference is "body" has its lines that differ from other's marked;
// anything else is shown as it is.
func bodyHTML(body, other string, m marks) template.HTML {
	if out, ok := jsonHTML(body, m); ok {
		return out
	}
	if _, ok := m["body"]; ok {
		return linesHTML(body, other, m)
	}
	return template.HTML(htmlText(body))
}

// jsonFrame is an object or array being printed.
type jsonFrame struct {
	array     bool
	n         int    // members printed so far
	path      string // the container's own path
	key       string // object: the key of the member being printed
	expectKey bool   // object: the next string token is a key
	marked    bool   // the container is marked as a whole
}

// jsonHTML pretty-prints a JSON object or array, marking the values at
// the given paths ("$.items[1].price", `$["order-id"]`, "$" for the whole
// body). A body cut short (exemplars are bounded) is printed as far as it
// parses, then the rest as it is. ok is false when body is not JSON.
func jsonHTML(body string, m marks) (out template.HTML, ok bool) {
	trimmed := strings.TrimLeft(body, " \t\r\n")
	if trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') {
		return "", false
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.UseNumber()
	var b strings.Builder
	var stack []*jsonFrame
	newline := func() {
		if len(stack) <= htmlMaxIndent {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat("  ", len(stack)))
		}
	}
	afterValue := func() {
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			top.n++
			top.expectKey = !top.array
		}
	}
	for tokens := 0; ; tokens++ {
		tok, err := dec.Token()
		if err == io.EOF && len(stack) == 0 {
			break
		}
		if err != nil { // io.EOF inside a value: the body was cut short
			if tokens == 0 {
				return "", false
			}
			for _, f := range stack {
				if f.marked {
					b.WriteString("</mark>")
				}
			}
			rest := strings.TrimSpace(trimmed[min(int(dec.InputOffset()), len(trimmed)):])
			if rest != "" {
				b.WriteString("\n")
				b.WriteString(htmlText(rest))
			}
			break
		}
		if d, isDelim := tok.(json.Delim); isDelim && (d == '}' || d == ']') {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.n > 0 {
				newline()
			}
			b.WriteByte(byte(d))
			if f.marked {
				b.WriteString("</mark>")
			}
			afterValue()
			continue
		}
		path := "$"
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.expectKey {
				if top.n > 0 {
					b.WriteByte(',')
				}
				newline()
				key, _ := tok.(string)
				b.WriteString(htmlText(jsonText(key)))
				b.WriteString(": ")
				top.key, top.expectKey = key, false
				continue
			}
			if top.array {
				if top.n > 0 {
					b.WriteByte(',')
				}
				newline()
				path = top.path + "[" + strconv.Itoa(top.n) + "]"
			} else {
				path = string(appendKeyStep([]byte(top.path), top.key))
			}
		} else if tokens > 0 {
			b.WriteByte('\n') // a further top-level value
		}
		_, marked := m[path]
		if marked {
			m.open(&b, path)
		}
		if d, isDelim := tok.(json.Delim); isDelim {
			stack = append(stack, &jsonFrame{array: d == '[', path: path, expectKey: d == '{', marked: marked})
			b.WriteByte(byte(d))
			continue
		}
		b.WriteString(htmlText(jsonText(tok)))
		if marked {
			b.WriteString("</mark>")
		}
		afterValue()
	}
	return template.HTML(b.String()), true
}

// jsonText is a decoded JSON scalar as JSON text.
func jsonText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// linesHTML escapes body and marks each line that differs from the line
// at the same place in other.
func linesHTML(body, other string, m marks) template.HTML {
	lines, others := strings.Split(body, "\n"), strings.Split(other, "\n")
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(others) && others[i] == l {
			b.WriteString(htmlText(l))
			continue
		}
		m.open(&b, "body")
		b.WriteString(htmlText(l))
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}
