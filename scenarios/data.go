package scenarios

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Bounds on a feeder's file, so that a scenario cannot make the runner
// hold more than it means to.
const (
	// maxDataBytes is the largest feeder file.
	maxDataBytes = 64 << 20
	// maxDataColumns is the most columns (CSV) or keys (JSON) a feeder
	// may have.
	maxDataColumns = 256
	// maxFeeders is the most feeders one scenario may have.
	maxFeeders = 16
)

// table is a feeder's file, read once: its columns and rows of text.
type table struct {
	columns []string
	index   map[string]int // column -> position
	rows    [][]string
}

// readTable reads a feeder file: a JSON array of objects when its name
// ends in .json, else CSV with a header row. Errors name the file and,
// where the format tells, the line.
func readTable(path string) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDataBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxDataBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxDataBytes>>20)
	}
	var t *table
	if strings.EqualFold(filepath.Ext(path), ".json") {
		t, err = jsonTable(data)
	} else {
		t, err = csvTable(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(t.rows) == 0 {
		return nil, fmt.Errorf("%s has no rows", path)
	}
	return t, nil
}

func newTable(columns []string) (*table, error) {
	if len(columns) > maxDataColumns {
		return nil, fmt.Errorf("%d columns, want at most %d", len(columns), maxDataColumns)
	}
	t := &table{columns: columns, index: map[string]int{}}
	for i, c := range columns {
		if !identRE.MatchString(c) {
			return nil, fmt.Errorf("column %q: want a name made of letters, digits and _, for {{ .Data.feeder.%s }}", c, c)
		}
		if _, dup := t.index[c]; dup {
			return nil, fmt.Errorf("column %q appears twice", c)
		}
		t.index[c] = i
	}
	return t, nil
}

func csvTable(data []byte) (*table, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty: want a header row, then rows")
	}
	if err != nil {
		return nil, err
	}
	t, err := newTable(slices.Clone(header))
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, err // csv.ParseError names the line
		}
		t.rows = append(t.rows, rec)
	}
}

func jsonTable(data []byte) (*table, error) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("line %d: %v", lineAt(data, se.Offset), err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("line %d: want an array of objects", lineAt(data, te.Offset))
		}
		return nil, err
	}
	var columns []string
	seen := map[string]bool{}
	for _, it := range items {
		for _, k := range slices.Sorted(maps.Keys(it)) {
			if !seen[k] {
				seen[k] = true
				columns = append(columns, k)
			}
		}
	}
	t, err := newTable(columns)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		row := make([]string, len(columns))
		for k, raw := range it {
			row[t.index[k]] = jsonText(raw)
		}
		t.rows = append(t.rows, row)
	}
	return t, nil
}

// jsonText is a JSON value as templates see it: a string's text, null as
// "", anything else as its JSON.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

func lineAt(data []byte, offset int64) int {
	return 1 + bytes.Count(data[:min(max(offset, 0), int64(len(data)))], []byte("\n"))
}

// feeder hands a run's journeys rows of one table as its mode says.
type feeder struct {
	name  string
	t     *table
	rows  []int // this runner's rows of t
	mode  string
	wrap  bool
	mu    sync.Mutex
	next  int    // the next row to hand out (sequential, unique)
	inUse []bool // unique: rows a journey holds
}

// take returns the position (in f.rows) of the next row for a journey.
// ok is false when no row is free: a unique feeder's rows are all held
// (wrap), or have all been used (stop; exhausted is then true).
func (f *feeder) take(rng *rand.Rand) (pos int, ok, exhausted bool) {
	n := len(f.rows)
	switch f.mode {
	case DataRandom:
		return rng.IntN(n), true, false
	case DataUnique:
		f.mu.Lock()
		defer f.mu.Unlock()
		for tries := 0; tries < n; tries++ {
			if f.next == n {
				if !f.wrap {
					return 0, false, true
				}
				f.next = 0
			}
			pos = f.next
			f.next++
			if !f.inUse[pos] {
				f.inUse[pos] = true
				return pos, true, false
			}
		}
		return 0, false, false
	default:
		pos = f.next
		f.next = (f.next + 1) % n
		return pos, true, false
	}
}

// give hands a unique feeder's row back when its journey has ended.
func (f *feeder) give(pos int) {
	if f.mode != DataUnique {
		return
	}
	f.mu.Lock()
	f.inUse[pos] = false
	f.mu.Unlock()
}

// row returns the row at pos as templates see it.
func (f *feeder) row(pos int) map[string]string {
	vals := f.t.rows[f.rows[pos]]
	m := make(map[string]string, len(f.t.columns))
	for i, c := range f.t.columns {
		if i < len(vals) {
			m[c] = vals[i]
		}
	}
	return m
}

// newFeeders makes the run's feeders from the plan's tables, each with
// the rows of this runner's share.
func newFeeders(p *plan, sh Share) []*feeder {
	var out []*feeder
	for _, name := range slices.Sorted(maps.Keys(p.tables)) {
		t := p.tables[name]
		src := p.scenario.Data[name]
		f := &feeder{name: name, t: t, mode: cmpOr(src.Mode, DataSequential), wrap: src.OnExhausted == ExhaustedWrap}
		for i := range t.rows {
			if sh.Count <= 1 || i%sh.Count == sh.Index {
				f.rows = append(f.rows, i)
			}
		}
		if f.mode == DataUnique {
			f.inUse = make([]bool, len(f.rows))
		}
		out = append(out, f)
	}
	return out
}

