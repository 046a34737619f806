package compare

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPruneSkeleton: pruning leaves out every equal member and element,
// keeps a member only one side has on that side only, turns arrays into
// objects keyed by index, and keeps values of different types whole.
func TestPruneSkeleton(t *testing.T) {
	t.Parallel()
	a := normalizedTree(t, `{"id":1,"items":[1,2,3],"meta":{"x":1,"y":2},"same":{"deep":[{"z":true}]},"kind":{"a":1}}`, nil)
	b := normalizedTree(t, `{"id":1.0,"items":[1,5,3,4],"meta":{"x":1},"same":{"deep":[{"z":true}]},"kind":[1],"new":null}`, nil)
	wantX := map[string]any{
		"items": map[int]any{1: json.Number("2")},
		"meta":  map[string]any{"y": json.Number("2")},
		"kind":  map[string]any{"a": json.Number("1")},
	}
	wantY := map[string]any{
		"items": map[int]any{1: json.Number("5"), 3: json.Number("4")},
		"meta":  map[string]any{},
		"kind":  []any{json.Number("1")},
		"new":   nil,
	}
	d := jsonDiffers.Get().(*jsonDiffer)
	defer d.release()
	d.c = newCollector(Budget{}.withDefaults())
	x, y, differ := d.prune(a, b)
	if !differ || d.pruned != 5 {
		t.Fatalf("differ = %v with %d differences, want true with 5", differ, d.pruned)
	}
	if diff := cmp.Diff(wantX, x); diff != "" {
		t.Errorf("primary's skeleton (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantY, y); diff != "" {
		t.Errorf("candidate's skeleton (-want +got):\n%s", diff)
	}
	if _, _, differ := d.prune(a, a); differ {
		t.Error("a tree differs from itself")
	}
}

// TestJSONDiffGoCmpFails: when go-cmp panics on a value it cannot handle
// (a struct with unexported fields, which no decoder makes), or finds no
// difference where pruning found one, the pair is one difference at
// "body" that says so, and what go-cmp reported before is taken back.
func TestJSONDiffGoCmpFails(t *testing.T) {
	t.Parallel()
	type opaque struct{ n int }
	type open struct{ N int }
	tests := []struct {
		name   string
		a, b   any
		detail string
	}{
		{"go-cmp panics",
			map[string]any{"a": "x", "z": opaque{1}}, map[string]any{"a": "y", "z": opaque{2}},
			"structural diff failed: go-cmp panicked: cannot handle unexported field"},
		{"go-cmp and pruning disagree",
			map[string]any{"a": open{1}}, map[string]any{"a": open{1}},
			"structural diff failed: go-cmp found 0 differences where pruning found 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := diffDocs(jsonFormat{}, tt.a, tt.b)
			if len(got.diffs) != 1 || !slices.Equal(got.fields, []string{bodyPath}) {
				t.Fatalf("got %+v, want one difference at body", got)
			}
			d := got.diffs[0]
			if d.Path != bodyPath || d.Kind != Changed || !strings.HasPrefix(d.Detail, tt.detail) {
				t.Errorf("got %+v, want %s at body with detail %q", d, Changed, tt.detail)
			}
			if d.Primary != display(tt.a) || d.Candidate != display(tt.b) {
				t.Errorf("values %s and %s, want the trees", d.Primary, d.Candidate)
			}
		})
	}
}
