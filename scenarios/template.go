package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// TemplateData is what a step's path, header and body templates see as
// their dot:
//
//	{{ .Synthetic }}  always true: put it in bodies so the service can
//	                  store the flag with what it creates
//	{{ .RunID }}      the run's id, also sent in X-Synthetic-Run
//	{{ .JourneyID }}  this journey's id, also sent in X-Synthetic-Journey
//	{{ .Vars.name }}  a value captured by an earlier step
//	{{ .Data.f.col }} column col of this journey's row of feeder f
//
// Templates also get these funcs: fake (gofakeit's functions: {{ fake.Name }},
// {{ fake.Email }}, {{ fake.Number 1 9 }} ...; see fakeData), pick (one of
// its arguments at random), intRange (a random int between its two
// arguments, inclusive), uuid (a random UUID) and json (its argument as
// JSON, for quoting captured strings into bodies). So that rendering
// always ends quickly in bounded memory, range works over .Vars, a number
// up to 1000, or intRange with bounds up to 1000, ranges do not nest,
// printf widths stay under 1000, and a render may produce at most 1 MiB
// (a body) or 16 KiB (a path, header or JSON assertion) in at most
// maxRenderTime.
type TemplateData struct {
	Synthetic bool
	RunID     string
	JourneyID string
	Vars      map[string]string
	Data      map[string]map[string]string
}

// templateFields are the fields of TemplateData a template may use.
var templateFields = map[string]bool{"Synthetic": true, "RunID": true, "JourneyID": true, "Vars": true, "Data": true}

// tmpl is one compiled template with the variables it needs.
type tmpl struct {
	text  string             // the source, used as is when t is nil
	t     *template.Template // nil when text has no actions
	vars  []string           // names used as .Vars.name, in order of first use
	data  []dataRef          // feeder columns used as .Data.feeder.column
	limit int                // the most one render may produce, in bytes
}

// templateFuncs returns the funcs templates get, drawing from f.
func templateFuncs(f *gofakeit.Faker) template.FuncMap {
	return template.FuncMap{
		"fake":   func() fakeData { return fakeData{f} },
		"printf": boundedPrintf,
		"pick": func(choices ...any) (any, error) {
			if len(choices) == 0 {
				return nil, errors.New("pick needs at least one choice")
			}
			return choices[f.IntN(len(choices))], nil
		},
		"intRange": func(lo, hi int) (int, error) {
			if hi < lo {
				return 0, fmt.Errorf("intRange %d %d: the second bound is below the first", lo, hi)
			}
			return f.IntRange(lo, hi), nil
		},
		"uuid": f.UUID,
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
}

// compileTemplate parses text once. It rejects fields of the dot that
// TemplateData does not have and fake functions templates may not call,
// and lists the .Vars it reads. A render of it may produce at most limit
// bytes.
func compileTemplate(field, text string, funcs template.FuncMap, limit int) (*tmpl, error) {
	c := &tmpl{text: text, limit: limit}
	if !strings.Contains(text, "{{") {
		if len(text) > limit {
			return nil, fmt.Errorf("%w: %d bytes, more than %s (the most a template may produce here)",
				errRenderTooLarge, len(text), sizeString(limit))
		}
		return c, nil
	}
	t, err := template.New(field).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, cleanTemplateError(field, err)
	}
	c.t = t
	w := &treeWalker{seen: map[string]bool{}}
	w.walk(t.Root, true)
	if w.err != nil {
		return nil, w.err
	}
	c.vars, c.data = w.vars, w.data
	return c, nil
}

// string renders the template to a string of at most c.limit bytes, in
// at most maxRenderTime.
func (c *tmpl) string(data *TemplateData) (string, error) {
	if c.t == nil {
		return c.text, nil
	}
	w := &renderWriter{limit: c.limit, deadline: time.Now().Add(maxRenderTime)}
	if err := c.t.Execute(w, data); err != nil {
		if errors.Is(err, errRenderTooLarge) || errors.Is(err, errRenderTooSlow) {
			return "", err
		}
		return "", cleanTemplateError(c.t.Name(), err)
	}
	return string(w.buf), nil
}

var templatePrefixRE = regexp.MustCompile(`^template: [^:]*:(\d+)(:\d+)?: `)

