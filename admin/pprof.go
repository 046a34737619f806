package admin

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds on the profiling endpoints: how long one may run, and the extra
// time its client gets to read the result.
const (
	defaultCPUSeconds   = 30
	maxCPUSeconds       = 300
	defaultTraceSeconds = 1
	maxTraceSeconds     = 60
	profileWriteSlack   = 30 * time.Second
)

// pprofHandler serves /debug/pprof/ from runtime/pprof and runtime/trace.
// It does not import net/http/pprof, whose init registers the same handlers
// on http.DefaultServeMux for any server in the process that uses it.
func (s *Server) pprofHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeText(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: profiles take GET\n")
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
		case "":
			servePprofIndex(w)
		case "profile":
			s.serveTimedProfile(w, r, "profile", defaultCPUSeconds, maxCPUSeconds, pprof.StartCPUProfile, pprof.StopCPUProfile)
		case "trace":
			s.serveTimedProfile(w, r, "trace", defaultTraceSeconds, maxTraceSeconds, trace.Start, trace.Stop)
		default:
			serveNamedProfile(w, r, name)
		}
	})
}

func servePprofIndex(w http.ResponseWriter) {
	profiles := pprof.Profiles()
	sort.Slice(profiles, func(i, j int) bool { return profiles[i].Name() < profiles[j].Name() })
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>/debug/pprof/</title></head><body>\n")
	b.WriteString("<p>Profiles of this process (debug=1 for text):</p>\n<table>\n")
	for _, p := range profiles {
		name := html.EscapeString(p.Name())
		fmt.Fprintf(&b, "<tr><td align=right>%d</td><td><a href=\"%s?debug=1\">%s</a></td></tr>\n", p.Count(), name, name)
	}
	b.WriteString("</table>\n<ul>\n")
	fmt.Fprintf(&b, "<li><a href=\"profile?seconds=%d\">profile</a>: CPU profile (seconds=, at most %d)</li>\n", defaultCPUSeconds, maxCPUSeconds)
	fmt.Fprintf(&b, "<li><a href=\"trace?seconds=%d\">trace</a>: execution trace (seconds=, at most %d)</li>\n", defaultTraceSeconds, maxTraceSeconds)
	b.WriteString("</ul>\n<p>curl -H '" + RequestHeader + ": 1' -o heap.pprof http://HOST/debug/pprof/heap &amp;&amp; go tool pprof heap.pprof " +
		"(with a token: -H 'Authorization: Bearer TOKEN' instead)</p>\n</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

func serveNamedProfile(w http.ResponseWriter, r *http.Request, name string) {
	p := pprof.Lookup(name)
	if p == nil {
		writeText(w, http.StatusNotFound, "unknown profile "+quote(name)+": see /debug/pprof/ for the list\n")
		return
	}
	q := r.URL.Query()
	if q.Get("seconds") != "" {
		writeText(w, http.StatusBadRequest, "delta profiles (seconds=) are not served here: "+
			"take two profiles and compare them with go tool pprof -diff_base\n")
		return
	}
	debug, err := intParam(q.Get("debug"))
	if err != nil {
		writeText(w, http.StatusBadRequest, "debug="+quote(q.Get("debug"))+": want an integer\n")
		return
	}
	if gc, _ := intParam(q.Get("gc")); gc > 0 && name == "heap" {
		runtime.GC()
	}
	if debug != 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	_ = p.WriteTo(w, debug) // a write error means the client is gone
}

// serveTimedProfile runs a profile (CPU or trace) for seconds= seconds, or
// until the client goes away or the server shuts down, then sends it.
func (s *Server) serveTimedProfile(w http.ResponseWriter, r *http.Request, name string,
	defaultSeconds, maxSeconds float64, start func(io.Writer) error, stop func()) {
	seconds := defaultSeconds
	if v := r.URL.Query().Get("seconds"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= maxSeconds) {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("seconds=%s: want a number above 0 and at most %v\n", quote(v), maxSeconds))
			return
		}
		seconds = f
	}
	d := time.Duration(seconds * float64(time.Second))

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(d + profileWriteSlack))
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()

	// The profiler writes from its own goroutine; lw keeps our flush from
	// racing with it. The header is set before start because a profile that
	// started may write at any time.
	lw := &lockedWriter{w: w}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := start(lw); err != nil {
		w.Header().Del("Content-Disposition")
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("cannot start %s: %v\n", name, err))
		return
	}
	lw.flush(rc) // tells the client the profile is running

	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-s.stopping:
	}
	stop() // returns once the profiler wrote its last byte
}

// lockedWriter serializes the profiler's writes with the handler's flush.
type lockedWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) flush(rc *http.ResponseController) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = rc.Flush()
}

// intParam parses an optional integer query parameter; empty is 0.
func intParam(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	return strconv.Atoi(v)
}
