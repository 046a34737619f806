package compare

import (
	"fmt"
	"strings"
)

// outboundRows are the summary rows about outbound calls, for a report
// whose exchanges had some judged or refused; none otherwise.
func outboundRows(t Totals) []htmlRow {
	if t.OutboundDiffs == 0 && t.OutboundRefused == 0 {
		return nil
	}
	return []htmlRow{
		{Label: "Pairs whose outbound calls differ", Value: fmt.Sprint(t.OutboundDiffs)},
		{Label: "Candidate outbound calls refused by egress", Value: fmt.Sprint(t.OutboundRefused)},
	}
}

// outbound lists, per endpoint, how the candidate's calls to dependencies
// differ from the primary's, each with an example in a sentence.
func (m *md) outbound(r *Report) {
	type row struct {
		ep *EndpointReport
		f  *FieldReport
	}
	var rows []row
	refused := false
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		refused = refused || e.OutboundRefused > 0
		for j := range e.Fields {
			if f := &e.Fields[j]; isOutboundPath(f.Path) && f.Diffs > 0 {
				rows = append(rows, row{e, f})
			}
		}
	}
	if len(rows) == 0 && !refused {
		return
	}
	m.p("## Outbound calls\n\n")
	m.p("What the candidate sent to its dependencies, through egress, against what the primary sent " +
		"in the same exchange. The candidate's calls were answered with the primary's answers and never reached a dependency.\n\n")
	if len(rows) > 0 {
		m.p("| Endpoint | Dependency call | Field | Pairs | Example |\n|---|---|---|--:|---|\n")
		for _, rw := range rows {
			call, field := splitOutbound(rw.f.Path)
			example := ""
			if len(rw.f.Exemplars) > 0 {
				example = rw.f.Exemplars[0].Difference.Detail
			}
			m.p("| %s | %s | %s | %d of %d | %s |\n", mdCell(rw.ep.Method+" "+rw.ep.Route), mdCell(call), mdCell(field),
				rw.f.Diffs, rw.ep.Pairs, mdText(example))
		}
		m.p("\n")
	}
	for _, e := range r.Endpoints {
		if e.OutboundRefused > 0 {
			m.p("- %s: %s refused by egress (answered 503, never sent): the primary made no such call, or the call carried no traceparent.\n",
				mdCode(e.Method+" "+e.Route), plural(e.OutboundRefused, "candidate call"))
		}
	}
	if refused {
		m.p("\n")
	}
}

// splitOutbound splits an outbound field path into the dependency
// endpoint ("POST payments /charges") and the field ("$.amount").
func splitOutbound(p string) (call, field string) {
	parts := strings.SplitN(strings.TrimPrefix(p, OutboundPrefix), " ", 4)
	if len(parts) < 4 {
		return strings.Join(parts, " "), ""
	}
	return strings.Join(parts[:3], " "), parts[3]
}