// cleanTemplateError drops text/template's "template: NAME:" prefix (the
// field is already named by the caller) but keeps the line in the template.
func cleanTemplateError(field string, err error) error {
	msg := strings.Replace(err.Error(), fmt.Sprintf("executing %q at ", field), "at ", 1)
	if m := templatePrefixRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("template line %s: %s", m[1], msg[len(m[0]):])
	}
	return errors.New(strings.TrimPrefix(msg, "template: "))
}

// treeWalker collects .Vars references and rejects unknown dot fields,
// only where the dot is still TemplateData (outside range and with).
type treeWalker struct {
	vars   []string
	data   []dataRef
	seen   map[string]bool
	ranges int // depth of range bodies
	err    error
}

// maxRange bounds the loops a template may run, so that rendering (and
// validating) a template always ends quickly.
const maxRange = 1000

// boundedRange reports whether a range pipeline iterates a bounded number
// of times: over .Vars, a small integer, or intRange with small bounds.
func boundedRange(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 {
		return false
	}
	small := func(n parse.Node) bool {
		num, ok := n.(*parse.NumberNode)
		return ok && num.IsInt && num.Int64 >= 0 && num.Int64 <= maxRange
	}
	args := p.Cmds[0].Args
	switch {
	case len(args) == 1:
		switch a := args[0].(type) {
		case *parse.FieldNode:
			return len(a.Ident) == 1 && a.Ident[0] == "Vars"
		case *parse.VariableNode:
			return len(a.Ident) == 2 && a.Ident[0] == "$" && a.Ident[1] == "Vars"
		}
		return small(args[0])
	case len(args) == 3:
		id, ok := args[0].(*parse.IdentifierNode)
		return ok && id.Ident == "intRange" && small(args[1]) && small(args[2])
	}
	return false
}

func (w *treeWalker) walk(n parse.Node, rootDot bool) {
	if w.err != nil || n == nil {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.walk(c, rootDot)
		}
	case *parse.ActionNode:
		w.walk(n.Pipe, rootDot)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			w.walk(c, rootDot)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			w.walk(a, rootDot)
		}
	case *parse.ChainNode:
		if id, ok := n.Node.(*parse.IdentifierNode); ok && id.Ident == "fake" {
			w.err = checkFake(n.Field[0])
			return
		}
		w.walk(n.Node, rootDot)
	case *parse.IdentifierNode:
		if n.Ident == "fake" {
			w.err = errors.New("fake must be followed by a function name, like fake.Name")
		}
	case *parse.FieldNode:
		if rootDot {
			w.field(n.Ident)
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			w.field(n.Ident[1:])
		}
	case *parse.IfNode:
		w.branch(&n.BranchNode, rootDot, rootDot)
	case *parse.RangeNode:
		if w.ranges > 0 {
			w.err = errors.New("a range inside a range is not supported")
			return
		}
		if !boundedRange(n.Pipe) {
			w.err = fmt.Errorf("range supports .Vars, a number up to %d, or intRange with bounds up to %d", maxRange, maxRange)
			return
		}
		w.ranges++
		w.branch(&n.BranchNode, rootDot, false)
		w.ranges--
	case *parse.WithNode:
		w.branch(&n.BranchNode, rootDot, false)
	case *parse.TemplateNode:
		w.err = errors.New("{{ template }} is not supported")
	}
}

func (w *treeWalker) branch(b *parse.BranchNode, rootDot, bodyDot bool) {
	w.walk(b.Pipe, rootDot)
	w.walk(b.List, bodyDot)
	w.walk(b.ElseList, rootDot)
}

func (w *treeWalker) field(ident []string) {
	if !templateFields[ident[0]] {
		w.err = fmt.Errorf("unknown field .%s (want .Synthetic, .RunID, .JourneyID, .Vars.name or .Data.feeder.column)", ident[0])
		return
	}
	if ident[0] == "Data" {
		switch len(ident) {
		case 1:
			w.err = errors.New(".Data needs a feeder, like .Data.users.email")
		case 2:
			w.data = append(w.data, dataRef{feeder: ident[1]})
		default:
			w.data = append(w.data, dataRef{feeder: ident[1], column: ident[2]})
		}
		return
	}
	if ident[0] != "Vars" || len(ident) < 2 {
		return
	}
	if name := ident[1]; !w.seen[name] {
		w.seen[name] = true
		w.vars = append(w.vars, name)
	}
}
