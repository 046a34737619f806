package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// DefaultInterval is how often the dashboard polls its Source when
// Options.Interval is zero.
const DefaultInterval = 100 * time.Millisecond

// maxFPS caps how often Run redraws the terminal.
const maxFPS = 10

// Size used until the terminal reports its own (output is not a terminal).
const (
	defaultWidth  = 80
	defaultHeight = 24
)

// Options configures the dashboard. The zero value polls every 100ms with
// controls disabled, in the normal screen.
type Options struct {
	// Title names the dashboard in its header; empty means "understudy".
	Title string
	// Interval is how often the Source is polled; zero means
	// DefaultInterval. A failing Source is retried with a back-off up to 2s.
	Interval time.Duration
	// Controller acts on the running instance (pause, rate, kill, and the
	// proxy's sample share and routes when it is also a Tuner); nil makes
	// the dashboard read-only, and it says so.
	Controller Controller
	// AltScreen runs the dashboard in the terminal's alternate screen, so
	// the shell's scrollback is left as it was.
	AltScreen bool
	// RateStep is how much + and - change the target rate, per second;
	// zero means a tenth of the ceiling (or of the starting rate when there
	// is no ceiling). The rates they reach are the starting rate plus or
	// minus whole steps, so - returns to the starting rate: the first
	// target rate the dashboard saw of the run.
	RateStep float64
	// Input and Output replace the terminal for Run; nil means stdin and
	// stdout.
	Input  io.Reader
	Output io.Writer
}

// Validate reports the first bad field.
func (o Options) Validate() error {
	if o.Interval < 0 {
		return fmt.Errorf("interval %v: must not be negative", o.Interval)
	}
	if o.RateStep < 0 || math.IsNaN(o.RateStep) || math.IsInf(o.RateStep, 0) {
		return fmt.Errorf("rate step %v: must be a non-negative number", o.RateStep)
	}
	return nil
}

// tab is one of the dashboard's top-level views.
type tab int

const (
	tabShadow tab = iota
	tabSynth
)

// Model is the dashboard: it polls a Source, keeps a short history for its
// charts, shows the shadow and synth views (as tabs when both are present)
// and sends the user's controls to the Controller. It never blocks: polls
// and controls run as commands in the background.
type Model struct {
	src    Source
	opts   Options
	ctx    context.Context
	keys   KeyMap
	styles Styles
	help   help.Model

	width, height int

	snap   Snapshot
	have   bool
	shadow ShadowView
	synth  SynthView
	tab    tab

	// failures counts consecutive Source errors; srcErr is the last one.
	failures int
	srcErr   error

	// notice is the status bar message; noticeErr marks it an error.
	notice    string
	noticeErr bool
	// confirming is set while the kill prompt waits for y or n;
	// confirmMirror makes it the prompt to stop mirroring (shadow tab)
	// rather than to kill the load.
	confirming    bool
	confirmMirror bool

	// paused (the load), mirrorPaused (the proxy's mirroring), rate and
	// tuning are the instance's state as the dashboard believes it: from
	// the latest snapshot, or from the controls not yet done. tuning is
	// the proxy's sample share and routes, nil when the snapshot does not
	// report them.
	paused       bool
	mirrorPaused bool
	rate         float64
	tuning       *Tuning
	// start is the run's starting rate, the rung of the rate keys' ladder
	// they return to: the first positive target rate seen of the run
	// named startRun.
	start    float64
	startRun string
	// queue holds pause, resume, rate, sample and route controls waiting
	// for the one in flight (busy): they run one at a time, in the order
	// pressed, so the instance ends in the state the dashboard shows. A
	// kill skips the queue.
	queue []controlReq
	busy  bool
	// fetchSeq numbers the latest Source call; a snapshot from a call
	// numbered settledSeq or lower may predate the last control's effect,
	// so its pause state, rate and tuning are not taken.
	fetchSeq   uint64
	settledSeq uint64
}

