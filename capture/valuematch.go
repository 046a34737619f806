package capture

// valueMatcher finds many byte patterns in one pass over a text: an
// Aho-Corasick automaton over the secret values of one exchange (in every
// form they may be echoed in). Scanning costs O(len(text)) whatever the
// patterns, so a hostile body of near-misses cannot make it quadratic, and
// building it costs O(total pattern bytes). Children are kept as sibling
// lists: the patterns of one exchange are few and short, so fan-out is
// small everywhere but at the root, which has a dense table.
type valueMatcher struct {
	nodes []acNode
	root  [256]int32 // the root's transitions; 0 means stay at the root
	lens  []int32    // each pattern's length
	// At the root no match is under way, so text can be skipped up to the
	// next place a pattern may start, as Wu and Manber's multi-pattern
	// search does: minLen is the shortest pattern, and shift[h] how far
	// the window text[i:i+minLen] may move when the two bytes ending it
	// hash to h (0: a pattern may start at i). Most of a body is skipped
	// several bytes at a time, without walking the automaton.
	shift  [pairBits]uint8
	minLen int
	queue  []int32 // scratch for build
}

type acNode struct {
	child, sib int32 // first child, next sibling; -1 for none
	fail       int32 // longest proper suffix that is a trie node
	out        int32 // longest pattern that is a suffix of this node; -1
	term       int32 // pattern spelled by this node exactly; -1
	c          byte
}

// newValueMatcher builds the automaton; pats must not be empty strings.
// A pattern equal to an earlier one is never reported.
func newValueMatcher(pats []string) *valueMatcher {
	m := &valueMatcher{}
	m.build(pats)
	return m
}

// build (re)builds m for pats, reusing its memory.
func (m *valueMatcher) build(pats []string) {
	clear(m.root[:])
	m.nodes = append(m.nodes[:0], acNode{child: -1, sib: -1, out: -1, term: -1})
	m.lens = m.lens[:0]
	m.minLen = 0
	for _, p := range pats {
		if m.minLen == 0 || len(p) < m.minLen {
			m.minLen = len(p)
		}
	}
	m.minLen = min(m.minLen, 255)
	if m.minLen >= 2 {
		for i := range m.shift {
			m.shift[i] = uint8(m.minLen - 1)
		}
		for _, p := range pats {
			for k := 0; k+2 <= m.minLen; k++ {
				h := pairHash(p[k], p[k+1])
				m.shift[h] = min(m.shift[h], uint8(m.minLen-2-k))
			}
		}
	}
	for pi, p := range pats {
		m.lens = append(m.lens, int32(len(p)))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			n := m.childOf(s, p[i])
			if n < 0 {
				n = int32(len(m.nodes))
				m.nodes = append(m.nodes, acNode{child: -1, sib: m.nodes[s].child, out: -1, term: -1, c: p[i]})
				m.nodes[s].child = n
			}
			s = n
		}
		if m.nodes[s].term < 0 {
			m.nodes[s].term = int32(pi)
		}
	}
	// Breadth first, so that a node's fail link is final before its
	// children need it.
	queue := m.queue[:0]
	for v := m.nodes[0].child; v >= 0; v = m.nodes[v].sib {
		m.root[m.nodes[v].c] = v
		m.nodes[v].fail = 0
		m.nodes[v].out = m.nodes[v].term
		queue = append(queue, v)
	}
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		for v := m.nodes[u].child; v >= 0; v = m.nodes[v].sib {
			f := m.next(m.nodes[u].fail, m.nodes[v].c)
			m.nodes[v].fail = f
			if m.nodes[v].term >= 0 {
				m.nodes[v].out = m.nodes[v].term
			} else {
				m.nodes[v].out = m.nodes[f].out
			}
			queue = append(queue, v)
		}
	}
	m.queue = queue
}

const pairBits = 4096

func pairHash(a, b byte) uint32 { return (uint32(a)<<8 | uint32(b)) * 0x9e3779b1 >> 20 }

func (m *valueMatcher) childOf(s int32, c byte) int32 {
	for n := m.nodes[s].child; n >= 0; n = m.nodes[n].sib {
		if m.nodes[n].c == c {
			return n
		}
	}
	return -1
}

// next is the automaton's transition from s on c.
func (m *valueMatcher) next(s int32, c byte) int32 {
	for s != 0 {
		if n := m.childOf(s, c); n >= 0 {
			return n
		}
		s = m.nodes[s].fail
	}
	return m.root[c]
}

// span is a stretch of text to replace: text[start:end], standing for
// pattern pat.
type span struct {
	start, end int
	pat        int32
}

// find appends to spans the stretches of text covered by any pattern,
// merged where they overlap, in order. A merged stretch stands for the
// pattern that starts first (the longest, at equal starts).
func findSpans[T string | []byte](m *valueMatcher, text T, spans []span) []span {
	base := len(spans)
	s := int32(0)
	for i := 0; i < len(text); i++ {
		if s == 0 && m.minLen >= 2 {
			for {
				if i+m.minLen > len(text) {
					return spans // too little text left for any pattern
				}
				sh := m.shift[pairHash(text[i+m.minLen-2], text[i+m.minLen-1])]
				if sh == 0 {
					break
				}
				i += int(sh)
			}
		}
		s = m.next(s, text[i])
		o := m.nodes[s].out
		if o < 0 {
			continue
		}
		// The longest pattern ending here; any shorter one ending here
		// lies inside it.
		sp := span{start: i + 1 - int(m.lens[o]), end: i + 1, pat: o}
		for len(spans) > base && spans[len(spans)-1].end > sp.start {
			top := spans[len(spans)-1]
			spans = spans[:len(spans)-1]
			if top.start <= sp.start {
				sp.start, sp.pat = top.start, top.pat
			}
		}
		spans = append(spans, sp)
	}
	return spans
}
