package compare

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/understudy-dev/understudy/exchange"
)

// A format reads and diffs the bodies of one kind. Each format is one
// file that owns all of it: json.go, xml.go, form.go, text.go and
// binary.go, protobuf.go. The engine only picks the format of a pair of
// bodies (see diffBodies); a new format is a new file and its line in
// structured.
type format interface {
	// kind names the format, as Config.Comparators force it.
	kind() ComparatorKind
	// name names the format in a type change: "JSON, 120 bytes".
	name() string
	// detect reports whether a body claims the format under automatic
	// choice, by its Content-Type or its first bytes. Whether it also
	// parses is for parse to say.
	detect(contentType string, body []byte) bool
	// parse reads a complete body; ok is false when it is not of the
	// format.
	parse(body []byte) (doc any, ok bool)
	// normalize applies the normalizers that reach the format, those
	// whose path is in its syntax and those that reach every body, and
	// returns the document to diff. It charges b for the nodes it visits
	// and may stop once b is spent: the document is then not diffed.
	normalize(doc any, ns []*normalizer, b *budget) any
	// diff reports the differences between two normalized documents to
	// c, stopping once c's budget is spent.
	diff(a, b any, c *collector)
}

// A prefixReader is a format that can also compare bodies of which the
// proxy kept only a prefix. Text and binary are; a structured format
// that is not leaves such bodies to them.
type prefixReader interface {
	// diffPrefixes compares two bodies, at least one truncated, as far as
	// both can soundly show, reporting to col. It reports false, having
	// reported nothing, when either is not of the format as far as it
	// goes.
	diffPrefixes(p, c *body, r *rules, col *collector) bool
}

// A contextReader is a format whose reading of a body depends on its
// exchange, not only on its bytes: protobuf decodes the messages with the
// descriptors of the request's method and undoes each answer's own
// grpc-encoding. readAs calls parseIn in place of parse.
type contextReader interface {
	parseIn(b *body, r *rules) (doc any, ok bool)
}

// structured are the formats that automatic choice tries, in this order.
// A body of one of them against a body that is not is a type change at
// "body"; bodies of none compare as text when both are text, else as
// bytes.
var structured = [...]format{jsonFormat{}, xmlFormat{}, formFormat{}, protobufFormat{}}

// The formats that structured bodies fall back to.
var (
	text   rawFormat = textFormat{}
	binary rawFormat = binaryFormat{}
)

// rawFormat is text or binary: a format that reads any body and its
// prefixes.
type rawFormat interface {
	format
	prefixReader
}

// rawFor returns the format of two bodies that no structured format
// reads: text when text is forced or both are text, else binary.
func rawFor(r *rules, a, b []byte) rawFormat {
	if r.kind == TextComparator || (r.kind != BinaryComparator && isText(a) && isText(b)) {
		return text
	}
	return binary
}

// formatsFor returns the structured formats a comparator tries: all of
// them for AutoComparator, the one it forces, or none (text, binary).
func formatsFor(k ComparatorKind) []format {
	if k == AutoComparator {
		return structured[:]
	}
	for i, f := range structured {
		if f.kind() == k {
			return structured[i : i+1]
		}
	}
	return nil
}

// knownComparator reports whether k names a format or AutoComparator.
func knownComparator(k ComparatorKind) bool {
	return k == AutoComparator || k == text.kind() || k == binary.kind() || len(formatsFor(k)) > 0
}

// formatNames lists the formats' kinds for an error message.
func formatNames() string {
	var names []string
	for _, f := range structured {
		names = append(names, string(f.kind()))
	}
	return strings.Join(append(names, string(text.kind()), string(binary.kind())), ", ")
}

// rules say how the bodies of one exchange are compared.
type rules struct {
	kind    ComparatorKind  // forced by the route, or AutoComparator
	formats []format        // the structured formats to try, in order
	ns      []*normalizer   // the normalizers of the exchange's endpoint
	budget  Budget          // per comparison
	request string          // the request's URL: a gRPC method's full name
	schemas MessageResolver // Config.Schemas; nil for none
}

// claims reports whether a body is to be read in format f: f is forced,
// or chosen automatically and the body claims it.
func (r *rules) claims(f format, b *body) bool {
	if r.kind != AutoComparator {
		return r.kind == f.kind()
	}
	return f.detect(b.contentType, b.content)
}

