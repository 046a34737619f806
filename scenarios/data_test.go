package scenarios

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeUsers writes n users to a CSV feeder file in dir.
func writeUsers(t *testing.T, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "user%d@example.test,User %d\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// loadFeederScenario writes a scenario using the users feeder in mode to
// dir and loads it.
func loadFeederScenario(t *testing.T, dir, feeder, rate, duration string) *Scenario {
	t.Helper()
	src := fmt.Sprintf(`
name: feed
target: http://127.0.0.1:1
rate: {rate: %s}
duration: %s
max_in_flight: 100
data:
  users: %s
journeys:
  - name: j
    steps:
      - name: login
        method: POST
        path: /login
        headers: {X-User: '{{ .Data.users.email }}'}
        body: '{{ json .Data.users }}'
`, rate, duration, feeder)
	path := filepath.Join(dir, "feed.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestUniqueFeederNeverSharesARow: 5 users, answers that take 200ms, 100
// starts a second: no user is ever in two journeys at once; with wrap the
// rows come round again, and starts that find every row held are dropped.
func TestUniqueFeederNeverSharesARow(t *testing.T) { bubble(t, testUniqueFeederNeverSharesARow) }

func testUniqueFeederNeverSharesARow(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, 5)
	var mu sync.Mutex
	inFlight, seen := map[string]bool{}, map[string]int{}
	var clashes []string
	shop, client := newMemShop(t, func(f *fakeShop) {
		f.delay = 200 * time.Millisecond
		f.hook = func(r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			u := r.Header.Get("X-User")
			if inFlight[u] {
				clashes = append(clashes, u)
			}
			inFlight[u] = true
			seen[u]++
		}
		f.after = func(r *http.Request) {
			mu.Lock()
			inFlight[r.Header.Get("X-User")] = false
			mu.Unlock()
		}
	})
	sc := loadFeederScenario(t, dir, "{file: users.csv, mode: unique, on_exhausted: wrap}", "100", "1s")
	res := runAsync(t, mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client}))()
	if len(clashes) > 0 {
		t.Errorf("rows handed to two journeys at once: %v", clashes)
	}
	// Each 200ms the five rows come back: 5 journeys per 200ms.
	if res.Journeys.Started != 25 || res.Journeys.Dropped != 99-25 || len(seen) != 5 {
		t.Errorf("journeys %+v over %d users; want 25 started, the other 74 dropped, all 5 users used", res.Journeys, len(seen))
	}
	for u, n := range seen {
		if n != 5 {
			t.Errorf("user %s in %d journeys, want 5 (wrapped round)", u, n)
		}
	}
}

// TestUniqueFeederStopsWhenExhausted: 7 rows, on_exhausted stop: seven
// journeys, each with its own row, then the run ends, saying why.
func TestUniqueFeederStopsWhenExhausted(t *testing.T) { bubble(t, testUniqueFeederStopsWhenExhausted) }

func testUniqueFeederStopsWhenExhausted(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, 7)
	shop, client := newMemShop(t)
	sc := loadFeederScenario(t, dir, "{file: users.csv, mode: unique}", "10", "1m")
	res := runAsync(t, mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client}))()
	users := map[string]int{}
	for _, req := range shop.seenRequests() {
		users[req.Header.Get("X-User")]++
	}
	if res.Journeys.Started != 7 || len(users) != 7 || res.Outcome != OutcomeCompleted ||
		res.Reason != "data users: all 7 rows were used once (mode unique, on_exhausted stop)" || !res.Passed() {
		t.Errorf("outcome %s (%s), journeys %+v, users %v; want 7 journeys, one per user, then completed", res.Outcome, res.Reason, res.Journeys, users)
	}
	if res.Active != 800*time.Millisecond {
		t.Errorf("active %v, want 800ms: the eighth start (due then) found no row", res.Active)
	}
}

// TestFeederModesAndShares: sequential hands rows out in order and wraps;
// random stays within the rows; a runner of a share takes only its rows
// (index, index+count, ...), so no two runners share one.
func TestFeederModesAndShares(t *testing.T) { bubble(t, testFeederModesAndShares) }

func testFeederModesAndShares(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, 10)
	users := func(feeder string, sh Share) []string {
		shop, client := newMemShop(t)
		sc := loadFeederScenario(t, dir, feeder, "10", "1200ms")
		res := runAsync(t, mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client, Share: sh}))()
		var out []string
		for _, req := range shop.seenRequests() {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(req.Header.Get("X-User"), "user"), "@example.test"))
		}
		if !res.Passed() {
			t.Errorf("%s %+v: did not pass: %+v", feeder, sh, res.Steps[0])
		}
		return out
	}
	if got := strings.Join(users("{file: users.csv}", Share{}), " "); got != "0 1 2 3 4 5 6 7 8 9 0" {
		t.Errorf("sequential: users %s, want 0 to 9 then 0 again", got)
	}
	// A third of 10/s is 10/3 per second: 3 starts in 1.2s.
	for i, want := range []string{"0 3 6", "1 4 7", "2 5 8"} {
		if got := strings.Join(users("{file: users.csv}", Share{Index: i, Count: 3}), " "); got != want {
			t.Errorf("runner %d of 3: users %s, want %s", i, got, want)
		}
	}
	for _, u := range users("{file: users.csv, mode: random}", Share{Index: 1, Count: 2}) {
		if u != "1" && u != "3" && u != "5" && u != "7" && u != "9" {
			t.Errorf("random, runner 1 of 2: user %s, which is not its row", u)
		}
	}
}

