// Package dash wires the dashboard for both binaries: it turns the domain
// packages' state (the proxy's counters, the compare engine's report, the
// synthetic runner's snapshot) into tui's plain view types, shows them as
// the dashboard or as plain lines, and attaches to a remote instance
// through its admin endpoint. tui/ stays free of business logic and never
// imports the packages it shows.
package dash
