package compare

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultRelativeThreshold = 0.2
	DefaultAbsoluteThreshold = 0.03
	DefaultMinSamples        = 10
	DefaultExemplars         = 5
	DefaultExemplarBytes     = 1024
	DefaultMaxEndpoints      = 500
	DefaultMaxFields         = 50
	DefaultMaxSegmentValues  = 32
	DefaultMinPairs          = 20
	DefaultMaxDiffRate       = 0.01
	DefaultMaxErrorRate      = 0.01
)

// Config says how the Engine judges exchanges. The zero value is ready to
// use: the default header ignore list, automatic endpoint templating, no
// normalizers, and the defaults documented on each field.
type Config struct {
	// IgnoreHeaders names response headers that are never compared, in
	// addition to DefaultIgnoreHeaders (or instead of them, see
	// ReplaceIgnoreHeaders). Names are case-insensitive; a trailing "*"
	// matches any suffix ("X-B3-*").
	IgnoreHeaders []string `json:"ignore_headers,omitempty" yaml:"ignore_headers,omitempty" mapstructure:"ignore_headers"`
	// ReplaceIgnoreHeaders makes IgnoreHeaders replace the default list
	// instead of extending it.
	ReplaceIgnoreHeaders bool `json:"replace_ignore_headers,omitempty" yaml:"replace_ignore_headers,omitempty" mapstructure:"replace_ignore_headers"`
	// Routes are path templates such as "/orders/{id}" that name
	// endpoints. The first one that matches a request path wins over
	// automatic templating. A "{name}" segment matches one path segment;
	// a final "{name...}" matches the rest of the path.
	Routes []string `json:"routes,omitempty" yaml:"routes,omitempty" mapstructure:"routes"`
	// Normalizers are applied, in order, to both sides of every body
	// before they are diffed (see Normalizer).
	Normalizers []Normalizer `json:"normalizers,omitempty" yaml:"normalizers,omitempty" mapstructure:"normalizers"`
	// Comparators choose how the bodies of a route are compared, whatever
	// their Content-Type; the first rule whose Route matches wins. Routes
	// without a rule choose per body (AutoComparator).
	Comparators []ComparatorRule `json:"comparators,omitempty" yaml:"comparators,omitempty" mapstructure:"comparators"`
	// Noise says when a field that also differs between primary and
	// secondary counts as noise.
	Noise NoiseConfig `json:"noise" yaml:"noise" mapstructure:"noise"`
	// Exemplars is how many example differences are kept per endpoint and
	// field: the first half (rounded up) as they arrive, the rest as a
	// uniform reservoir sample of later ones. 0 means DefaultExemplars;
	// negative keeps none.
	Exemplars int `json:"exemplars,omitempty" yaml:"exemplars,omitempty" mapstructure:"exemplars"`
	// ExemplarBytes bounds each body (request, primary, candidate) kept in
	// an exemplar. 0 means DefaultExemplarBytes.
	ExemplarBytes int `json:"exemplar_bytes,omitempty" yaml:"exemplar_bytes,omitempty" mapstructure:"exemplar_bytes"`
	// MaxEndpoints bounds the number of distinct endpoints; exchanges of
	// any further endpoint are folded into one endpoint with method "*"
	// and route OtherRoute. 0 means DefaultMaxEndpoints.
	MaxEndpoints int `json:"max_endpoints,omitempty" yaml:"max_endpoints,omitempty" mapstructure:"max_endpoints"`
	// MaxFields bounds the distinct field paths tracked per endpoint;
	// further ones are counted under OtherField. 0 means DefaultMaxFields.
	MaxFields int `json:"max_fields,omitempty" yaml:"max_fields,omitempty" mapstructure:"max_fields"`
	// MaxSegmentValues is how many distinct literal values one path
	// position (after the same prefix) may take before further values are
	// templated as "{id}" (high-cardinality segments such as user names).
	// 0 means DefaultMaxSegmentValues.
	MaxSegmentValues int `json:"max_segment_values,omitempty" yaml:"max_segment_values,omitempty" mapstructure:"max_segment_values"`
	// Budget bounds the work of comparing two bodies; past it an exchange
	// is marked too large (see Budget). The zero value takes its defaults.
	Budget Budget `json:"budget" yaml:"budget" mapstructure:"budget"`
	// Verdict says when a report fails.
	Verdict VerdictRule `json:"verdict" yaml:"verdict" mapstructure:"verdict"`
	// Seed seeds the exemplar reservoir sampling so that a report built
	// from the same exchanges in the same order is identical. 0 picks a
	// random seed.
	Seed uint64 `json:"seed,omitempty" yaml:"seed,omitempty" mapstructure:"seed"`
	// Schemas finds the descriptors of gRPC methods, so that protobuf
	// messages compare by field name ("$.order.items[2].price"). Nil
	// compares them by field number ("$.1.3[2].2"); see protobuf.go.
	Schemas MessageResolver `json:"-" yaml:"-" mapstructure:"-"`
	// Outbound compares the candidate's outbound calls with the primary's
	// (exchange.Exchange.Outbound, recorded by egress): its differences
	// count like a status or header difference. Nil leaves outbound calls
	// alone.
	Outbound OutboundJudge `json:"-" yaml:"-" mapstructure:"-"`
}