// New returns the dashboard reading src. Invalid options are replaced by
// their defaults (Run reports them instead).
func New(src Source, opts Options) Model {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.RateStep < 0 || math.IsNaN(opts.RateStep) || math.IsInf(opts.RateStep, 0) {
		opts.RateStep = 0
	}
	if opts.Title == "" {
		opts.Title = "understudy"
	}
	st := DefaultStyles()
	m := Model{
		src:    src,
		opts:   opts,
		ctx:    context.Background(),
		keys:   DefaultKeyMap(),
		styles: st,
		help:   help.New(),
		shadow: NewShadowView(st),
		synth:  NewSynthView(st),
		width:  defaultWidth,
		height: defaultHeight,
		// Init makes call 1; settledSeq 0 trusts every snapshot.
		fetchSeq: 1,
	}
	m.help.Width = defaultWidth - 2
	m.resize()
	return m
}

// Run shows the dashboard on the terminal (or opts.Input/Output) until the
// user quits (q, ctrl+c, SIGINT) or ctx is done, and then returns nil; it
// returns an error for bad options or a terminal it cannot use. The program
// redraws at most 10 times a second.
func Run(ctx context.Context, src Source, opts Options) error {
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("run dashboard: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a poll in flight
	m := New(src, opts)
	m.ctx = ctx
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(maxFPS)}
	if opts.AltScreen {
		popts = append(popts, tea.WithAltScreen())
	}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted): // q, ctrl+c, SIGINT
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil
	}
	return fmt.Errorf("run dashboard: %w", err)
}

// Init starts polling at once.
func (m Model) Init() tea.Cmd {
	return fetch(m.ctx, m.src, m.fetchSeq)
}

// Update handles terminal size, snapshots, control results and keys.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		// help adds an item it has no room to elide when the ellipsis
		// does not fit either; keep room for the ellipsis.
		m.help.Width = max(msg.Width-2, 1)
	case pollMsg:
		m.fetchSeq++
		cmd = fetch(m.ctx, m.src, m.fetchSeq)
	case snapshotMsg:
		cmd = m.receive(msg)
	case controlMsg:
		cmd = m.controlled(msg)
	case tea.KeyMsg:
		cmd = m.keyPresses(msg)
	}
	m.resize()
	return m, cmd
}

// receive applies a Source result and schedules the next poll.
func (m *Model) receive(msg snapshotMsg) tea.Cmd {
	if msg.err != nil {
		m.failures++
		m.srcErr = msg.err
		return pollAfter(retryDelay(m.opts.Interval, m.failures))
	}
	m.failures, m.srcErr = 0, nil
	s := msg.snap
	m.snap, m.have = s, true
	if s.Shadow != nil {
		m.shadow.SetSnapshot(s.Time, *s.Shadow)
	}
	if s.Synth != nil {
		m.synth.SetSnapshot(s.Time, *s.Synth)
		m.noteStart(s.Synth)
	}
	switch {
	case m.tab == tabShadow && s.Shadow == nil && s.Synth != nil:
		m.tab = tabSynth
	case m.tab == tabSynth && s.Synth == nil && s.Shadow != nil:
		m.tab = tabShadow
	}
	if !m.controlling() && msg.seq > m.settledSeq {
		m.believeSnapshot()
	}
	m.shadow.SetTuning(m.tuning)
	return pollAfter(m.opts.Interval)
}

// noteStart remembers the run's starting rate: the first positive target
// rate seen, again for each new run.
func (m *Model) noteStart(s *SynthSnapshot) {
	if s.RunID != m.startRun {
		m.start, m.startRun = 0, s.RunID
	}
	if m.start == 0 && s.TargetRate > 0 && !math.IsInf(s.TargetRate, 1) {
		m.start = s.TargetRate
	}
}

