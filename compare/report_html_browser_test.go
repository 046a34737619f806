//go:build unix

package compare

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pageOutline is what a person sees of the page, read from the DOM the
// browser built: checked by structure, never by pixels.
type pageOutline struct {
	Verdict     string   `json:"verdict"`
	VerdictText string   `json:"verdict_text"`
	VerdictBg   string   `json:"verdict_background"`
	Script      string   `json:"script"`
	Headings    []string `json:"headings"`
	Endpoints   []string `json:"endpoint_rows"`
	Sections    []string `json:"endpoint_sections"`
	ChartBars   []int    `json:"chart_bars"`
	NoisyFields []string `json:"noisy_fields"`
	Settings    int      `json:"settings_rows"`
	Examples    []string `json:"examples"`
	Marks       []string `json:"marks"`
	Scripts     int      `json:"scripts"`
	Images      int      `json:"images"`
	Resources   int      `json:"resources"`
	Title       string   `json:"title"`
}

const outlineJS = `(() => {
	const q = s => Array.from(document.querySelectorAll(s));
	const v = document.getElementById("verdict");
	return {
		verdict: v ? v.dataset.verdict : "",
		verdict_text: v ? v.textContent : "",
		verdict_background: v ? getComputedStyle(v).backgroundColor : "",
		script: document.documentElement.dataset.script || "",
		headings: q("h1, h2, h3, h4").map(h => h.tagName + " " + h.textContent.trim()),
		endpoint_rows: q("table.endpoints tbody tr").map(r => r.dataset.endpoint),
		endpoint_sections: q("section.endpoint").map(s => s.dataset.endpoint),
		chart_bars: q("section.endpoint").map(s => s.querySelectorAll("svg.chart rect").length),
		noisy_fields: q("section.endpoint tr.noisy[data-field]").map(r => r.closest("section.endpoint").dataset.endpoint + " " + r.dataset.field),
		settings_rows: q("#settings tbody tr").length,
		examples: q("article.example").map(a => a.id + " " + (a.dataset.exchange || "") + " " +
			q("#" + a.id + " .sides .side").map(s => s.querySelector("h5").textContent).join(" | ")),
		marks: q("article.example pre.body mark.diff").map(m => m.closest("article").id + " " +
			(m.closest("pre").classList.contains("primary") ? "primary " : "candidate ") + m.dataset.path),
		scripts: q("script").length,
		images: q("img, iframe, object, embed, link").length,
		resources: performance.getEntriesByType("resource").length,
		title: document.title,
	};
})()`

func (b *browser) outline(ctx context.Context) pageOutline {
	b.t.Helper()
	var o pageOutline
	b.eval(ctx, outlineJS, &o)
	return o
}

// requests lists the URLs the page asked for since cursor.
func (b *browser) requests(cursor int) []string {
	var urls []string
	for _, e := range b.since(cursor, "Network.requestWillBeSent") {
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(e.Params, &p) == nil {
			urls = append(urls, p.Request.URL)
		}
	}
	return urls
}

// problems lists the console errors and exceptions since cursor: a style
// or script the page's policy refused shows here.
func (b *browser) problems(cursor int) []string {
	var out []string
	for _, e := range b.since(cursor, "Log.entryAdded") {
		var p struct {
			Entry struct{ Level, Text string } `json:"entry"`
		}
		if json.Unmarshal(e.Params, &p) == nil && p.Entry.Level == "error" {
			out = append(out, p.Entry.Text)
		}
	}
	for _, e := range b.since(cursor, "Runtime.exceptionThrown") {
		out = append(out, string(e.Params))
	}
	return out
}