// NoiseConfig holds the thresholds that decide, per endpoint and field,
// whether differences are explained by noise: differences that two copies
// of the primary also show between themselves.
//
// With noise rate n (share of primary/secondary exchanges where the field
// differs) and raw rate r (share of primary/candidate exchanges where it
// differs), a field is noise when n > 0, at least MinSamples secondary
// answers were seen, and the candidate's excess r-n is not significant:
// r-n ≤ RelativeThreshold·r (noise explains most of it) or
// r-n ≤ AbsoluteThreshold. Status and header differences are never noise.
type NoiseConfig struct {
	// RelativeThreshold is the share of the raw rate that the excess must
	// exceed to count as real. 0 means DefaultRelativeThreshold.
	RelativeThreshold float64 `json:"relative_threshold,omitempty" yaml:"relative_threshold,omitempty" mapstructure:"relative_threshold"`
	// AbsoluteThreshold is the rate the excess must exceed to count as
	// real. 0 means DefaultAbsoluteThreshold.
	AbsoluteThreshold float64 `json:"absolute_threshold,omitempty" yaml:"absolute_threshold,omitempty" mapstructure:"absolute_threshold"`
	// MinSamples is how many exchanges with a secondary answer an
	// endpoint needs before any of its fields can be noise. 0 means
	// DefaultMinSamples.
	MinSamples int `json:"min_samples,omitempty" yaml:"min_samples,omitempty" mapstructure:"min_samples"`
}

// VerdictRule says when a report fails. An endpoint is judged once it has
// MinPairs compared pairs; it fails when its diff rate (noise excluded) is
// above MaxDiffRate, or its candidate error rate is above MaxErrorRate.
type VerdictRule struct {
	// MinPairs is how many compared pairs an endpoint needs to be judged.
	// 0 means DefaultMinPairs.
	MinPairs int `json:"min_pairs,omitempty" yaml:"min_pairs,omitempty" mapstructure:"min_pairs"`
	// MaxDiffRate is the highest acceptable share of differing pairs.
	// 0 means DefaultMaxDiffRate.
	MaxDiffRate float64 `json:"max_diff_rate,omitempty" yaml:"max_diff_rate,omitempty" mapstructure:"max_diff_rate"`
	// MaxErrorRate is the highest acceptable share of exchanges where the
	// candidate failed or timed out while the primary answered. 0 means
	// DefaultMaxErrorRate; negative disables the check.
	MaxErrorRate float64 `json:"max_error_rate,omitempty" yaml:"max_error_rate,omitempty" mapstructure:"max_error_rate"`
	// Latency is the latency gate: how much slower than the primary the
	// candidate may be, per endpoint. The zero value takes the defaults
	// (on); see LatencyRule.
	Latency LatencyRule `json:"max_latency_regression" yaml:"max_latency_regression" mapstructure:"max_latency_regression"`
	// Routes override the rule for some endpoints; the first entry whose
	// Route matches an endpoint wins. nil means none.
	Routes []RouteRule `json:"routes,omitempty" yaml:"routes,omitempty" mapstructure:"routes"`
}