// believeSnapshot takes the latest snapshot's pause states, rate and
// tuning as the instance's.
func (m *Model) believeSnapshot() {
	m.paused = m.snap.Synth != nil && m.snap.Synth.Paused
	m.mirrorPaused = m.snap.Shadow != nil && m.snap.Shadow.Paused
	if m.snap.Synth != nil {
		m.rate = m.snap.Synth.TargetRate
	}
	m.tuning = nil
	if m.snap.Shadow != nil {
		m.tuning = m.snap.Shadow.Tuning.clone()
	}
}

// controlling reports whether controls are in flight or queued, during
// which snapshots do not set the pause state, rate and tuning.
func (m *Model) controlling() bool { return m.busy || len(m.queue) > 0 }

// enqueue queues a control and starts it when none is in flight. A rate
// or sample share queued behind another of its kind replaces it: only the
// latest matters.
func (m *Model) enqueue(r controlReq) tea.Cmd {
	if n := len(m.queue); n > 0 && m.queue[n-1].act == r.act && (r.act == actSetRate || r.act == actSample) {
		m.queue[n-1].value = r.value
		return nil
	}
	m.queue = append(m.queue, r)
	return m.next()
}

// next starts the first queued control unless one is in flight.
func (m *Model) next() tea.Cmd {
	if m.busy || len(m.queue) == 0 {
		return nil
	}
	r := m.queue[0]
	m.queue = m.queue[1:]
	m.busy = true
	return control(m.opts.Controller, r)
}

// controlled applies a Controller result and starts the next control.
func (m *Model) controlled(msg controlMsg) tea.Cmd {
	var cmd tea.Cmd
	if msg.queued() {
		m.busy = false
		m.settledSeq = m.fetchSeq
		cmd = m.next()
	}
	if msg.err != nil {
		m.setNotice(msg.name()+" failed: "+msg.err.Error(), true)
		if !m.controlling() {
			m.believeSnapshot()
			m.shadow.SetTuning(m.tuning)
		}
		return cmd
	}
	// Pause, resume, sample and route changes already show (they change
	// the belief when pressed). A rate the instance adjusted is taken
	// unless a newer one was pressed since.
	if msg.act == actSetRate && msg.value == m.rate {
		m.rate = msg.applied
	}
	m.setNotice(msg.describe(m.ceiling()), false)
	return cmd
}

// ceiling returns the runner's rate ceiling, zero when unknown.
func (m *Model) ceiling() float64 {
	if m.snap.Synth != nil {
		return m.snap.Synth.Ceiling
	}
	return 0
}

// setNotice sets the status bar message.
func (m *Model) setNotice(s string, isErr bool) {
	m.notice, m.noticeErr = s, isErr
}

// keyPresses handles a key message. Printable keys that reach the program
// in one read (fast typing, a busy machine, keys sent by a script) arrive
// as one message with several runes, which would match no binding: each
// rune is handled as its own press. A paste stays one message.
//
// A notice tells the outcome of the last thing done; any key press starts
// something new, so it clears the notice first.
func (m *Model) keyPresses(msg tea.KeyMsg) tea.Cmd {
	m.setNotice("", false)
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste {
		return m.key(msg)
	}
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
	}
	return tea.Batch(cmds...)
}

