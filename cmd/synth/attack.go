package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/scenarios"
)

// maxAttackBody is the largest --body: what a body template may produce.
const maxAttackBody = 1 << 20

// attackFlags are the flags of synth attack beyond those of synth run.
type attackFlags struct {
	method       string
	body         string
	headers      []string
	status       []int
	maxErrorRate float64
	maxP99       time.Duration
	timeout      time.Duration
	maxInFlight  int
}

func newAttackCmd(interrupts <-chan os.Signal) *cobra.Command {
	var af attackFlags
	cmd := &cobra.Command{
		Use:   "attack [flags] URL --rate N --duration D",
		Short: "Send one tagged request at a steady rate: a one-step scenario from flags",
		Long: `Attack sends one request (URL, --method, --body, -H) at --rate requests per
second for --duration, as a one-step scenario with the same synthetic tags,
pre-flight, guardrails (--max-error-rate, --max-p99), dashboard, admin
endpoint and reports as synth run. An answer passes when its status is one
of --status (default any 2xx or 3xx). Nothing in the URL, headers or body is
a template: they are sent as given.

` + exitCodesHelp,
		Example: `  synth attack http://127.0.0.1:8080/menu --rate 100 --duration 30s
  synth attack https://shop.example/orders --rate 20 --duration 1m -X POST \
    --body @order.json -H 'Content-Type: application/json' --status 201 --max-error-rate 0.05`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if printed, err := loader.PrintConfig(cmd, cfg.resolved()); printed {
				return err
			}
			sc, err := af.scenario(args[0], cfg)
			if err != nil {
				return cli.ConfigError(err)
			}
			return runLoaded(cmd.Context(), cfg, sc, cmd.OutOrStdout(), cmd.ErrOrStderr(), interrupts)
		},
	}
	addConfigFlags(cmd)
	f := cmd.Flags()
	f.Lookup("rate").Usage = "requests per second (required; with --runners, all runners together)"
	f.Lookup("duration").Usage = "how long to send for (required)"
	f.StringVarP(&af.method, "method", "X", http.MethodGet, "HTTP method")
	f.StringVar(&af.body, "body", "", "request body, or @FILE to send a file's contents")
	f.StringArrayVarP(&af.headers, "header", "H", nil, `request header "Name: value" (repeatable)`)
	f.IntSliceVar(&af.status, "status", nil, "accepted status codes, like 200,201 (default any 2xx or 3xx)")
	f.Float64Var(&af.maxErrorRate, "max-error-rate", 0, "abort when more than this share of requests fails over the guardrail window (0.05 = 5%; 0 = no limit)")
	f.DurationVar(&af.maxP99, "max-p99", 0, "abort when the p99 latency stays above this over the guardrail window (0 = no limit)")
	f.DurationVar(&af.timeout, "timeout", 0, fmt.Sprintf("per-request timeout (default %v)", scenarios.DefaultTimeout))
	f.IntVar(&af.maxInFlight, "max-in-flight", 0, fmt.Sprintf("requests in flight at most; starts beyond are dropped and counted (default %d)", scenarios.DefaultMaxInFlight))
	return cmd
}

// scenario builds the one-step scenario the flags describe.
func (af attackFlags) scenario(raw string, cfg config) (*scenarios.Scenario, error) {
	var errs []error
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, fmt.Errorf("URL: want an http:// or https:// URL with a host and no fragment, got %q", raw)
	}
	if cfg.Target != "" {
		errs = append(errs, errors.New("target: attack sends to its URL argument; drop --target"))
	}
	if cfg.Rate <= 0 {
		errs = append(errs, errors.New("rate: required: requests per second, like --rate 100"))
	}
	if cfg.Duration <= 0 {
		errs = append(errs, errors.New("duration: required: how long to send for, like --duration 30s"))
	}
	method := strings.ToUpper(af.method)
	headers := map[string]string{}
	for _, h := range af.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			errs = append(errs, fmt.Errorf("header: %q: want \"Name: value\"", h))
			continue
		}
		headers[name] = literal(strings.TrimSpace(value))
	}
	body := af.body
	if file, ok := strings.CutPrefix(body, "@"); ok {
		b, err := readBodyFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("body: %w", err))
		}
		body = string(b)
	}
	if len(body) > maxAttackBody {
		errs = append(errs, fmt.Errorf("body: %d bytes, want at most %d", len(body), maxAttackBody))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	target := u.Scheme + "://" + u.Host
	if u.User != nil {
		target = u.Scheme + "://" + u.User.String() + "@" + u.Host
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	sc := &scenarios.Scenario{
		Name: "attack " + u.Host, Target: target,
		Rate: &scenarios.Rate{Rate: cfg.Rate}, Ceiling: cfg.Rate, Duration: cfg.Duration,
		MaxInFlight: af.maxInFlight, Timeout: af.timeout,
		Guardrails: scenarios.Guardrails{MaxErrorRate: af.maxErrorRate, MaxP99: af.maxP99},
		Journeys: []scenarios.Journey{{Name: "attack", Steps: []scenarios.Step{{
			Name: "request", Method: method, Path: literal(path), Headers: headers, Body: literal(body),
			Assert: scenarios.Assert{Status: af.status},
		}}}},
	}
	if err := sc.Validate(); err != nil {
		return nil, attackError(err)
	}
	return sc, nil
}

// readBodyFile reads --body @file, bounded.
func readBodyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxAttackBody {
		return nil, fmt.Errorf("%s: %d bytes, want at most %d", path, fi.Size(), maxAttackBody)
	}
	return os.ReadFile(path)
}

// literal makes text a template that renders as text: every {{ is
// written as {{"{{"}}.
func literal(text string) string {
	return strings.ReplaceAll(text, "{{", `{{"{{"}}`)
}

// attackFlagNames maps the scenario fields attack fills to its flags.
var attackFlagNames = strings.NewReplacer(
	"journeys[0].steps[0].method", "method",
	"journeys[0].steps[0].path", "URL",
	"journeys[0].steps[0].headers.", "header ",
	"journeys[0].steps[0].body", "body",
	"journeys[0].steps[0].assert.status", "status",
	"guardrails.max_error_rate", "max-error-rate",
	"guardrails.max_p99", "max-p99",
	"rate.rate", "rate",
)

// attackError names the flags in the problems of the built scenario.
func attackError(err error) error {
	var ve *scenarios.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	msgs := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		msgs[i] = attackFlagNames.Replace(p.Field) + ": " + p.Msg
	}
	return errors.New(strings.Join(msgs, "\n"))
}