// NormalizerKind says what a Normalizer does.
type NormalizerKind string

// The normalizer kinds.
const (
	// Ignore drops the fields matched by Path from both sides.
	Ignore NormalizerKind = "ignore"
	// Replace rewrites string values matched by Path (every string when
	// Path is empty, and text bodies) with a regular expression: Pattern
	// or a Builtin one. A Path of "header.Name" or "header.*" rewrites
	// response header values instead.
	Replace NormalizerKind = "replace"
	// Set compares the arrays matched by Path as sets: order and
	// duplicates do not matter.
	Set NormalizerKind = "set"
	// Sort sorts the arrays matched by Path by Key (a field of each
	// element) before comparing, or by the elements themselves when Key
	// is empty. Differences then name indexes in sorted order.
	Sort NormalizerKind = "sort"
	// Tolerance treats the numbers matched by Path as equal when they
	// differ by at most Tolerance, or by at most Relative times the larger
	// magnitude.
	Tolerance NormalizerKind = "tolerance"
)

// Normalizer is one rewrite applied to both sides before diffing, so that
// differences that do not matter disappear. Paths use the syntax of
// Difference paths with wildcards, and the path says which bodies a
// normalizer reaches:
//
//   - JSON: "$.items[*].eta" (any array index or object key), "$.meta.*",
//     "$..updated_at" (at any depth), "$['a.b']" or `$["a.b"]` (a key
//     that is not a name). The grammar is package internal/jsonpath's,
//     the one capture's Redactor.FieldPaths use. Every kind applies.
//   - XML: "/order/items/item/price" (no index: every item),
//     "/order/items/item[2]", "/order/*/price", "//updated_at" (at any
//     depth), "/order/@id", "//@*" (attributes). Ignore, Replace and
//     Tolerance apply (to an element's text or an attribute's value);
//     Set and Sort do not.
//   - Form: "form.qty", `form["order-id"]`, "form.*" (every key),
//     covering all the values of a key. Ignore, Replace, Tolerance, Set
//     and Sort (of the values, without Key) apply.
//
// Replace without a Path reaches every JSON string, XML text and
// attribute value, form value and text body.
type Normalizer struct {
	// Kind says what the normalizer does.
	Kind NormalizerKind `json:"kind" yaml:"kind" mapstructure:"kind"`
	// Path selects where it applies. Required except for Replace.
	Path string `json:"path,omitempty" yaml:"path,omitempty" mapstructure:"path"`
	// Route limits the normalizer to one endpoint: a route template
	// ("/orders/{id}") or method and template ("GET /orders/{id}"), as
	// reports show them. Empty applies everywhere.
	Route string `json:"route,omitempty" yaml:"route,omitempty" mapstructure:"route"`
	// Pattern is the regular expression (RE2 syntax) that Replace looks
	// for. Exactly one of Pattern and Builtin is set for Replace.
	Pattern string `json:"pattern,omitempty" yaml:"pattern,omitempty" mapstructure:"pattern"`
	// Builtin names a built-in pattern for Replace; see BuiltinPatterns.
	Builtin string `json:"builtin,omitempty" yaml:"builtin,omitempty" mapstructure:"builtin"`
	// Replacement is what Replace writes in place of each match
	// ($1-style group references work). Empty means "<builtin name>" for
	// a Builtin and "<replaced>" for a Pattern.
	Replacement string `json:"replacement,omitempty" yaml:"replacement,omitempty" mapstructure:"replacement"`
	// Key is the field of each array element that Sort orders by; a dotted
	// path ("product.id") reaches into nested objects.
	Key string `json:"key,omitempty" yaml:"key,omitempty" mapstructure:"key"`
	// Tolerance is the absolute difference that Tolerance allows.
	Tolerance float64 `json:"tolerance,omitempty" yaml:"tolerance,omitempty" mapstructure:"tolerance"`
	// Relative is the relative difference that Tolerance allows (0.001
	// for 0.1%).
	Relative float64 `json:"relative,omitempty" yaml:"relative,omitempty" mapstructure:"relative"`
}

