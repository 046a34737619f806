package cli

import (
	"strings"
)

// suggest returns "; did you mean X?" for an unknown key name under the
// section parent (schema s): the nearest key of the section within a
// few edits, or else the key of that name elsewhere in the file's keys
// (all: every key path, lists as "[]") — workers written at the top for
// mirror.workers. It returns "" when nothing is near.
func suggest(name, parent string, s *schema, all []string) string {
	lower := strings.ToLower(name)
	best, bestDist := "", max(2, len(lower)/3)+1
	for _, f := range s.fields {
		if d := editDistance(lower, strings.ToLower(f.name)); d < bestDist {
			best, bestDist = f.name, d
		}
	}
	if best != "" {
		return "; did you mean " + joinKey(parent, best, false) + "?"
	}
	for _, k := range all {
		last := k[strings.LastIndexAny(k, ".]")+1:]
		if strings.EqualFold(last, name) {
			return "; did you mean " + strings.ReplaceAll(k, "[]", "[0]") + "?"
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