// TestFeederFiles reads CSV and JSON feeders and rejects bad ones by file
// and line, and templates that name a feeder or column that is not there.
func TestFeederFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.json", `[{"email": "a@x", "age": 31, "vip": true, "tags": ["x"]}, {"email": "b@x", "age": null}]`)
	tb, err := readTable(filepath.Join(dir, "ok.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(tb.columns, tb.rows); got != "[age email tags vip] [[31 a@x [\"x\"] true] [ b@x  ]]" {
		t.Errorf("JSON feeder read as %s", got)
	}
	write("ragged.csv", "email,name\na@x,A\nb@x\n")
	write("badkey.csv", "e-mail\nx\n")
	write("empty.csv", "")
	write("header.csv", "email\n")
	write("bad.json", "[{\"email\": \"a\"},\n {\"email\": }]")
	write("notarray.json", `{"email": "a"}`)
	tests := []struct{ file, want string }{
		{"ragged.csv", "ragged.csv: record on line 3: wrong number of fields"},
		{"badkey.csv", `badkey.csv: line 1: column "e-mail": want a name made of letters, digits and _`},
		{"empty.csv", "empty.csv: empty: want a header row, then rows"},
		{"header.csv", "header.csv has no rows"},
		{"bad.json", "bad.json: line 2: invalid character '}'"},
		{"notarray.json", "notarray.json: line 1: want an array of objects"},
		{"missing.csv", "missing.csv: no such file"},
	}
	for _, tt := range tests {
		if _, err := readTable(filepath.Join(dir, tt.file)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.file, err, tt.want)
		}
	}

	writeUsers(t, dir, 2)
	scenario := func(body string) string {
		return fmt.Sprintf("name: s\ntarget: http://h\nrate: {rate: 1}\nduration: 1s\ndata:\n  users: {file: users.csv, mode: unique, on_exhausted: wrap}\njourneys:\n  - name: j\n    steps:\n      - {name: a, path: /, body: '%s'}\n", body)
	}
	bad := []struct{ body, want string }{
		{"{{ .Data.people.email }}", `feed.yaml:10: journeys[0].steps[0].body: no feeder "people" under data (have users)`},
		{"{{ .Data.users.phone }}", `feed.yaml:10: journeys[0].steps[0].body: feeder users has no column "phone" (have email, name)`},
		{"{{ .Data }}", "feed.yaml:10: journeys[0].steps[0].body: .Data needs a feeder, like .Data.users.email"},
	}
	for _, tt := range bad {
		write("feed.yaml", scenario(tt.body))
		if _, err := Load(filepath.Join(dir, "feed.yaml")); err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error ending %q", tt.body, err, tt.want)
		}
	}
	write("feed.yaml", strings.Replace(scenario("{{ .Data.users.name }}"), "users.csv, mode: unique, on_exhausted: wrap", "nope.csv, mode: all, on_exhausted: wrap", 1))
	_, err = Load(filepath.Join(dir, "feed.yaml"))
	for _, want := range []string{`feed.yaml:6: data.users.file: open ` + filepath.Join(dir, "nope.csv") + ": no such file",
		`feed.yaml:6: data.users.mode: want "sequential", "random" or "unique", got "all"`,
		"data.users.on_exhausted: only a unique feeder runs out"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad feeder: %v, want %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "steps[0].body") {
		t.Errorf("a feeder that could not be read also failed the template that uses it: %v", err)
	}
}

// FuzzFeederTable reads any bytes as a CSV and as a JSON feeder: it must
// not panic, and what it accepts has named columns and rows no wider.
func FuzzFeederTable(f *testing.F) {
	f.Add([]byte("email,name\na@x,A\n"), true)
	f.Add([]byte(`[{"email": "a", "n": 1}, {"x": {"y": [1, 2]}}]`), false)
	f.Add([]byte("\ufeffa\n\"b\nc\"\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		read := jsonTable
		if csv {
			read = csvTable
		}
		tb, err := read(data)
		if err != nil {
			return
		}
		if len(tb.columns) > maxDataColumns || len(tb.index) != len(tb.columns) {
			t.Fatalf("%d columns, %d indexed", len(tb.columns), len(tb.index))
		}
		for _, row := range tb.rows {
			if len(row) > len(tb.columns) {
				t.Fatalf("row %q is wider than the columns %q", row, tb.columns)
			}
		}
	})
}