// Validate reports the first invalid field of c, named by its config key
// ("normalizers[1].path: ...").
func (c Config) Validate() error {
	for i, h := range c.IgnoreHeaders {
		if err := validHeaderPattern(h); err != nil {
			return fmt.Errorf("ignore_headers[%d]: %w", i, err)
		}
	}
	for i, r := range c.Routes {
		if _, err := parseRoute(r); err != nil {
			return fmt.Errorf("routes[%d]: %w", i, err)
		}
	}
	for i, n := range c.Normalizers {
		if err := n.validate(); err != nil {
			return fmt.Errorf("normalizers[%d].%w", i, err)
		}
	}
	for i, r := range c.Comparators {
		if err := r.validate(); err != nil {
			return fmt.Errorf("comparators[%d].%w", i, err)
		}
	}
	if err := c.Noise.validate(); err != nil {
		return fmt.Errorf("noise.%w", err)
	}
	if err := c.Budget.validate(); err != nil {
		return fmt.Errorf("budget.%w", err)
	}
	if err := c.Verdict.validate(); err != nil {
		return fmt.Errorf("verdict.%w", err)
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"exemplar_bytes", c.ExemplarBytes},
		{"max_endpoints", c.MaxEndpoints},
		{"max_fields", c.MaxFields},
		{"max_segment_values", c.MaxSegmentValues},
	} {
		if f.v < 0 {
			return fmt.Errorf("%s: must not be negative, got %d", f.name, f.v)
		}
	}
	return nil
}

func (n NoiseConfig) validate() error {
	if err := checkRate("relative_threshold", n.RelativeThreshold); err != nil {
		return err
	}
	if err := checkRate("absolute_threshold", n.AbsoluteThreshold); err != nil {
		return err
	}
	if n.MinSamples < 0 {
		return fmt.Errorf("min_samples: must not be negative, got %d", n.MinSamples)
	}
	return nil
}

func (v VerdictRule) validate() error {
	if v.MinPairs < 0 {
		return fmt.Errorf("min_pairs: must not be negative, got %d", v.MinPairs)
	}
	if err := checkRate("max_diff_rate", v.MaxDiffRate); err != nil {
		return err
	}
	if v.MaxErrorRate >= 0 {
		if err := checkRate("max_error_rate", v.MaxErrorRate); err != nil {
			return err
		}
	}
	if err := v.Latency.validate(); err != nil {
		return fmt.Errorf("max_latency_regression.%w", err)
	}
	for i, r := range v.Routes {
		if err := r.validate(); err != nil {
			return fmt.Errorf("routes[%d].%w", i, err)
		}
	}
	return nil
}

func checkRate(name string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return fmt.Errorf("%s: must be a rate between 0 and 1, got %v", name, v)
	}
	return nil
}