// key handles one key press.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if m.confirming {
		switch {
		case msg.Type == tea.KeyCtrlC:
			return tea.Quit
		case key.Matches(msg, k.Confirm) && m.confirmMirror:
			// Stopping mirroring is a pause that the queue keeps in
			// order with the other controls of the proxy.
			m.confirming = false
			m.mirrorPaused = true
			m.setNotice("stopping mirroring…", false)
			return m.enqueue(controlReq{act: actKill, mirror: true})
		case key.Matches(msg, k.Confirm):
			m.confirming = false
			// No control of the load queued matters after a kill; those
			// of a proxy (shadow demo's) still do.
			m.queue = slices.DeleteFunc(m.queue, func(r controlReq) bool {
				return !r.mirror && (r.act == actPause || r.act == actResume || r.act == actSetRate)
			})
			m.setNotice("killing…", false)
			return control(m.opts.Controller, controlReq{act: actKill})
		case key.Matches(msg, k.Cancel) && m.confirmMirror:
			m.confirming = false
			m.setNotice("stop cancelled: mirroring goes on", false)
		case key.Matches(msg, k.Cancel):
			m.confirming = false
			m.setNotice("kill cancelled", false)
		}
		return nil // every other key waits for the answer
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		return nil
	case key.Matches(msg, k.Tab):
		if m.snap.Shadow != nil && m.snap.Synth != nil {
			m.tab = 1 - m.tab
		}
		return nil
	case key.Matches(msg, k.Pause, k.Kill):
		return m.pauseOrKill(key.Matches(msg, k.Kill))
	case key.Matches(msg, k.RateUp, k.RateDown):
		return m.rateKey(key.Matches(msg, k.RateUp))
	case key.Matches(msg, k.SampleUp, k.SampleDown):
		return m.sampleKey(msg)
	case m.tab == tabShadow && m.shadow.Page() == PageRoutes && key.Matches(msg, m.shadow.routes.KeyMap.Switch):
		return m.switchRoute()
	}
	var cmd tea.Cmd
	if m.tab == tabSynth {
		m.synth, cmd = m.synth.Update(msg)
		return cmd
	}
	m.shadow, cmd = m.shadow.Update(msg)
	if n := m.shadow.Notice(); n != "" {
		m.setNotice(n, false)
	}
	return cmd
}

// pauseOrKill handles p (kill false) and k: on the shadow tab they act
// on the proxy's mirroring, elsewhere on the load.
func (m *Model) pauseOrKill(kill bool) tea.Cmd {
	mirror, why := m.pauseTarget()
	if why != "" {
		m.setNotice(why, true)
		return nil
	}
	if kill {
		m.confirming, m.confirmMirror = true, mirror
		return nil
	}
	paused := &m.paused
	if mirror {
		paused = &m.mirrorPaused
	}
	act := actPause
	if *paused {
		act = actResume
	}
	*paused = !*paused
	return m.enqueue(controlReq{act: act, mirror: mirror})
}

// pauseTarget says what p and k act on now: the proxy's mirroring
// (mirror) on the shadow tab, else the load; why says why they cannot,
// empty when they can.
func (m *Model) pauseTarget() (mirror bool, why string) {
	c := m.opts.Controller
	_, hasMirror := c.(MirrorController)
	switch {
	case c == nil:
		return false, "read-only: this dashboard has no controls"
	case m.onShadowTab() && m.snap.Synth != nil && !hasMirror:
		// The Controller steers the load; the proxy is out of its reach.
		return true, "mirroring cannot be paused from here: p and k on the synth tab act on the load"
	case m.onShadowTab():
		return true, ""
	case m.snap.Synth != nil:
		return false, ""
	}
	return false, "nothing to control yet: no snapshot has come"
}

// onShadowTab reports whether the proxy's view is shown.
func (m *Model) onShadowTab() bool { return m.tab == tabShadow && m.snap.Shadow != nil }

// rateKey handles + (up) and -: they change the load's target rate, from
// the synth tab.
func (m *Model) rateKey(up bool) tea.Cmd {
	s := m.snap.Synth
	switch {
	case m.opts.Controller == nil:
		m.setNotice("read-only: this dashboard has no controls", true)
		return nil
	case s == nil:
		m.setNotice("no rate to change: no synthetic load runs", true)
		return nil
	case m.onShadowTab():
		m.setNotice("the rate is the synthetic load's: press tab for the synth view to change it", true)
		return nil
	}
	dir := -1
	if up {
		dir = 1
	}
	step := rateStep(m.opts.RateStep, s.Ceiling, m.start)
	m.rate = nextRate(m.rate, m.start, step, s.Ceiling, dir)
	return m.enqueue(controlReq{act: actSetRate, value: m.rate})
}

