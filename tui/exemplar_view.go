package tui

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// outboundPrefix starts the path of a difference in what the candidate
// sent to a dependency (compare.OutboundPrefix); its Detail is shown.
const outboundPrefix = "outbound "

// maxBodyShown bounds how much of a body the exemplar view renders, so a
// producer that sends a huge body cannot make every redraw slow.
const maxBodyShown = 64 << 10

// ExemplarView shows one differing pair in a scrollable viewport: the
// request, the differences between the two answers (removed red, added
// green, changed yellow, each with a sign so they read without colour too),
// then both answers' bodies.
type ExemplarView struct {
	// KeyMap holds the scrolling keys.
	KeyMap NavKeyMap

	styles Styles
	ex     Exemplar
	vp     viewport.Model
	width  int
}

// NewExemplarView returns an empty view.
func NewExemplarView(st Styles) ExemplarView {
	v := ExemplarView{KeyMap: DefaultNavKeyMap(), styles: st}
	v.vp = viewport.New(0, 0)
	v.vp.KeyMap = viewport.KeyMap{
		Up:       v.KeyMap.Up,
		Down:     v.KeyMap.Down,
		PageUp:   v.KeyMap.PageUp,
		PageDown: v.KeyMap.PageDown,
	}
	return v
}

// SetExemplar shows ex, scrolled to the top.
func (v *ExemplarView) SetExemplar(ex Exemplar) {
	v.ex = ex
	v.refresh()
	v.vp.GotoTop()
}

// Exemplar returns the exemplar shown.
func (v ExemplarView) Exemplar() Exemplar { return v.ex }

// SetSize sets the view's size, title line included.
func (v *ExemplarView) SetSize(w, h int) {
	if w == v.width && h-1 == v.vp.Height {
		return
	}
	v.width = w
	v.vp.Width = w
	v.vp.Height = max(h-1, 0)
	v.refresh()
}

// Update scrolls.
func (v ExemplarView) Update(msg tea.Msg) (ExemplarView, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, v.KeyMap.Top):
			v.vp.GotoTop()
			return v, nil
		case key.Matches(km, v.KeyMap.Bottom):
			v.vp.GotoBottom()
			return v, nil
		}
	}
	var cmd tea.Cmd
	v.vp, cmd = v.vp.Update(msg)
	return v, cmd
}

// differences counts n differences in words.
func differences(n int) string {
	if n == 1 {
		return "1 difference"
	}
	return strconv.Itoa(n) + " differences"
}

// View renders the title line and the viewport.
func (v ExemplarView) View() string {
	st, ex := v.styles, v.ex
	parts := []string{
		st.Value.Render(oneLine(ex.Method + " " + ex.URL)),
		"primary " + v.status(ex.PrimaryStatus, ex.CandidateStatus),
		"candidate " + v.status(ex.CandidateStatus, ex.PrimaryStatus),
		differences(len(ex.Differences)),
	}
	if v.vp.TotalLineCount() > v.vp.Height {
		parts = append(parts, st.Muted.Render(strconv.Itoa(int(v.vp.ScrollPercent()*100))+"%"))
	}
	title := truncate(strings.Join(parts, st.Muted.Render(" · ")), v.width)
	return title + "\n" + v.vp.View()
}

// status renders a status code, in red when the other side's differs.
func (v ExemplarView) status(code, other int) string {
	s := strconv.Itoa(code)
	if code != other {
		return v.styles.Bad.Render(s)
	}
	return s
}

// refresh renders the content for the current width.
func (v *ExemplarView) refresh() {
	if v.width <= 0 {
		return
	}
	off := v.vp.YOffset
	v.vp.SetContent(ansi.Wrap(v.content(), v.width, ""))
	v.vp.SetYOffset(off)
}

// content renders the request, the differences and both bodies.
func (v *ExemplarView) content() string {
	st, ex := v.styles, v.ex
	var b strings.Builder
	section := func(title string) {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(st.Heading.Render(title))
		b.WriteString("\n")
	}
	section("REQUEST")
	b.WriteString(oneLine(ex.Method + " " + ex.URL))
	b.WriteString("\n")
	if ex.RequestBody != "" {
		b.WriteString(prettyBody(ex.RequestBody))
		b.WriteString("\n")
	}

	section("DIFFERENCES")
	b.WriteString(st.Muted.Render("- removed (primary only)  + added (candidate only)  ~ changed  ! type changed"))
	b.WriteString("\n")
	if len(ex.Differences) == 0 {
		b.WriteString(st.Muted.Render("none recorded"))
		b.WriteString("\n")
	}
	pathW := 0
	for _, d := range ex.Differences {
		pathW = max(pathW, ansi.StringWidth(oneLine(d.Path)))
	}
	pathW = min(pathW, max(v.width/3, 12))
	for _, d := range ex.Differences {
		sign, style, val := v.difference(d)
		line := sign + " " + pad(oneLine(d.Path), pathW, false) + "  " + val
		b.WriteString(style.Render(line))
		b.WriteString("\n")
		if d.Detail != "" && strings.HasPrefix(d.Path, outboundPrefix) {
			b.WriteString(st.Muted.Render("  " + oneLine(d.Detail)))
			b.WriteString("\n")
		}
	}

	section("PRIMARY ANSWER · " + strconv.Itoa(ex.PrimaryStatus))
	b.WriteString(bodyOrNone(ex.PrimaryBody, st))
	section("CANDIDATE ANSWER · " + strconv.Itoa(ex.CandidateStatus))
	b.WriteString(bodyOrNone(ex.CandidateBody, st))
	return strings.TrimRight(b.String(), "\n")
}

// difference returns the sign, style and value text of one difference.
func (v *ExemplarView) difference(d Difference) (string, lipgloss.Style, string) {
	st := v.styles
	p, c := oneLine(d.Primary), oneLine(d.Candidate)
	switch d.Kind {
	case KindRemoved:
		return "-", st.Removed, p
	case KindAdded:
		return "+", st.Added, c
	case KindTypeChanged:
		return "!", st.TypeChanged, p + " → " + c
	default:
		return "~", st.Changed, p + " → " + c
	}
}

// bodyOrNone renders a body, or says there was none.
func bodyOrNone(body string, st Styles) string {
	if body == "" {
		return st.Muted.Render("(empty)") + "\n"
	}
	return prettyBody(body) + "\n"
}

// prettyBody indents a JSON body and returns other text as is, cut at
// maxBodyShown.
func prettyBody(body string) string {
	cut := len(body) > maxBodyShown
	if cut {
		body = body[:maxBodyShown]
	}
	if !cut && json.Valid([]byte(body)) {
		var buf bytes.Buffer
		if err := json.Indent(&buf, []byte(body), "", "  "); err == nil {
			body = buf.String()
		}
	}
	body = sanitize(strings.TrimRight(body, "\n"), true)
	if cut {
		body += "\n… (cut at " + fmtCount(maxBodyShown) + " bytes)"
	}
	return body
}