func (n Normalizer) validate() error {
	if n.Route != "" {
		if _, _, err := parseRouteFilter(n.Route); err != nil {
			return fmt.Errorf("route: %w", err)
		}
	}
	switch n.Kind {
	case Ignore, Set, Sort, Tolerance:
		if n.Path == "" {
			return fmt.Errorf("path: required for kind %q", n.Kind)
		}
		if err := validPath(n.Path); err != nil {
			return fmt.Errorf("path: %w", err)
		}
		if (n.Kind == Set || n.Kind == Sort) && strings.HasPrefix(n.Path, "/") {
			return fmt.Errorf("path: kind %q applies to JSON arrays and form values, not to XML path %q", n.Kind, n.Path)
		}
	case Replace:
		if n.Path != "" && !isHeaderPath(n.Path) && n.Path != bodyPath {
			if err := validPath(n.Path); err != nil {
				return fmt.Errorf("path: %w", err)
			}
		}
		switch {
		case n.Pattern == "" && n.Builtin == "":
			return errors.New("pattern: replace needs a pattern or a builtin")
		case n.Pattern != "" && n.Builtin != "":
			return errors.New("builtin: set either pattern or builtin, not both")
		case n.Builtin != "":
			if _, ok := BuiltinPatterns[n.Builtin]; !ok {
				return fmt.Errorf("builtin: unknown pattern %q (want one of %s)", n.Builtin, strings.Join(builtinNames(), ", "))
			}
		default:
			if _, err := regexp.Compile(n.Pattern); err != nil {
				return fmt.Errorf("pattern: %w", err)
			}
		}
	case "":
		return errors.New("kind: required (ignore, replace, set, sort or tolerance)")
	default:
		return fmt.Errorf("kind: unknown kind %q (want ignore, replace, set, sort or tolerance)", n.Kind)
	}
	if n.Key != "" && n.Kind != Sort {
		return fmt.Errorf("key: only used by kind %q", Sort)
	}
	if n.Key != "" && isFormPath(n.Path) {
		return errors.New("key: form values are sorted as text, without a key")
	}
	if n.Kind == Tolerance {
		if math.IsNaN(n.Tolerance) || n.Tolerance < 0 || math.IsInf(n.Tolerance, 0) {
			return fmt.Errorf("tolerance: must be a finite number ≥ 0, got %v", n.Tolerance)
		}
		if math.IsNaN(n.Relative) || n.Relative < 0 || n.Relative > 1 {
			return fmt.Errorf("relative: must be between 0 and 1, got %v", n.Relative)
		}
		if n.Tolerance == 0 && n.Relative == 0 {
			return errors.New("tolerance: set tolerance or relative (or both)")
		}
	}
	return nil
}

// validPath checks a normalizer path of any body format: JSON ("$…"),
// XML ("/…") or form ("form.…").
func validPath(p string) error {
	switch {
	case strings.HasPrefix(p, "/"):
		_, err := parseXPattern(p)
		return err
	case isFormPath(p):
		_, err := parseFormPattern(p)
		return err
	}
	if _, err := parseJSONPath(p); err != nil {
		return fmt.Errorf("%w (or an XML path like /order/id, or a form path like form.qty)", err)
	}
	return nil
}

// WithDefaults returns c with every zero field set to the default it
// stands for: the settings an Engine made by New judges by. A negative
// Exemplars (keep none) stays as it is.
func (c Config) WithDefaults() Config {
	if c.Noise.RelativeThreshold == 0 {
		c.Noise.RelativeThreshold = DefaultRelativeThreshold
	}
	if c.Noise.AbsoluteThreshold == 0 {
		c.Noise.AbsoluteThreshold = DefaultAbsoluteThreshold
	}
	if c.Noise.MinSamples == 0 {
		c.Noise.MinSamples = DefaultMinSamples
	}
	if c.Exemplars == 0 {
		c.Exemplars = DefaultExemplars
	}
	if c.ExemplarBytes == 0 {
		c.ExemplarBytes = DefaultExemplarBytes
	}
	if c.MaxEndpoints == 0 {
		c.MaxEndpoints = DefaultMaxEndpoints
	}
	if c.MaxFields == 0 {
		c.MaxFields = DefaultMaxFields
	}
	if c.MaxSegmentValues == 0 {
		c.MaxSegmentValues = DefaultMaxSegmentValues
	}
	c.Budget = c.Budget.withDefaults()
	if c.Verdict.MinPairs == 0 {
		c.Verdict.MinPairs = DefaultMinPairs
	}
	if c.Verdict.MaxDiffRate == 0 {
		c.Verdict.MaxDiffRate = DefaultMaxDiffRate
	}
	if c.Verdict.MaxErrorRate == 0 {
		c.Verdict.MaxErrorRate = DefaultMaxErrorRate
	}
	c.Verdict.Latency = c.Verdict.Latency.withDefaults()
	return c
}

// withDefaults is WithDefaults as the engine reads it: no exemplars is 0.
func (c Config) withDefaults() Config {
	c = c.WithDefaults()
	c.Exemplars = max(c.Exemplars, 0)
	return c
}
