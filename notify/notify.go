// Package notify tells people how a run ended: it posts a short summary
// and the report's path to webhooks (Slack incoming webhooks, or anything
// that takes JSON), once per run, for the outcomes each webhook asks for.
// A webhook that fails is logged and never changes the run's outcome.
//
//	notify:
//	  - webhook_env: SLACK_WEBHOOK   # or webhook: https://hooks.slack.com/...
//	    on: [failed, aborted]
//	    format: slack
//
// synth run, synth schedule and shadow run send these; any tool with a run
// summary can.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Event is how a run ended, as a webhook's On list names it.
type Event string

// The events a webhook can ask for.
const (
	// Passed: the run held its assertions and thresholds.
	Passed Event = "passed"
	// Failed: assertion or threshold failures.
	Failed Event = "failed"
	// Aborted: a guardrail (or a lost production metric, or a dead
	// target at pre-flight) stopped the run.
	Aborted Event = "aborted"
	// Killed: someone killed the run.
	Killed Event = "killed"
	// Stopped: someone stopped the run gracefully and it held.
	Stopped Event = "stopped"
	// Inconclusive: the run ended without enough to decide on (shadow:
	// nothing or too little judged, a candidate unreachable).
	Inconclusive Event = "inconclusive"
)

// Events lists every Event, in order.
var Events = []Event{Passed, Failed, Aborted, Killed, Stopped, Inconclusive}

// Formats a webhook's body may take.
const (
	// FormatJSON posts the Summary as a JSON object.
	FormatJSON = "json"
	// FormatSlack posts {"text": ...}, which Slack's incoming webhooks
	// (and Mattermost's, and many others) show as a message.
	FormatSlack = "slack"
)

// DefaultTimeout bounds one webhook post.
const DefaultTimeout = 10 * time.Second

// Target is one webhook. Its zero value is not valid: set Webhook or
// WebhookEnv.
type Target struct {
	// Webhook is the URL posted to. A webhook URL is often a credential
	// (Slack's are): prefer WebhookEnv, which keeps it out of files.
	Webhook string `yaml:"webhook" mapstructure:"webhook"`
	// WebhookEnv names the environment variable holding the URL.
	WebhookEnv string `yaml:"webhook_env" mapstructure:"webhook_env"`
	// On lists the events posted. Empty means failed, aborted and
	// inconclusive.
	On []Event `yaml:"on" mapstructure:"on"`
	// Format is FormatJSON or FormatSlack. Empty means FormatJSON.
	Format string `yaml:"format" mapstructure:"format"`
}

// Problem is one thing wrong with a Target: the key, as written in the
// file (webhook, on[1], format), and what is wrong with it.
type Problem struct {
	Key string
	Msg string
}

// Check returns every problem with t; the environment variable WebhookEnv
// names need not be set yet (it is read when a run ends).
func (t Target) Check() []Problem {
	var probs []Problem
	switch {
	case t.Webhook == "" && t.WebhookEnv == "":
		probs = append(probs, Problem{"webhook", "required: the URL to post to (or webhook_env: the variable holding it)"})
	case t.Webhook != "" && t.WebhookEnv != "":
		probs = append(probs, Problem{"webhook_env", "set webhook or webhook_env, not both"})
	case t.Webhook != "":
		if err := checkURL(t.Webhook); err != nil {
			probs = append(probs, Problem{"webhook", err.Error()})
		}
	}
	for i, e := range t.On {
		if !slices.Contains(Events, e) {
			probs = append(probs, Problem{fmt.Sprintf("on[%d]", i), fmt.Sprintf("want one of %s, got %q", eventList(), e)})
		}
	}
	if t.Format != "" && t.Format != FormatJSON && t.Format != FormatSlack {
		probs = append(probs, Problem{"format", fmt.Sprintf("want %q or %q, got %q", FormatJSON, FormatSlack, t.Format)})
	}
	return probs
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an http:// or https:// URL, got %q", redact(raw))
	}
	return nil
}

