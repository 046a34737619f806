package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// ShadowPage is the page the shadow view shows.
type ShadowPage int

// The shadow view's pages, from the overview down.
const (
	// PageEndpoints is the overview: state, counters, endpoint table and
	// latency chart.
	PageEndpoints ShadowPage = iota
	// PageFields is one endpoint's fields and exemplars.
	PageFields
	// PageExemplar is one exemplar's differences.
	PageExemplar
	// PageRoutes is the proxy's configured routes, to switch their
	// mirroring off and on; esc goes back to the page it was opened from.
	PageRoutes
)

// ShadowKeyMap holds the keys that move between the shadow view's pages.
type ShadowKeyMap struct {
	// Open drills down: endpoint → fields → exemplar.
	Open key.Binding
	// Back goes up one page.
	Back key.Binding
	// Routes opens the proxy's routes (and closes them again), when the
	// snapshot reports them.
	Routes key.Binding
}

// DefaultShadowKeyMap returns enter, esc and r.
func DefaultShadowKeyMap() ShadowKeyMap {
	return ShadowKeyMap{
		Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:   key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Routes: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "mirror routes")),
	}
}

// ShadowView shows a parallel run: a state line (verdict, upstreams),
// counters with request rates derived from successive snapshots, the
// sample share and the routes switched off (when the proxy reports
// them), the endpoint table, and primary against candidate p99 over time.
// Enter drills into an endpoint's fields and then into an exemplar; esc
// goes back; r opens the proxy's routes.
type ShadowView struct {
	// KeyMap holds the page keys; the pages' components hold their own.
	KeyMap ShadowKeyMap

	styles    Styles
	snap      ShadowSnapshot
	at        time.Time // the snapshot's time
	have      bool
	page      ShadowPage
	table     EndpointTable
	fields    EndpointFields
	exemplar  ExemplarView
	routes    MirrorRoutes
	latency   chart
	hist      history
	reqRate   counterRate
	mirrRate  counterRate
	width     int
	height    int
	tableRows int
	// tuning is the proxy's sample share and routes as shown: the
	// snapshot's, or what SetTuning set since; nil when not reported.
	tuning *Tuning
	// back is the page PageRoutes was opened from.
	back ShadowPage
	// notice is what the last Update has to tell the user, if anything.
	notice string
}

// NewShadowView returns a view with no data yet.
func NewShadowView(st Styles) ShadowView {
	return ShadowView{
		KeyMap:   DefaultShadowKeyMap(),
		styles:   st,
		table:    NewEndpointTable(st),
		fields:   NewEndpointFields(st),
		exemplar: NewExemplarView(st),
		routes:   NewMirrorRoutes(st),
		latency:  newChart("p99", "primary", "candidate", fmtMillis, st),
	}
}

// SetSnapshot shows s, taken at t: it updates the counters, rates, table
// and chart, and the open endpoint when there is one.
func (v *ShadowView) SetSnapshot(t time.Time, s ShadowSnapshot) {
	if v.have && t.Before(v.at) {
		v.hist.reset()
		v.reqRate = counterRate{}
		v.mirrRate = counterRate{}
	}
	v.snap, v.at, v.have = s, t, true
	v.reqRate.add(t, s.Received)
	v.mirrRate.add(t, s.Mirrored)
	pri, cand := s.PrimaryP99, s.CandidateP99
	if pri == 0 && cand == 0 {
		for _, e := range s.Endpoints {
			pri, cand = max(pri, e.PrimaryP99), max(cand, e.CandidateP99)
		}
	}
	v.hist.add(t, millis(pri), millis(cand))
	v.latency.setPoints(v.hist.points())
	v.table.SetEndpoints(s.Endpoints)
	v.tuning = s.Tuning
	v.routes.SetTuning(s.Tuning)
	v.layout()
	if v.page == PageFields || v.page == PageExemplar {
		open := v.fields.Endpoint()
		for _, e := range s.Endpoints {
			if endpointKey(&e) == endpointKey(&open) {
				v.fields.SetEndpoint(e)
				break
			}
		}
	}
}

// SetTuning shows t as the proxy's sample share and routes until the next
// snapshot: the dashboard shows a change it asked for at once, before a
// snapshot reports it. nil means the proxy does not report them.
func (v *ShadowView) SetTuning(t *Tuning) {
	v.tuning = t
	v.routes.SetTuning(t)
	if t == nil && v.page == PageRoutes {
		v.page = v.back
	}
	v.layout()
}

// SelectedRoute returns the route under the cursor of PageRoutes; false
// when that page is not shown or lists no route.
func (v ShadowView) SelectedRoute() (MirrorRoute, bool) {
	if v.page != PageRoutes {
		return MirrorRoute{}, false
	}
	return v.routes.Selected()
}

// Page returns the page shown.
func (v ShadowView) Page() ShadowPage { return v.page }