// bodyHeight is the height left for the view between the header, the
// status line and the help.
func (m *Model) bodyHeight() int {
	return max(m.height-2-lipgloss.Height(m.helpView()), 0)
}

// helpView renders the help for the keys that work now, and with all keys
// the legend of the columns shown, cut to the width.
func (m *Model) helpView() string {
	h := m.help.View(m.helpKeys())
	if m.help.ShowAll && m.have && m.onShadowTab() {
		for _, l := range m.shadow.Legend() {
			h += "\n" + m.styles.Muted.Render(l)
		}
	}
	return fit(h, m.width, lipgloss.Height(h))
}

// resize passes the body's size to the views.
func (m *Model) resize() {
	h := m.bodyHeight()
	m.shadow.SetSize(m.width, h)
	m.synth.SetSize(m.width, h)
}

// View renders the header, the view shown, the status line and the help.
func (m Model) View() string {
	var body string
	switch {
	case !m.have:
		body = m.styles.Muted.Render("connecting…")
	case m.tab == tabSynth && m.snap.Synth != nil:
		body = m.synth.View()
	default:
		body = m.shadow.View()
	}
	return strings.Join([]string{
		m.header(),
		fit(body, m.width, m.bodyHeight()),
		m.statusLine(),
		m.helpView(),
	}, "\n")
}

// header renders the title and the tabs on the left, and on the right
// the proxy's listen address and uptime, what is paused, and read-only.
// When room runs short the listen label gives way first, then the uptime,
// then the address; what is paused and read-only never do.
func (m Model) header() string {
	st := m.styles
	parts := []string{st.Title.Render(oneLine(m.opts.Title))}
	switch {
	case m.snap.Shadow != nil && m.snap.Synth != nil:
		for _, t := range []tab{tabShadow, tabSynth} {
			name := [...]string{"shadow", "synth"}[t]
			if t == m.tab {
				parts = append(parts, st.ActiveTab.Render("["+name+"]"))
			} else {
				parts = append(parts, st.Tab.Render(" "+name+" "))
			}
		}
	case m.snap.Shadow != nil:
		parts = append(parts, st.Muted.Render("shadow"))
	case m.snap.Synth != nil:
		parts = append(parts, st.Muted.Render("synth"))
	}
	left := strings.Join(parts, " ")
	sep := st.Muted.Render(" · ")

	var keep []string
	if p := m.pausedText(); p != "" {
		keep = append(keep, st.Warn.Render(p))
	}
	if m.opts.Controller == nil {
		keep = append(keep, st.Muted.Render("read-only"))
	}
	must := strings.Join(keep, sep)
	if lw, mw := ansi.StringWidth(left), ansi.StringWidth(must); mw > 0 && lw+1+mw > m.width {
		if m.width-mw-1 < 1 {
			return truncate(must, m.width)
		}
		left = truncate(left, m.width-mw-1)
		return left + strings.Repeat(" ", m.width-ansi.StringWidth(left)-mw) + must
	}

	var right [][]string
	listen, up := -1, -1
	if sh := m.snap.Shadow; sh != nil && sh.Listen != "" {
		addr := oneLine(sh.Listen)
		listen = len(right)
		right = append(right, []string{st.Label.Render("listen ") + addr, addr, ""})
	}
	if sh := m.snap.Shadow; sh != nil && !sh.Started.IsZero() {
		up = len(right)
		right = append(right, []string{st.Label.Render("up ") + fmtSpan(m.snap.Time.Sub(sh.Started)), ""})
	}
	for _, k := range keep {
		right = append(right, []string{k})
	}
	lw := ansi.StringWidth(left)
	if lw >= m.width {
		return truncate(left, m.width)
	}
	r := shrinkLine(right, []int{listen, up, listen}, sep, m.width-lw-1)
	return left + strings.Repeat(" ", m.width-lw-ansi.StringWidth(r)) + r
}

