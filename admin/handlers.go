package admin

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
)

// ownPaths are the server's endpoints; Config.Handlers may not take them.
var ownPaths = []string{"/healthz", "/readyz", "/metrics", "/snapshot", "/snapshot/stream", "/control", "/debug/pprof"}

// checkHandlers reports the first Config.Handlers entry the server cannot
// mount: a path that is not plain, not clean, or one of its own, or a nil
// handler.
func checkHandlers(handlers map[string]http.Handler) error {
	for _, p := range slices.Sorted(maps.Keys(handlers)) {
		if err := checkHandlerPath(p); err != nil {
			return fmt.Errorf("admin config: Handlers[%q]: %w", p, err)
		}
		if handlers[p] == nil {
			return fmt.Errorf("admin config: Handlers[%q]: handler is nil", p)
		}
	}
	return nil
}

func checkHandlerPath(p string) error {
	trimmed := strings.TrimSuffix(p, "/")
	switch {
	case !strings.HasPrefix(p, "/"):
		return errors.New(`want a path starting with "/", like "/history"`)
	case p == "/":
		return errors.New(`"/" would answer every unknown path: want a path below it, like "/history"`)
	case strings.ContainsAny(p, " \t{}%?#"):
		return errors.New("want a plain path: no method, wildcard, escape, query or fragment")
	case path.Clean(trimmed) != trimmed:
		return fmt.Errorf("not a clean path: want %q", path.Clean(p))
	case slices.Contains(ownPaths, trimmed), strings.HasPrefix(p, "/debug/pprof/"):
		return errors.New("the server serves this path itself")
	}
	return nil
}

// mountHandlers adds Config.Handlers to mux, each behind the guard.
func (s *Server) mountHandlers(mux *http.ServeMux) {
	for p, h := range s.cfg.Handlers {
		mux.Handle(p, s.guard(h))
	}
}

// index is the plain-text list of endpoints served at /, the instance's
// own last.
func (s *Server) index() string {
	if len(s.cfg.Handlers) == 0 {
		return indexText
	}
	var b strings.Builder
	b.WriteString(indexText)
	for _, p := range slices.Sorted(maps.Keys(s.cfg.Handlers)) {
		fmt.Fprintf(&b, "     %-17s this instance's own endpoint\n", p)
	}
	return b.String()
}
