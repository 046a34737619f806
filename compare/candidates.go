package compare

// candidateView is what one candidate's reports show: its verdict and
// endpoints, judged against the primary. Writers that show candidates
// side by side (JUnit, HTML) range over candidates(r), so a report with
// several candidates is one more element there, not a new writer.
type candidateView struct {
	// Name is the candidate's name: "candidate" while a report holds one.
	Name string
	// Verdict, Headline and Reasons are the candidate's verdict, its one
	// line, and why.
	Verdict  string
	Headline string
	Reasons  []string
	// Endpoints are the candidate's endpoints, in report order.
	Endpoints []EndpointReport
}

// defaultCandidate names the only candidate of a report.
const defaultCandidate = "candidate"

// candidates returns the report's candidates. Today a Report judges one
// candidate, so this is the report itself.
func candidates(r *Report) []candidateView {
	return []candidateView{{Name: defaultCandidate, Verdict: r.Verdict, Headline: r.Headline, Reasons: r.Reasons, Endpoints: r.Endpoints}}
}

// endpointName is how reports and reasons name an endpoint.
func endpointName(ep *EndpointReport) string { return ep.Method + " " + ep.Route }