// body is one answer's body as the formats see it: the content with its
// Content-Encoding undone, and each format's normalized reading of it,
// made at most once, so that the primary's serves both the candidate's
// and the secondary's comparison.
type body struct {
	content     []byte // after Content-Encoding is undone
	truncated   bool   // content is a prefix of the answer's
	size        int64  // the full content length; 0 when unknown
	contentType string
	header      http.Header // the answer's

	readings [len(structured) + 2]reading // every format, in the order read
	n        int
}

// reading is one format's reading of a body.
type reading struct {
	f        format
	doc      any
	ok       bool // the body is of the format
	tooLarge bool // normalizing it spent the budget
}

// newBody decodes an answer's content.
func newBody(r *exchange.Response) body {
	var b body
	if ct := r.Header["Content-Type"]; len(ct) > 0 { // Get, without canonicalizing a canonical name
		b.contentType = ct[0]
	}
	b.header = r.Header
	b.content, b.truncated, b.size = decodeContent(r)
	return b
}

// readAs returns the body's normalized document in format f, reading it
// the first time. claimed says whether the body is to be read in f at
// all (see rules.claims). A reading that spent the budget spends bud.
func (b *body) readAs(f format, claimed bool, r *rules, bud *budget) (any, bool) {
	for i := range b.readings[:b.n] {
		if rd := &b.readings[i]; rd.f == f {
			bud.spent = bud.spent || rd.tooLarge
			return rd.doc, rd.ok
		}
	}
	rd := reading{f: f}
	if claimed {
		var doc any
		var ok bool
		if cr, isCR := f.(contextReader); isCR {
			doc, ok = cr.parseIn(b, r)
		} else {
			doc, ok = f.parse(b.content)
		}
		if ok {
			rd.doc, rd.ok = f.normalize(doc, r.ns, bud), true
			rd.tooLarge = bud.spent
		}
	}
	b.readings[b.n] = rd
	b.n++
	return rd.doc, rd.ok
}

// diffBodies compares two bodies: in the first of the rules' structured
// formats that both are of, else as text when both are text (or text is
// forced) and as bytes otherwise. Bodies cut off by the proxy are
// compared as far as both were read.
func diffBodies(p, c *body, r *rules) bodyDiff {
	if sameContent(p, c) {
		return bodyDiff{} // before col, which is on the heap
	}
	col := collector{budget: newBudget(r.budget)}
	if p.truncated || c.truncated {
		diffPrefixes(p, c, r, &col)
		d := col.done()
		d.truncated = true
		return d
	}
	for _, f := range r.formats {
		pd, pok := p.readAs(f, r.claims(f, p), r, &col.budget)
		cd, cok := c.readAs(f, r.claims(f, c), r, &col.budget)
		switch {
		case col.spent:
			return col.done() // a body too large to normalize
		case pok && cok:
			f.diff(pd, cd, &col)
			return col.done()
		case pok != cok:
			col.one(typeChange(p, c, pok, f))
			return col.done()
		}
	}
	f := rawFor(r, p.content, c.content)
	pd, _ := p.readAs(f, true, r, &col.budget)
	cd, _ := c.readAs(f, true, r, &col.budget)
	f.diff(pd, cd, &col)
	return col.done()
}

// diffPrefixes compares bodies of which at least one was cut off: in the
// first structured format that both claim and that can read them, else
// as text or bytes, as far as both go.
func diffPrefixes(p, c *body, r *rules, col *collector) {
	for _, f := range r.formats {
		if pr, ok := f.(prefixReader); ok && r.claims(f, p) && r.claims(f, c) && pr.diffPrefixes(p, c, r, col) {
			return
		}
	}
	rawFor(r, p.content, c.content).diffPrefixes(p, c, r, col)
}

// typeChange reports a body of format f against one that is not; pok
// says which side is of f.
func typeChange(p, c *body, pok bool, f format) Difference {
	pf, cf := f.name(), ""
	if !pok {
		pf, cf = "", f.name()
	}
	return Difference{Path: bodyPath, Kind: TypeChanged, Primary: p.kindOf(pf), Candidate: c.kindOf(cf)}
}

// kindOf says what kind of body an answer has, for a type change:
// format names the format it parsed as, if any.
func (b *body) kindOf(format string) string {
	switch {
	case len(b.content) == 0:
		return "empty body"
	case format != "":
		return fmt.Sprintf("%s, %d bytes", format, len(b.content))
	}
	kind := "binary"
	if isText(b.content) {
		kind = "text"
	}
	if mt, _, err := mime.ParseMediaType(b.contentType); err == nil {
		kind = mt
	}
	return fmt.Sprintf("%s, %d bytes", kind, len(b.content))
}
