package compare

import "fmt"

// messagesText is an endpoint's WebSocket message counts as reports show
// them; "" when it had none.
func messagesText(ep *EndpointReport) string {
	m := ep.Messages
	if m == nil {
		return ""
	}
	s := fmt.Sprintf("%d compared / %d differing", m.Compared, m.Differing)
	if m.CandidateErrors > 0 {
		s += fmt.Sprintf(" (%s without a counterpart)", plural(m.CandidateErrors, "message"))
	}
	return s
}

// messages writes the WebSocket messages table: one row per endpoint
// whose pairs include messages of mirrored connections.
func (m *md) messages(r *Report) {
	head := false
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		if e.Messages == nil {
			continue
		}
		if !head {
			m.p("### WebSocket messages\n\n")
			m.p("Server messages of mirrored connections, paired by position with the candidate's; counted in the endpoint's pairs too.\n\n")
			m.p("| Endpoint | Messages compared / differing |\n|---|--:|\n")
			head = true
		}
		m.p("| %s | %s |\n", mdCell(e.Method+" "+e.Route), messagesText(e))
	}
	if head {
		m.p("\n")
	}
}
