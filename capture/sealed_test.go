package capture

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// writeOne writes rec with a Writer of red's rules and returns the
// file's bytes and its one exchange frame.
func writeOne(t *testing.T, red *Redactor, rec *ExchangeRecord) (file, frame []byte) {
	t.Helper()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteExchange(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file = readFileBytes(t, w.Files()[0])
	frames := recordFrames(t, file)
	if len(frames) != 1 {
		t.Fatalf("%d record frames, want 1", len(frames))
	}
	return file, frames[0]
}

// TestSealedExchangeIsWrittenAsRedacted: a record whose exchange was
// sealed under the Writer's rules is written as the Writer would have
// redacted it, byte for byte, and holds no secret, although the record's
// Exchange is the raw one.
func TestSealedExchangeIsWrittenAsRedacted(t *testing.T) {
	t.Parallel()
	for _, red := range []*Redactor{testRedactor(), {Key: []byte("0123456789abcdef-sealed"), FieldNames: []string{"national_id"},
		Headers: []string{"X-Internal-Key"}, QueryParams: []string{"sig"}, FieldPaths: []string{"$.card.number", "$.items[*].pan"}}} {
		raw, secrets := secretExchange()
		_, want := writeOne(t, red, raw)

		sealed, _ := secretExchange()
		shown := sealed.Exchange
		sealed.Sealed = red.Seal(&shown) // sealed.Exchange stays raw
		file, got := writeOne(t, red, sealed)
		if !bytes.Equal(got, want) {
			t.Errorf("sealed record written as\n%x\nredacted by the Writer it is\n%x", got, want)
		}
		mustShowNoSecret(t, "the file of a sealed record", file, secrets)
	}
}

// TestSealOfOtherRulesIsRedactedAgain: a seal the Writer cannot trust (the
// zero value, or made under rules other than its own, which miss some of
// the Writer's secrets) does not stop the Writer's own redaction: no
// secret reaches the file. A Writer that took any seal at its word fails
// here.
func TestSealOfOtherRulesIsRedactedAgain(t *testing.T) {
	t.Parallel()
	weaker := []*Redactor{
		{}, // the defaults alone: not X-Internal-Key, national_id, the paths
		{Headers: []string{"X-Internal-Key"}, QueryParams: []string{"sig"}, FieldNames: []string{"national_id"}},
		{Headers: testRedactor().Headers, QueryParams: testRedactor().QueryParams, FieldNames: testRedactor().FieldNames,
			FieldPaths: testRedactor().FieldPaths, NoDefaultFieldNames: true},
	}
	for i, other := range weaker {
		rec, secrets := secretExchange()
		shown := rec.Exchange
		rec.Sealed = other.Seal(&shown)
		file, _ := writeOne(t, testRedactor(), rec)
		mustShowNoSecret(t, fmt.Sprintf("the file of a record sealed under rules %d", i), file, secrets)
	}
	rec, secrets := secretExchange()
	rec.Sealed = &SealedExchange{}
	file, _ := writeOne(t, testRedactor(), rec)
	mustShowNoSecret(t, "the file of a record with a zero seal", file, secrets)
}

// TestSealedIgnoresLaterChanges: what happens to a sealed exchange after
// Seal (a secret put into the redacted copy's maps, by a judge say) does
// not reach the file.
func TestSealedIgnoresLaterChanges(t *testing.T) {
	t.Parallel()
	red := testRedactor()
	rec, secrets := secretExchange()
	shown := rec.Exchange
	rec.Sealed = red.Seal(&shown)
	shown.Request.Header["X-Late"] = []string{"sec-late-zzzz"}
	shown.Primary.Body[0] = '!'
	file, _ := writeOne(t, red, rec)
	mustShowNoSecret(t, "the file of a record changed after Seal", file, append(secrets, "sec-late-zzzz"))
}

// TestRulesCoverEveryRedactorField: changing any one field of a Redactor
// changes its rules, so a seal is trusted only by a Writer whose Redactor
// is configured the same in every field. A field added to Redactor fails
// this test until rules covers it.
func TestRulesCoverEveryRedactorField(t *testing.T) {
	t.Parallel()
	zero := (&Redactor{}).rules()
	if zero == "" {
		t.Fatal("the zero Redactor's rules are empty, the zero SealedExchange's")
	}
	seen := map[string]string{zero: "zero"}
	typ := reflect.TypeOf(Redactor{})
	for i := range typ.NumField() {
		var r Redactor
		f := reflect.ValueOf(&r).Elem().Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			switch f.Type().Elem().Kind() {
			case reflect.String:
				f.Set(reflect.ValueOf([]string{"x-field"}))
			case reflect.Uint8:
				f.SetBytes([]byte("0123456789abcdef"))
			}
		}
		if f.IsZero() {
			t.Errorf("Redactor.%s: no rule to set a %s here", typ.Field(i).Name, f.Type())
			continue
		}
		rules := r.rules()
		if prev, ok := seen[rules]; ok {
			t.Errorf("Redactor.%s set has the rules of %s", typ.Field(i).Name, prev)
		}
		seen[rules] = typ.Field(i).Name
	}
	if (&Redactor{Key: []byte("0123456789abcdef")}).rules() == (&Redactor{Key: []byte("0123456789abcdeg")}).rules() {
		t.Error("two keys have the same rules")
	}
	if (&Redactor{FieldNames: []string{"ab", "c"}}).rules() == (&Redactor{FieldNames: []string{"a", "bc"}}).rules() {
		t.Error("two name lists have the same rules")
	}
}
