package compare

import (
	"fmt"
	"slices"
	"strings"
)

// Defaults applied by New to the zero fields of Budget.
const (
	DefaultMaxNodes       = 1_000_000
	DefaultMaxDifferences = 1_000
)

// Budget bounds the work of one comparison of two bodies (the
// candidate's against the primary's, and the secondary's against the
// primary's when there is one), so that a huge or wildly different answer
// costs the judge a bounded share of the CPU instead of stalling the
// judgements of everyone else. Past either bound the comparison stops and
// the exchange is marked too large (Result.TooLarge, counted per endpoint
// as Counts.TooLarge): the differences found so far are kept, others may
// be missed, none is invented. Decoding a body is not counted: it is
// linear in the body, whose size the proxy bounds.
//
// The zero value takes the defaults.
type Budget struct {
	// MaxNodes bounds the nodes visited: JSON values, XML elements and
	// attributes, form values, on both sides, by the normalizers and the
	// diff. 0 means DefaultMaxNodes.
	MaxNodes int `json:"max_nodes,omitempty" yaml:"max_nodes,omitempty" mapstructure:"max_nodes"`
	// MaxDifferences bounds the differences found. Results list at most
	// 100 of them per list, the rest are counted in Result.Omitted; all
	// of them count for their fields. 0 means DefaultMaxDifferences.
	MaxDifferences int `json:"max_differences,omitempty" yaml:"max_differences,omitempty" mapstructure:"max_differences"`
}

func (b Budget) validate() error {
	if b.MaxNodes < 0 {
		return fmt.Errorf("max_nodes: must not be negative, got %d", b.MaxNodes)
	}
	if b.MaxDifferences < 0 {
		return fmt.Errorf("max_differences: must not be negative, got %d", b.MaxDifferences)
	}
	return nil
}

func (b Budget) withDefaults() Budget {
	if b.MaxNodes == 0 {
		b.MaxNodes = DefaultMaxNodes
	}
	if b.MaxDifferences == 0 {
		b.MaxDifferences = DefaultMaxDifferences
	}
	return b
}

// budget is what is left of a Budget during one comparison.
type budget struct {
	nodesLeft, diffsLeft int
	spent                bool // a bound was passed: stop
}

func newBudget(b Budget) budget { return budget{nodesLeft: b.MaxNodes, diffsLeft: b.MaxDifferences} }

// visit charges n nodes about to be visited and reports whether the
// work may go on; when they do not fit, nothing is charged and the
// budget is spent.
func (b *budget) visit(n int) bool {
	switch {
	case b.spent:
	case n > b.nodesLeft:
		b.spent = true
	default:
		b.nodesLeft -= n
	}
	return !b.spent
}

// collector gathers the differences of one comparison of two bodies,
// within its budget. Every format reports to one; the engine reads the
// outcome with done.
type collector struct {
	budget
	diffs   []Difference // the first maxDifferences found
	fields  []string     // Field() of every difference found
	omitted int          // found but not kept
}

// found charges one difference found, reporting false once the budget
// of differences is spent: the caller stops.
func (b *budget) found() bool {
	switch {
	case b.spent:
	case b.diffsLeft == 0:
		b.spent = true
	default:
		b.diffsLeft--
	}
	return !b.spent
}

// add records a difference whose field (Path with indexes generalized)
// is field. It reports false, recording nothing, once the budget of
// differences is spent: the caller stops.
func (c *collector) add(d Difference, field string) bool {
	if !c.found() {
		return false
	}
	c.record(d, field)
	return true
}

// record records a difference already charged (see found).
func (c *collector) record(d Difference, field string) {
	d.field = field
	if c.fields == nil {
		c.fields, c.diffs = make([]string, 0, 4), make([]Difference, 0, 4)
	}
	c.fields = append(c.fields, field)
	if len(c.diffs) < maxDifferences {
		c.diffs = append(c.diffs, d)
	} else {
		c.omitted++
	}
}

// keeping reports whether the next difference added is kept in full:
// past the ones a Result lists, only fields are worth making.
func (c *collector) keeping() bool { return len(c.diffs) < maxDifferences }

// one records the single difference of a body compared as a whole.
func (c *collector) one(d Difference) { c.add(d, d.Field()) }

// bodyDiff is the outcome of comparing two bodies.
type bodyDiff struct {
	diffs     []Difference // sorted by path
	fields    []string     // distinct, sorted
	omitted   int
	truncated bool // a body was cut off by the proxy
	tooLarge  bool // the budget was spent
}

// done returns what the comparison found, sorted.
func (c *collector) done() bodyDiff {
	if len(c.diffs) > 1 {
		slices.SortStableFunc(c.diffs, func(x, y Difference) int { return strings.Compare(x.Path, y.Path) })
	}
	if len(c.fields) > 1 {
		slices.Sort(c.fields)
		c.fields = slices.Compact(c.fields)
	}
	return bodyDiff{diffs: c.diffs, fields: c.fields, omitted: c.omitted, tooLarge: c.spent}
}
