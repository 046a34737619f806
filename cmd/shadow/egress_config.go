package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/mirror"
)

// egressOn reports whether the config declares egress: dependencies, the
// forward-proxy listeners, limits or the trace mode. Without it shadow runs no egress
// listener and unsafe routes behave as they always did.
func (c config) egressOn() bool {
	e := c.Egress
	return len(e.Dependencies) > 0 || e.Proxy != (egress.Listeners{}) || e.Limits != (egress.Limits{}) || e.Trace != ""
}

// validateEgress checks the egress section (its errors name the keys the
// user wrote: "egress[0].primary_listen") and the routes' egress names.
func (c config) validateEgress() error {
	var errs []error
	if c.egressOn() {
		errs = append(errs, c.Egress.Validate())
	}
	names := map[string]bool{}
	for _, d := range c.Egress.Dependencies {
		names[d.Name] = true
	}
	for i, r := range c.Mirror.Routes {
		for j, n := range r.Egress {
			if names[n] {
				continue
			}
			known := "no dependencies are configured under egress"
			if len(names) > 0 {
				known = "configured: " + strings.Join(slices.Sorted(maps.Keys(names)), ", ")
			}
			errs = append(errs, fmt.Errorf("mirror.routes[%d].egress[%d]: %q is no egress dependency (%s)", i, j, n, known))
		}
	}
	return errors.Join(errs...)
}

// printConfig is --print-config: the effective config, then a comment
// saying which routes mirror writes and through which dependencies.
func printConfig(cmd *cobra.Command, cfg config, level slog.Level) (bool, error) {
	printed, err := loader.PrintConfig(cmd, cfg.resolved(level))
	if printed && err == nil {
		writeMirrorNote(cmd.OutOrStdout(), cfg.Mirror.Routes, cfg.egressOn())
	}
	return printed, err
}

// writeMirrorNote writes, as YAML comments, how each route that opts in
// to unsafe methods mirrors them.
func writeMirrorNote(w io.Writer, routes []mirror.Route, egressOn bool) {
	var lines []string
	for i, r := range routes {
		if !r.Unsafe || r.Disabled {
			continue
		}
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("routes[%d]", i)
		}
		what := strings.Join(r.Methods, ",")
		if what == "" {
			what = "any method"
		}
		what += " " + cmp.Or(r.Path, "any path")
		switch {
		case len(r.Egress) > 0:
			lines = append(lines, fmt.Sprintf("#   %s (%s): write-mirrored through egress %s: the copies' calls to it are answered from the primary's, never sent", name, what, strings.Join(r.Egress, ", ")))
		case egressOn:
			lines = append(lines, fmt.Sprintf("#   %s (%s): unsafe methods mirrored with no egress dependency named (mirror.routes[%d].egress): calls the copies make reach real services", name, what, i))
		default:
			lines = append(lines, fmt.Sprintf("#   %s (%s): unsafe methods mirrored without egress: the copies' side effects are real", name, what))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "# Routes that mirror writes:")
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