// SetSize sets the view's size.
func (v *ShadowView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.layout()
	v.fields.SetSize(w, h)
	v.exemplar.SetSize(w, h)
	v.routes.SetSize(w, h)
}

// layout shares the overview's height between the endpoint table and the
// chart: the chart gets at least 5 lines (when the view has room for one)
// and whatever the table does not need, up to half the view.
func (v *ShadowView) layout() {
	head := 2 // state and counter lines
	if v.tuning != nil {
		head++ // and the sample line
	}
	head += min(len(v.snap.Candidates), maxCandidateLines) // a line per candidate
	w, h := v.width, v.height
	chartH := 0
	if h >= 14 {
		need := v.table.Len() + 1
		chartH = clamp(h-head-need, 5, max(12, h/2))
	}
	v.tableRows = max(h-head-chartH, 2)
	v.table.SetSize(w, v.tableRows)
	v.latency.setSize(w, chartH)
}

// Update handles page changes and passes other keys to the page shown.
// What it has to tell the user (such as "no exemplar differs at $.id") is
// then available from Notice.
func (v ShadowView) Update(msg tea.Msg) (ShadowView, tea.Cmd) {
	v.notice = ""
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return v, nil
	}
	var cmd tea.Cmd
	switch {
	case key.Matches(km, v.KeyMap.Routes):
		v.notice = v.toggleRoutes()
		return v, nil
	case key.Matches(km, v.KeyMap.Back):
		switch {
		case v.page == PageRoutes:
			v.page = v.back
		case v.page > PageEndpoints:
			v.page--
		}
		return v, nil
	case key.Matches(km, v.KeyMap.Open):
		v.notice = v.open()
		return v, nil
	}
	switch v.page {
	case PageEndpoints:
		before := v.table.Sort()
		v.table, cmd = v.table.Update(msg)
		if after := v.table.Sort(); after != before {
			v.notice = "sorted by " + after.String()
		}
	case PageFields:
		v.fields, cmd = v.fields.Update(msg)
	case PageExemplar:
		v.exemplar, cmd = v.exemplar.Update(msg)
	case PageRoutes:
		v.routes, cmd = v.routes.Update(msg)
	}
	return v, cmd
}

// toggleRoutes opens the routes page, or closes it when shown, and
// returns a notice when it cannot.
func (v *ShadowView) toggleRoutes() string {
	switch {
	case v.page == PageRoutes:
		v.page = v.back
	case v.tuning == nil:
		return "no routes to show: this proxy does not report them"
	default:
		v.back, v.page = v.page, PageRoutes
	}
	return ""
}

// Notice returns what the last Update had to tell the user; empty when
// nothing.
func (v ShadowView) Notice() string { return v.notice }

// open drills down from the page shown and returns a notice when it
// cannot.
func (v *ShadowView) open() string {
	switch v.page {
	case PageEndpoints:
		e, ok := v.table.Selected()
		if !ok {
			return "no endpoint to open"
		}
		v.fields.SetEndpoint(e)
		v.page = PageFields
	case PageFields:
		ex, ok := v.fields.Exemplar()
		if !ok {
			if f, isField := v.fields.Field(); isField {
				return "no exemplar differs at " + oneLine(f.Path)
			}
			return "no exemplar to open"
		}
		v.exemplar.SetExemplar(ex)
		v.page = PageExemplar
	}
	return ""
}

// Legend explains the columns of the page shown, a line each, for the
// full help; nil when they need no words.
func (v ShadowView) Legend() []string {
	switch v.page {
	case PageEndpoints:
		return []string{"NOISY FIELDS: fields primary and secondary differ on too: noise, not counted"}
	case PageFields:
		return []string{
			"CAND DIFFS: pairs where the candidate's value differs from the primary's",
			"SEC DIFFS: pairs where the secondary's differs from the primary's (noise)",
		}
	}
	return nil
}

// HelpKeys returns the keys that work on the page shown, for the help bar.
func (v ShadowView) HelpKeys() []key.Binding {
	switch v.page {
	case PageFields:
		return []key.Binding{v.fields.KeyMap.Up, v.fields.KeyMap.Down, v.KeyMap.Open, v.KeyMap.Back}
	case PageExemplar:
		nav := v.exemplar.KeyMap
		return []key.Binding{nav.Up, nav.Down, nav.PageDown, v.KeyMap.Back}
	case PageRoutes:
		nav := v.routes.KeyMap
		return []key.Binding{nav.Up, nav.Down, nav.Switch, v.KeyMap.Back}
	}
	nav := v.table.KeyMap
	keys := []key.Binding{nav.Up, nav.Down, v.KeyMap.Open, nav.Sort}
	if v.tuning != nil {
		keys = append(keys, v.KeyMap.Routes)
	}
	return keys
}