// held is the rows one journey holds, one per feeder.
type held []int

// takeRows takes a row of every feeder for one journey. It returns why
// it could not: "" when it could, else the reason; exhausted tells a
// unique feeder that has run out (the run must end) from one whose rows
// are all held just now (this start is dropped).
func takeRows(fs []*feeder, rng *rand.Rand) (h held, why string, exhausted bool) {
	if len(fs) == 0 {
		return nil, "", false
	}
	h = make(held, len(fs))
	for i, f := range fs {
		pos, ok, ex := f.take(rng)
		if !ok {
			for j := range i {
				fs[j].give(h[j])
			}
			if ex {
				return nil, fmt.Sprintf("data %s: all %d rows were used once (mode unique, on_exhausted stop)", f.name, len(f.rows)), true
			}
			return nil, fmt.Sprintf("data %s: every row is held by a journey", f.name), false
		}
		h[i] = pos
	}
	return h, "", false
}

// giveRows hands back the rows a journey held.
func giveRows(fs []*feeder, h held) {
	for i, f := range fs {
		f.give(h[i])
	}
}

// rowData returns the rows h holds as TemplateData.Data.
func rowData(fs []*feeder, h held) map[string]map[string]string {
	if len(fs) == 0 {
		return nil
	}
	m := make(map[string]map[string]string, len(fs))
	for i, f := range fs {
		m[f.name] = f.row(h[i])
	}
	return m
}

// data reads the scenario's feeders, each once (Parse reads them; later
// compiles use what it read), checking their settings.
func (v *validator) data() map[string]*table {
	s := v.s
	if len(s.Data) > maxFeeders {
		v.add("data", "%d feeders, want at most %d", len(s.Data), maxFeeders)
	}
	tables := map[string]*table{}
	for _, name := range slices.Sorted(maps.Keys(s.Data)) {
		src := s.Data[name]
		f := "data." + name
		if !identRE.MatchString(name) {
			v.add(f, "want a feeder name made of letters, digits and _, for {{ .Data.%s.column }}", name)
		}
		switch src.Mode {
		case "", DataSequential, DataRandom, DataUnique:
		default:
			v.add(f+".mode", "want %q, %q or %q, got %q", DataSequential, DataRandom, DataUnique, src.Mode)
		}
		switch {
		case src.OnExhausted != "" && src.Mode != DataUnique:
			v.add(f+".on_exhausted", "only a unique feeder runs out: set mode: unique, or drop on_exhausted")
		case src.OnExhausted != "" && src.OnExhausted != ExhaustedStop && src.OnExhausted != ExhaustedWrap:
			v.add(f+".on_exhausted", "want %q or %q, got %q", ExhaustedStop, ExhaustedWrap, src.OnExhausted)
		}
		if src.File == "" {
			v.add(f+".file", "required: a CSV file with a header row, or a JSON array of objects")
			continue
		}
		if t := s.tables[name]; t != nil {
			tables[name] = t
			continue
		}
		path := src.File
		if !filepath.IsAbs(path) && s.file != "" {
			path = filepath.Join(filepath.Dir(s.file), path)
		}
		t, err := readTable(path)
		if err != nil {
			v.add(f+".file", "%v", err)
			continue
		}
		tables[name] = t
	}
	return tables
}

// dataRef is one {{ .Data.feeder.column }} a template reads; column is ""
// for {{ .Data.feeder }} (the whole row).
type dataRef struct{ feeder, column string }

// checkData reports the first reference of refs to a feeder or column the
// scenario does not have; a declared feeder whose file could not be read
// has its own complaint.
func checkData(refs []dataRef, tables map[string]*table, declared map[string]DataSource) error {
	for _, ref := range refs {
		t, ok := tables[ref.feeder]
		if _, decl := declared[ref.feeder]; !ok && decl {
			continue
		}
		if !ok {
			names := slices.Sorted(maps.Keys(tables))
			return fmt.Errorf("no feeder %q under data (have %s)", ref.feeder, listOr(names, "none"))
		}
		if ref.column != "" {
			if _, ok := t.index[ref.column]; !ok {
				return fmt.Errorf("feeder %s has no column %q (have %s)", ref.feeder, ref.column, strings.Join(t.columns, ", "))
			}
		}
	}
	return nil
}

func listOr(names []string, none string) string {
	if len(names) == 0 {
		return none
	}
	return strings.Join(names, ", ")
}

// firstRows returns the first row of every table, for validating
// templates with real values.
func firstRows(tables map[string]*table) map[string]map[string]string {
	if len(tables) == 0 {
		return nil
	}
	m := map[string]map[string]string{}
	for name, t := range tables {
		row := map[string]string{}
		for i, c := range t.columns {
			if i < len(t.rows[0]) {
				row[c] = t.rows[0][i]
			}
		}
		m[name] = row
	}
	return m
}
