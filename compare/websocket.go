package compare

import (
	"slices"
	"strings"

	"github.com/understudy-dev/understudy/exchange"
)

// WebSocket messages. The proxy hands over one exchange per server message
// of a mirrored WebSocket connection (exchange.WebSocket), filed under the
// endpoint of the upgrade ("GET /ws") and judged like any answer: the
// message's payload is the body (JSON field by field, noise learned from
// the secondary's message at the same position), and its type (text or
// binary) a header that always counts. The endpoint's pairs hold the
// upgrade and its messages together; MessageCounts says how many of them
// were messages.

// MessageCounts counts the WebSocket messages compared on one endpoint.
type MessageCounts struct {
	// Compared is the messages compared with the candidate's message at
	// the same position.
	Compared int64 `json:"compared"`
	// Differing is the Compared that differ other than by noise, judged
	// with the noise learned over the whole run, as the endpoint's Diffs.
	Differing int64 `json:"differing"`
	// CandidateErrors is the messages the candidate had no counterpart
	// for: its connection ended, or its message did not come within the
	// candidate timeout.
	CandidateErrors int64 `json:"candidate_errors"`
}

// messageAgg counts an endpoint's WebSocket messages; used under the
// endpoint's mu.
type messageAgg struct {
	compared, failed, hard int64
	// sigs counts the messages with body differences by their set of
	// differing fields (as endpointAgg.sigs), decided at report time.
	sigs     map[string]*signature
	overflow int64 // differing messages whose signature did not fit, judged on arrival
}

// recordMessage adds a judged exchange that is a WebSocket message.
func (a *endpointAgg) recordMessage(res *Result, x *exchange.Exchange, e *Engine) {
	if x.WebSocket == nil || x.WebSocket.Message == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.msgs == nil {
		a.msgs = &messageAgg{sigs: map[string]*signature{}}
	}
	m := a.msgs
	switch res.Outcome {
	case CandidateFailed, CandidateTimedOut:
		m.failed++
		return
	case Compared:
	default:
		return
	}
	m.compared++
	if res.hard {
		m.hard++
		return
	}
	var body []string
	for _, f := range res.fields {
		if name, _ := a.fold(f, e.cfg.MaxFields); isBodyField(f) && !slices.Contains(body, name) {
			body = append(body, name)
		}
	}
	if len(body) == 0 {
		return
	}
	slices.Sort(body)
	key := strings.Join(body, "\x00")
	switch s := m.sigs[key]; {
	case s != nil:
		s.count++
	case len(m.sigs) < maxSignatures:
		m.sigs[key] = &signature{fields: body, count: 1}
	case !a.allNoise(body, e.noise):
		m.overflow++
	}
}

// report returns the counts, judging body fields by noisy (the
// endpoint's fields judged noise); nil when no message was seen.
func (m *messageAgg) report(noisy map[string]bool) *MessageCounts {
	if m == nil {
		return nil
	}
	out := &MessageCounts{Compared: m.compared, Differing: m.hard + m.overflow, CandidateErrors: m.failed}
	for _, s := range m.sigs {
		if slices.ContainsFunc(s.fields, func(f string) bool { return !noisy[f] }) {
			out.Differing += s.count
		}
	}
	return out
}
