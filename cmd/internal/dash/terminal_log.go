package dash

import (
	"fmt"
	"io"
	"sync"
)

// maxHeldBytes bounds the log lines one TerminalLog holds while a
// dashboard is shown; older lines are dropped first, and counted.
const maxHeldBytes = 256 << 10

// TerminalLog returns where an instance's log lines should go when they
// go to w: w itself, unless w is a terminal, which a dashboard may take
// over. Then lines are held while a dashboard is shown on it (Display.Show
// drawing one), the latest 256 KiB of them, and written to w once it is
// gone, after a line counting those dropped. A log line written into the
// dashboard's screen scrolls it by a line and leaves stale lines behind
// until the next full redraw, as pausing `shadow run` did (the proxy logs
// every change of its settings).
func TerminalLog(w io.Writer) io.Writer {
	if !isTerminal(w) {
		return w
	}
	return &termLog{w: w}
}

// screen counts the dashboards shown on the terminal, and lists the
// TerminalLogs that hold lines meanwhile. Its lock also guards every
// termLog, and is held while lines are written, so that they keep their
// order.
var screen struct {
	mu    sync.Mutex
	shown int
	held  []*termLog
}

// termLog is a TerminalLog on a terminal.
type termLog struct {
	w       io.Writer
	lines   [][]byte
	bytes   int
	dropped int
}

// Write writes p through, or holds it while a dashboard is shown.
func (l *termLog) Write(p []byte) (int, error) {
	screen.mu.Lock()
	defer screen.mu.Unlock()
	if screen.shown == 0 {
		return l.w.Write(p)
	}
	if len(l.lines) == 0 && l.dropped == 0 {
		screen.held = append(screen.held, l)
	}
	line := p
	if len(line) > maxHeldBytes {
		line = append(line[:maxHeldBytes:maxHeldBytes], "…\n"...)
	}
	l.lines = append(l.lines, append([]byte(nil), line...))
	l.bytes += len(line)
	for l.bytes > maxHeldBytes && len(l.lines) > 1 {
		l.bytes -= len(l.lines[0])
		l.lines[0] = nil
		l.lines = l.lines[1:]
		l.dropped++
	}
	return len(p), nil
}

// flush writes the held lines to the terminal, after a line counting the
// dropped ones. It runs with screen.mu held.
func (l *termLog) flush() {
	if l.dropped > 0 {
		fmt.Fprintf(l.w, "(%d earlier log lines were dropped while the dashboard was shown)\n", l.dropped)
	}
	for _, line := range l.lines {
		if _, err := l.w.Write(line); err != nil {
			break
		}
	}
	l.lines, l.bytes, l.dropped = nil, 0, 0
}

// holdLogs holds the lines of every TerminalLog while a dashboard is
// shown: until the returned function is called (safe to call twice), and
// the other dashboards shown meanwhile are gone too.
func holdLogs() (release func()) {
	screen.mu.Lock()
	screen.shown++
	screen.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			screen.mu.Lock()
			defer screen.mu.Unlock()
			if screen.shown--; screen.shown > 0 {
				return
			}
			for _, l := range screen.held {
				l.flush()
			}
			screen.held = nil
		})
	}
}
