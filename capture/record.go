package capture

import (
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// ExchangeRecord is what the shadow proxy records about one mirrored
// request: the exchange itself (request, every side's answer and timings)
// and the verdict the compare engine reached on it.
type ExchangeRecord struct {
	// Exchange holds the request and the primary, secondary and candidate
	// answers, with their latencies.
	Exchange exchange.Exchange `msgpack:"exchange"`
	// Endpoint is the aggregation key: method and path template, e.g.
	// "GET /orders/{id}".
	Endpoint string `msgpack:"endpoint"`
	// Differs reports that the candidate's answer differed from the
	// primary's beyond the known noise.
	Differs bool `msgpack:"differs"`
	// Diffs lists the paths of the fields that differed, e.g.
	// "status", "header.Content-Type", "body.$.items[0].price".
	Diffs []string `msgpack:"diffs,omitempty"`
	// Noise lists the paths that differed but were judged noise (they also
	// differ between primary and secondary, or were configured as noise).
	Noise []string `msgpack:"noise,omitempty"`
	// Descriptors is, for a gRPC exchange, the Hash of the
	// DescriptorRecord (earlier in the same file) that describes its
	// method's messages; empty when none was known. Since version 1.1.
	Descriptors string `msgpack:"descriptors,omitempty"`
	// Candidates holds the verdicts on Exchange.OtherCandidates, in their
	// order, when several candidates are configured; Differs, Diffs and
	// Noise above are then the first candidate's (Exchange.Candidate).
	// Empty with one candidate, and in records made before it existed.
	Candidates []CandidateVerdict `msgpack:"candidates,omitempty"`
	// Sealed, when set by Redactor.Seal under the Writer's own redaction
	// rules, is what the Writer writes as the exchange: Exchange, already
	// redacted into it, is then only counted against MaxRecordEntries.
	// Otherwise (nil, the zero value, other rules) the Writer redacts
	// Exchange itself. It is not stored: records read back have none.
	Sealed *SealedExchange `msgpack:"-" json:"-"`
}

// CandidateVerdict is the compare engine's verdict on one of an
// exchange's other candidates.
type CandidateVerdict struct {
	// Name is the candidate's name (exchange.Response.Name).
	Name string `msgpack:"name"`
	// Differs, Diffs and Noise are as in ExchangeRecord, for this
	// candidate.
	Differs bool     `msgpack:"differs"`
	Diffs   []string `msgpack:"diffs,omitempty"`
	Noise   []string `msgpack:"noise,omitempty"`
}

// SynthRecord is what the synthetic runner records about one step of one
// journey.
type SynthRecord struct {
	// RunID identifies the synth run (it is also sent in the tags).
	RunID string `msgpack:"run_id"`
	// Scenario names the scenario file or its declared name.
	Scenario string `msgpack:"scenario"`
	// Journey is the journey's name in the scenario.
	Journey string `msgpack:"journey"`
	// JourneyID identifies this one execution of the journey.
	JourneyID string `msgpack:"journey_id"`
	// Step is the step's name within the journey.
	Step string `msgpack:"step"`
	// Tags are the synthetic tags the request carried (header name to
	// value).
	Tags map[string]string `msgpack:"tags,omitempty"`
	// Method is the HTTP method sent.
	Method string `msgpack:"method"`
	// URL is the URL the step requested.
	URL string `msgpack:"url"`
	// Status is the HTTP status received; 0 when no answer arrived.
	Status int `msgpack:"status"`
	// Latency is measured from Intended, not from when the request was
	// actually sent, so a stalled target shows up as latency.
	Latency time.Duration `msgpack:"latency"`
	// Intended is when the pacer scheduled the step to start.
	Intended time.Time `msgpack:"intended"`
	// ErrorKind classifies a failure to get an answer ("timeout",
	// "connect", "reset", ...); empty when an answer arrived.
	ErrorKind string `msgpack:"error_kind,omitempty"`
	// Passed reports that every assertion of the step held.
	Passed bool `msgpack:"passed"`
	// Failures describes the assertions that did not hold, one per entry.
	// They are written as given: assertion messages should name the
	// expectation, not echo secret values.
	Failures []string `msgpack:"failures,omitempty"`
}

// Record is one entry read back from a capture file. Exactly one of
// Exchange and Synth is set, as Kind says.
type Record struct {
	// Kind says which field is set.
	Kind Kind
	// Exchange is set when Kind is KindExchange.
	Exchange *ExchangeRecord
	// Synth is set when Kind is KindSynth.
	Synth *SynthRecord
	// Descriptors is set when Kind is KindDescriptors.
	Descriptors *DescriptorRecord
}