// pausedText says what the dashboard believes is paused, for the header:
// the load, the proxy's mirroring, or both (named when both are shown).
func (m Model) pausedText() string {
	if !m.have {
		return ""
	}
	load := m.snap.Synth != nil && m.paused
	mirror := m.snap.Shadow != nil && m.mirrorPaused
	switch {
	case load && mirror:
		return "LOAD & MIRRORING PAUSED"
	case mirror:
		return "MIRRORING PAUSED"
	case load && m.snap.Shadow != nil:
		return "LOAD PAUSED"
	case load:
		return "PAUSED"
	}
	return ""
}

// statusLine renders the kill prompt, source errors, the latest notice and
// when the data was taken.
func (m Model) statusLine() string {
	st := m.styles
	var parts []string
	if m.confirming {
		q := " kill the run now? y/n "
		if m.confirmMirror {
			q = " stop mirroring now? y/n (the proxy keeps serving) "
		}
		parts = append(parts, st.Prompt.Render(q))
	}
	if m.srcErr != nil {
		// How stale the data is comes first: the error may be long.
		if m.have {
			parts = append(parts, st.StatusError.Render("data from "+fmtClock(m.snap.Time)))
		}
		e := fmt.Sprintf("source error (%d×, retrying): %s", m.failures, oneLine(m.srcErr.Error()))
		parts = append(parts, st.StatusError.Render(e))
	}
	if m.have && m.snap.Shadow != nil && len(m.snap.Shadow.Failures) > 0 {
		parts = append(parts, st.StatusError.Render(failureText(m.snap.Shadow.Failures)))
	}
	if m.notice != "" && !m.confirming {
		if m.noticeErr {
			parts = append(parts, st.StatusError.Render(oneLine(m.notice)))
		} else {
			parts = append(parts, st.Status.Render(oneLine(m.notice)))
		}
	}
	if m.have && m.srcErr == nil {
		parts = append(parts, st.Status.Render("updated "+fmtClock(m.snap.Time)))
	}
	return truncate(strings.Join(parts, st.Muted.Render(" · ")), m.width)
}

// helpKeys assembles the keys that work now, for the help bar.
func (m Model) helpKeys() helpKeys {
	k := m.keys
	if m.confirming {
		return helpKeys{short: []key.Binding{k.Confirm, k.Cancel}, full: [][]key.Binding{{k.Confirm, k.Cancel}}}
	}
	var view []key.Binding
	var nav NavKeyMap
	if m.have && m.tab == tabSynth && m.snap.Synth != nil {
		nav = m.synth.KeyMap
		view = []key.Binding{nav.Up, nav.Down}
	} else {
		nav = m.shadow.table.KeyMap.NavKeyMap
		view = m.shadow.HelpKeys()
	}
	global := []key.Binding{}
	if m.snap.Shadow != nil && m.snap.Synth != nil {
		global = append(global, k.Tab)
	}
	controls := []key.Binding{}
	if m.opts.Controller != nil {
		mirror, why := m.pauseTarget()
		pause, kill := k.Pause, k.Kill
		switch {
		case why != "":
		case mirror && m.mirrorPaused:
			pause.SetHelp("p", "resume mirroring")
			kill.SetHelp("k", "stop mirroring")
		case mirror:
			pause.SetHelp("p", "pause mirroring")
			kill.SetHelp("k", "stop mirroring")
		}
		if why == "" {
			controls = append(controls, pause)
		}
		if m.snap.Synth != nil && !m.onShadowTab() {
			controls = append(controls, k.RateUp, k.RateDown)
		}
		if m.canTune() {
			controls = append(controls, k.SampleDown, k.SampleUp)
		}
		if why == "" {
			controls = append(controls, kill)
		}
	}
	short := append(append(append(append([]key.Binding{}, view...), global...), controls...), k.Help, k.Quit)
	full := [][]key.Binding{
		view,
		{nav.PageUp, nav.PageDown, nav.Top, nav.Bottom},
		append(append(global, controls...), k.Help, k.Quit),
	}
	return helpKeys{short: short, full: full}
}