func eventList() string {
	names := make([]string, len(Events))
	for i, e := range Events {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// wants reports whether t posts e.
func (t Target) wants(e Event) bool {
	if len(t.On) == 0 {
		return e == Failed || e == Aborted || e == Inconclusive
	}
	return slices.Contains(t.On, e)
}

// Summary is what a webhook is told about a run.
type Summary struct {
	// Tool is the program that ran it ("synth"); Name the scenario or
	// schedule entry; RunID the run's id.
	Tool  string `json:"tool"`
	Name  string `json:"name"`
	RunID string `json:"run_id"`
	// Event is how it ended; Verdict says it in a word (PASS, FAIL,
	// ABORTED, KILLED); Reason says why it was aborted, killed or stopped.
	Event   Event  `json:"event"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
	// Started and Ended bound the run.
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	// Text is the run's human summary; Reports are the paths of its
	// report and result files, if it wrote any.
	Text    string   `json:"text"`
	Reports []string `json:"reports,omitempty"`
}

// Notifier posts summaries to its targets. The zero value posts nothing.
type Notifier struct {
	// Targets are the webhooks.
	Targets []Target
	// Client posts; nil means a client with DefaultTimeout.
	Client *http.Client
	// Logger receives every post's outcome; nil means none.
	Logger *slog.Logger
	// Getenv reads WebhookEnv variables; nil means os.Getenv.
	Getenv func(string) string
}

// Notify posts s to every target that wants s.Event, one after the other,
// and returns how many posts failed. A failure is logged (naming the
// webhook's host, never its full URL, which may hold a secret) and never
// returned as an error: telling people must not change how a run ended.
func (n *Notifier) Notify(ctx context.Context, s Summary) (failed int) {
	log := n.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for i, t := range n.Targets {
		if !t.wants(s.Event) {
			continue
		}
		if err := n.post(ctx, t, s); err != nil {
			failed++
			log.Warn("notify: webhook failed; the run's outcome stands", "target", i, "webhook", n.where(t), "err", err)
			continue
		}
		log.Info("notify: webhook told", "target", i, "webhook", n.where(t), "event", s.Event)
	}
	return failed
}

// where names a target's webhook without its secret parts.
func (n *Notifier) where(t Target) string {
	if t.WebhookEnv != "" {
		return "$" + t.WebhookEnv
	}
	return redact(t.Webhook)
}

// redact keeps a URL's scheme and host: paths and queries of webhooks
// hold their tokens.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a URL)"
	}
	return u.Scheme + "://" + u.Host + "/..."
}

func (n *Notifier) post(ctx context.Context, t Target, s Summary) error {
	target := t.Webhook
	if t.WebhookEnv != "" {
		getenv := n.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		if target = getenv(t.WebhookEnv); target == "" {
			return fmt.Errorf("environment variable %s is not set", t.WebhookEnv)
		}
		if err := checkURL(target); err != nil {
			return fmt.Errorf("environment variable %s: %w", t.WebhookEnv, err)
		}
	}
	body, err := encode(t.Format, s)
	if err != nil {
		return err
	}
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New("bad webhook URL") // never echo the URL
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its message repeats the URL
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// encode writes the body a format asks for.
func encode(format string, s Summary) ([]byte, error) {
	if format == FormatSlack {
		var b strings.Builder
		fmt.Fprintf(&b, "*%s %s*: %s (run `%s`)", s.Tool, s.Name, s.Verdict, s.RunID)
		if s.Reason != "" {
			fmt.Fprintf(&b, "\nreason: %s", s.Reason)
		}
		for _, r := range s.Reports {
			fmt.Fprintf(&b, "\nreport: `%s`", r)
		}
		if s.Text != "" {
			fmt.Fprintf(&b, "\n```\n%s\n```", strings.TrimRight(s.Text, "\n"))
		}
		return json.Marshal(map[string]string{"text": b.String()})
	}
	return json.Marshal(s)
}
