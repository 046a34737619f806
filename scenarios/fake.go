package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// Bounds on what one template may produce, so that validating or running
// a scenario always ends quickly in bounded memory, whatever it asks for.
const (
	// maxRenderBody is the most a body template may render.
	maxRenderBody = 1 << 20
	// maxRenderLine is the most a path, header value or JSON assertion
	// template may render.
	maxRenderLine = 16 << 10
	// maxRenderTime is how long one render may take; it is checked as the
	// template writes, and every function a template may call is bounded.
	maxRenderTime = 2 * time.Second
	// maxFakeCount bounds the sizes fake functions take (fake.DigitN 20,
	// fake.LoremIpsumSentence 12, printf widths).
	maxFakeCount = 1000
)

// fakeData is what {{ fake }} gives templates: gofakeit's functions that
// take no arguments (fake.Name, fake.Email, fake.Address.City, ...), and
// those in fakeWithArgs, their sizes bounded by maxFakeCount. Functions
// that can produce unbounded output from their arguments (fake.ImagePng,
// fake.Regex, fake.Generate, ...) are refused when the template is
// compiled; see checkFake.
type fakeData struct{ *gofakeit.Faker }

// fakeWithArgs are the fake functions with arguments templates may call.
// Those whose output grows with an argument are redefined on fakeData
// with a bound; the others produce a bounded value whatever they get.
var fakeWithArgs = []string{
	"DateRange", "DigitN", "Float32Range", "Float64Range", "HexUint", "IntN", "IntRange",
	"LatitudeInRange", "Lexify", "LetterN", "LongitudeInRange", "LoremIpsumParagraph",
	"LoremIpsumSentence", "Number", "Numerify", "Paragraph", "Password", "Price", "Sentence",
}

// fakeAllowed is every fake function a template may call, by name.
var fakeAllowed = func() map[string]bool {
	allowed := map[string]bool{}
	t := reflect.TypeFor[fakeData]()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Type.NumIn() == 1 && m.Type.NumOut() > 0 { // the receiver alone
			allowed[m.Name] = true
		}
	}
	for _, name := range fakeWithArgs {
		if _, ok := t.MethodByName(name); !ok {
			panic("scenarios: gofakeit has no " + name)
		}
		allowed[name] = true
	}
	return allowed
}()

// checkFake reports whether a template may call fake.name.
func checkFake(name string) error {
	if fakeAllowed[name] {
		return nil
	}
	return fmt.Errorf("fake.%s is not available: templates may call gofakeit's functions that take no arguments (fake.Name, fake.Email, ...) and %s",
		name, strings.Join(fakeWithArgs, ", "))
}

func countErr(fn string, n, limit int) error {
	if n > limit || n < 0 {
		return fmt.Errorf("fake.%s %d: want at most %d", fn, n, limit)
	}
	return nil
}

// DigitN returns n random digits, n at most maxFakeCount.
func (d fakeData) DigitN(n uint) (string, error) {
	if n > maxFakeCount {
		return "", countErr("DigitN", int(min(n, 1<<31)), maxFakeCount)
	}
	return d.Faker.DigitN(n), nil
}

// LetterN returns n random letters, n at most maxFakeCount.
func (d fakeData) LetterN(n uint) (string, error) {
	if n > maxFakeCount {
		return "", countErr("LetterN", int(min(n, 1<<31)), maxFakeCount)
	}
	return d.Faker.LetterN(n), nil
}

// HexUint returns a random hex number of bits bits, at most 4 ×
// maxFakeCount.
func (d fakeData) HexUint(bits int) (string, error) {
	if err := countErr("HexUint", bits, 4*maxFakeCount); err != nil {
		return "", err
	}
	return d.Faker.HexUint(bits), nil
}

// Password returns a random password of n characters, n at most
// maxFakeCount.
func (d fakeData) Password(lower, upper, numeric, special, space bool, n int) (string, error) {
	if err := countErr("Password", n, maxFakeCount); err != nil {
		return "", err
	}
	return d.Faker.Password(lower, upper, numeric, special, space, n), nil
}

// LoremIpsumSentence returns a sentence of words words, at most
// maxFakeCount.
func (d fakeData) LoremIpsumSentence(words int) (string, error) {
	if err := countErr("LoremIpsumSentence", words, maxFakeCount); err != nil {
		return "", err
	}
	return d.Faker.LoremIpsumSentence(words), nil
}

// LoremIpsumParagraph returns paragraphs of sentences of words, at most
// maxFakeCount words in all.
func (d fakeData) LoremIpsumParagraph(paragraphs, sentences, words int, sep string) (string, error) {
	for _, n := range []int{paragraphs, sentences, words} {
		if n < 0 {
			return "", countErr("LoremIpsumParagraph", n, maxFakeCount)
		}
	}
	if total := int64(paragraphs) * int64(sentences) * int64(words); total > maxFakeCount {
		return "", fmt.Errorf("fake.LoremIpsumParagraph %d %d %d: %d words, want at most %d", paragraphs, sentences, words, total, maxFakeCount)
	}
	return d.Faker.LoremIpsumParagraph(paragraphs, sentences, words, sep), nil
}

// boundedPrintf is text/template's printf without widths or precisions
// above maxFakeCount (printf "%0999999999d" would ask for a gigabyte).
func boundedPrintf(format string, args ...any) (string, error) {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		n := 0
		for i++; i < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[i]) >= 0; i++ {
			c := format[i]
			switch {
			case c == '*':
				return "", errors.New("printf: widths from arguments (*) are not supported")
			case c >= '0' && c <= '9':
				n = n*10 + int(c-'0')
				if n > maxFakeCount {
					return "", fmt.Errorf("printf %q: widths and precisions up to %d", format, maxFakeCount)
				}
			default:
				n = 0
			}
		}
	}
	return fmt.Sprintf(format, args...), nil
}

// renderWriter holds what a template renders, refusing more than limit
// bytes or a render that runs past its deadline.
type renderWriter struct {
	buf      []byte
	limit    int
	deadline time.Time
}

var (
	errRenderTooLarge = errors.New("renders too much")
	errRenderTooSlow  = errors.New("takes too long to render")
)

func (w *renderWriter) Write(p []byte) (int, error) {
	if len(w.buf)+len(p) > w.limit {
		return 0, fmt.Errorf("%w: more than %s (the most a template may produce here)", errRenderTooLarge, sizeString(w.limit))
	}
	if time.Now().After(w.deadline) {
		return 0, fmt.Errorf("%w: more than %v", errRenderTooSlow, maxRenderTime)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