// The HTML report opened as a person opens it: a file in a real browser,
// its table sorted by clicking, nothing fetched from anywhere.
func TestReportHTMLInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := startBrowser(ctx, t)
	b.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
	for _, domain := range []string{"Page", "Network", "Runtime", "Log"} {
		b.call(ctx, domain+".enable", map[string]any{}, nil)
	}

	dir := t.TempDir()
	r := fixtureReport(t)
	path := filepath.Join(dir, "report.html")
	if err := WriteReportFile(path, "", r); err != nil {
		t.Fatal(err)
	}
	pageURL := "file://" + path

	t.Run("structure", func(t *testing.T) {
		cursor := b.navigate(ctx, pageURL)
		got := b.outline(ctx)
		if got.Verdict != r.Verdict || !strings.Contains(got.VerdictText, "FAIL") {
			t.Errorf("verdict element says %q (%q), want %q", got.Verdict, got.VerdictText, r.Verdict)
		}
		if got.VerdictBg != "rgb(207, 34, 46)" {
			t.Errorf("verdict background %q: the page's style did not apply", got.VerdictBg)
		}
		if got.Script != "ready" {
			t.Error("the page's script did not run")
		}
		var names, noisy []string
		for _, ep := range r.Endpoints {
			names = append(names, endpointName(&ep))
			for _, f := range ep.Fields {
				if f.Noisy {
					noisy = append(noisy, endpointName(&ep)+" "+f.Path)
				}
			}
		}
		if !slices.Equal(got.Endpoints, names) || !slices.Equal(got.Sections, names) {
			t.Errorf("endpoint rows %q and sections %q, want one each per endpoint %q", got.Endpoints, got.Sections, names)
		}
		if !slices.Equal(got.NoisyFields, noisy) {
			t.Errorf("fields marked noise %q, want %q", got.NoisyFields, noisy)
		}
		for i, n := range got.ChartBars {
			if n != 6 { // p50 and p99 per side, and the legend's two
				t.Errorf("%s: latency chart has %d bars, want 6", got.Sections[i], n)
			}
		}
		if !slices.Contains(got.Marks, "c0-ep3-ex3 primary $.items[1].price") || !slices.Contains(got.Marks, "c0-ep3-ex3 candidate $.items[1].price") {
			t.Errorf("the changed price is not marked on both sides: %q", got.Marks)
		}
		if got.Scripts != 1 || got.Images != 0 || got.Resources != 0 {
			t.Errorf("%d scripts, %d images/frames/links, %d resources loaded; want the page's one script and nothing else", got.Scripts, got.Images, got.Resources)
		}
		if reqs := b.requests(cursor); !slices.Equal(reqs, []string{pageURL}) {
			t.Errorf("the page made requests %q, want only itself", reqs)
		}
		if p := b.problems(cursor); len(p) > 0 {
			t.Errorf("console errors: %q", p)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(got); err != nil {
			t.Fatal(err)
		}
		golden(t, "report.html.outline.json", buf.Bytes())
	})

	t.Run("sort by clicking headers", func(t *testing.T) {
		b.navigate(ctx, pageURL)
		order := func() []string {
			var rows []string
			b.eval(ctx, `Array.from(document.querySelectorAll("#c0-endpoints tbody tr")).map(r => r.dataset.endpoint)`, &rows)
			return rows
		}
		by := func(less func(a, b EndpointReport) int) []string {
			eps := slices.Clone(r.Endpoints)
			slices.SortStableFunc(eps, less)
			var names []string
			for _, ep := range eps {
				names = append(names, endpointName(&ep))
			}
			return names
		}
		const diffRate = "#c0-endpoints thead th:nth-child(5)"
		b.click(ctx, diffRate)
		if got, want := order(), by(func(a, b EndpointReport) int { return cmp.Compare(a.DiffRate, b.DiffRate) }); !slices.Equal(got, want) {
			t.Errorf("after one click on Diff rate: %q, want ascending %q", got, want)
		}
		b.click(ctx, diffRate)
		if got, want := order(), by(func(a, b EndpointReport) int { return cmp.Compare(b.DiffRate, a.DiffRate) }); !slices.Equal(got, want) {
			t.Errorf("after a second click: %q, want descending %q", got, want)
		}
		b.click(ctx, "#c0-endpoints thead th:nth-child(1)")
		if got, want := order(), by(func(a, b EndpointReport) int { return strings.Compare(endpointName(&a), endpointName(&b)) }); !slices.Equal(got, want) {
			t.Errorf("after a click on Endpoint: %q, want by name %q", got, want)
		}
		var sorted []string
		b.eval(ctx, `Array.from(document.querySelectorAll("#c0-endpoints th[aria-sort]")).map(h => h.textContent + " " + h.getAttribute("aria-sort"))`, &sorted)
		if want := []string{"Endpoint ascending"}; !slices.Equal(sorted, want) {
			t.Errorf("headers marked sorted: %q, want %q", sorted, want)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		b.navigate(ctx, pageURL)
		var shot struct {
			Data string `json:"data"`
		}
		b.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
		raw, err := base64.StdEncoding.DecodeString(shot.Data)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if sz := img.Bounds().Size(); sz.X != 1280 || sz.Y != 900 {
			t.Errorf("screenshot is %v, want the 1280x900 viewport", sz)
		}
		if dir := os.Getenv("UNDERSTUDY_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "report.png"), raw, 0o644)
		}
		// The verdict box is drawn: a block of the fail colour, not a
		// blank page (a count, not a pixel comparison).
		red := 0
		for y := 0; y < 300; y++ {
			for x := 0; x < 600; x++ {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				if near(cr>>8, 207) && near(cg>>8, 34) && near(cb>>8, 46) {
					red++
				}
			}
		}
		if red < 500 {
			t.Errorf("only %d pixels of the fail colour near the top: the verdict is not drawn", red)
		}
	})

	t.Run("nothing fetched", func(t *testing.T) {
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
		defer srv.Close()
		page, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fetch := `<img src="` + srv.URL + `/pixel.png">`
		write := func(name, html string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(html), 0o600); err != nil {
				t.Fatal(err)
			}
			return "file://" + p
		}
		// A page without its policy, made to fetch: the checks above
		// would see it, so their silence on the real page means something.
		noPolicy := strings.Replace(string(page), `<meta http-equiv="Content-Security-Policy"`, `<meta name="x"`, 1)
		cursor := b.navigate(ctx, write("no-policy.html", strings.Replace(noPolicy, "</body>", fetch+"</body>", 1)))
		o := b.outline(ctx)
		if hits.Load() == 0 || o.Resources == 0 || len(b.requests(cursor)) < 2 {
			t.Errorf("an image fetch went unnoticed: %d hits, %d resources, requests %q", hits.Load(), o.Resources, b.requests(cursor))
		}
		// The report's own policy refuses a fetch smuggled into it.
		hits.Store(0)
		b.navigate(ctx, write("smuggled.html", strings.Replace(string(page), "</body>", fetch+"</body>", 1)))
		if n := hits.Load(); n != 0 {
			t.Errorf("the page's policy let an image fetch through (%d hits)", n)
		}
	})

	t.Run("hostile content stays text", func(t *testing.T) {
		p := filepath.Join(dir, "hostile.html")
		if err := WriteReportFile(p, "html", hostileReport()); err != nil {
			t.Fatal(err)
		}
		cursor := b.navigate(ctx, "file://"+p)
		o := b.outline(ctx)
		if o.Title != "shadow report: FAIL" || o.Scripts != 1 || o.Images != 0 || o.Resources != 0 {
			t.Errorf("hostile text became markup: title %q, %d scripts, %d images, %d resources", o.Title, o.Scripts, o.Images, o.Resources)
		}
		if reqs := b.requests(cursor); len(reqs) != 1 {
			t.Errorf("the page made requests %q, want only itself", reqs)
		}
		var shown string
		b.eval(ctx, `document.querySelector("article.example pre.body.candidate").textContent`, &shown)
		if shown != hostileText {
			t.Errorf("candidate body shows %q, want the text itself %q", shown, hostileText)
		}
	})

	t.Run("several candidates", func(t *testing.T) {
		p := filepath.Join(dir, "candidates.html")
		if err := WriteReportFile(p, "html", candidatesReport(t)); err != nil {
			t.Fatal(err)
		}
		cursor := b.navigate(ctx, "file://"+p)
		var got struct {
			Columns  []string
			Sections []string
			Cells    []string
			Sorted   []string
		}
		b.eval(ctx, `({
			Columns: Array.from(document.querySelectorAll("#candidates thead th[data-candidate]")).map(th => th.dataset.candidate),
			Sections: Array.from(document.querySelectorAll("section.candidate")).map(s => s.dataset.candidate),
			Cells: Array.from(document.querySelectorAll("#candidates tbody tr:first-child td")).map(td => td.textContent),
		})`, &got)
		if want := []string{"v2", "v3", "v4"}; !slices.Equal(got.Columns, want) || !slices.Equal(got.Sections, want) {
			t.Errorf("candidate columns %q and sections %q, want one each for %q", got.Columns, got.Sections, want)
		}
		if want := []string{"PASS", "FAIL", "INCONCLUSIVE"}; !slices.Equal(got.Cells, want) {
			t.Errorf("verdict row %q, want %q", got.Cells, want)
		}
		// Each candidate's endpoint table sorts on its own.
		b.click(ctx, "#c1-endpoints thead th:nth-child(5)")
		b.eval(ctx, `Array.from(document.querySelectorAll("#c1-endpoints tbody tr")).map(r => r.dataset.endpoint)`, &got.Sorted)
		if want := []string{"GET /orders/{id}", "GET /health", "POST /orders"}; !slices.Equal(got.Sorted, want) { // 10%, 33%, 40%
			t.Errorf("v3's endpoints by diff rate: %q, want %q", got.Sorted, want)
		}
		if p := b.problems(cursor); len(p) > 0 {
			t.Errorf("console errors: %q", p)
		}
		if reqs := b.requests(cursor); len(reqs) != 1 {
			t.Errorf("the page made requests %q, want only itself", reqs)
		}
	})
	if b.dropped > 0 {
		t.Logf("%d browser events past %d were not kept", b.dropped, maxEvents)
	}
}

func near(v uint32, want int) bool { return int(v) >= want-3 && int(v) <= want+3 }