// View renders the page shown.
func (v ShadowView) View() string {
	if !v.have {
		return v.styles.Muted.Render("waiting for the proxy's first snapshot…")
	}
	switch v.page {
	case PageFields:
		return v.fields.View()
	case PageExemplar:
		return v.exemplar.View()
	case PageRoutes:
		return v.routes.View()
	}
	parts := []string{v.stateLine(), v.counterLine()}
	if v.tuning != nil {
		parts = append(parts, v.tuningLine())
	}
	parts = append(parts, v.candidateLines()...)
	parts = append(parts, v.table.View())
	if c := v.latency.View(); c != "" {
		parts = append(parts, c)
	}
	return strings.Join(parts, "\n")
}

// stateLine renders the verdict and the upstreams (the header shows the
// uptime).
func (v ShadowView) stateLine() string {
	st, s := v.styles, v.snap
	sep := st.Muted.Render(" · ")
	parts := []string{
		st.Label.Render("primary ") + oneLine(s.Primary),
		st.Label.Render("candidate ") + oneLine(s.Candidate),
	}
	if len(s.Candidates) > 0 {
		parts[1] = st.Label.Render("candidates ") + oneLine(candidateList(s.Candidates))
	}
	if s.Secondary != "" {
		parts = append(parts, st.Label.Render("secondary ")+oneLine(s.Secondary))
	}
	verdict := st.Muted.Render("verdict pending")
	switch s.Verdict {
	case "pass":
		verdict = st.Good.Render("PASS")
	case "fail":
		verdict = st.Bad.Render("FAIL")
	case "inconclusive":
		verdict = st.Muted.Render("INCONCLUSIVE")
	}
	if s.CandidateUnreachable {
		verdict = st.Bad.Render("CANDIDATE UNREACHABLE") + " " + verdict
	}
	if len(s.Reasons) > 0 {
		verdict += " " + oneLine(s.Reasons[0])
		if len(s.Reasons) > 1 {
			verdict += st.Muted.Render(" (+" + strconv.Itoa(len(s.Reasons)-1) + ")")
		}
	}
	// The verdict comes first when space is short: it matters most.
	line := strings.Join(parts, sep)
	return truncate(verdict+sep+line, v.width)
}

// counterLine renders the traffic counters and rates. On a narrow
// terminal the skipped and compared counts give way first, then the
// mirrored count (its rate stays) and the timeouts: candidate errors and
// the queue stay in sight.
func (v ShadowView) counterLine() string {
	st, s := v.styles, v.snap
	rate := func(c *counterRate) string {
		if r, ok := c.rate(); ok {
			return fmtRate(r) + "/s"
		}
		return "-"
	}
	kv := func(label, value string) string { return st.Label.Render(label+" ") + value }
	dropped := []string{kv("dropped", "0")}
	if s.Dropped > 0 {
		dropped = []string{st.Warn.Render("dropped " + fmtCount(s.Dropped))}
	}
	errs := []string{kv("cand err", "0")}
	if s.CandidateErrors > 0 {
		n := "cand err " + fmtCount(s.CandidateErrors)
		errs = []string{st.Bad.Render(n + " (" + fmtCount(s.CandidateTimeouts) + " timeouts)"), st.Bad.Render(n)}
	}
	const (
		req = iota
		mirrored
		compared
		droppedAt
		skipped
		candErr
	)
	parts := [][]string{
		req:       {kv("req", rate(&v.reqRate))},
		mirrored:  {kv("mirrored", fmtCount(s.Mirrored)+" ("+rate(&v.mirrRate)+")"), kv("mirrored", rate(&v.mirrRate))},
		compared:  {kv("compared", fmtCount(s.Compared)), ""},
		droppedAt: dropped,
		skipped:   {kv("skipped", fmtCount(s.Skipped)), ""},
		candErr:   errs,
	}
	if s.QueueSize > 0 {
		parts = append(parts, []string{kv("queue", strconv.Itoa(s.QueueDepth)+"/"+strconv.Itoa(s.QueueSize))})
	}
	return shrinkLine(parts, []int{skipped, compared, mirrored, candErr}, st.Muted.Render(" · "), v.width)
}

// tuningLine renders the sample share and the routes switched off.
func (v ShadowView) tuningLine() string {
	st, t := v.styles, v.tuning
	parts := []string{sampleText(t, st)}
	switch off := t.off(); {
	case len(off) == 1:
		parts = append(parts, st.Warn.Render("route off: "+oneLine(off[0])))
	case len(off) > 1:
		parts = append(parts, st.Warn.Render("routes off: "+oneLine(strings.Join(off, ", "))))
	case len(t.Routes) > 0:
		parts = append(parts, st.Label.Render("routes ")+"all on ("+strconv.Itoa(len(t.Routes))+")")
	}
	return truncate(strings.Join(parts, st.Muted.Render(" · ")), v.width)
}
