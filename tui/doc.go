// Package tui is the live dashboard of understudy: a Bubble Tea program
// that shows a shadow proxy (diff rates per endpoint, drill-down into a
// diff, primary against candidate latency) next to a synthetic runner
// (target against achieved rate, step results, the guardrail), and sends
// pause, rate and kill controls back, the proxy's sample share and route
// switches through a Controller that is also a Tuner, and, when the load
// is not the proxy's (shadow demo), the shadow tab's pause and stop of
// mirroring through one that is also a MirrorController.
//
// It holds no business logic and imports nothing else of understudy: it
// renders its own plain view-model, Snapshot, which cmd fills from the
// proxy, the compare engine and the runner, and which the admin endpoint
// serves as JSON for attach mode. A Source delivers snapshots (in process
// or from a remote instance) and a Controller acts on the instance; Run
// shows the dashboard on a terminal and Plain renders a snapshot as plain
// progress lines for everything else.
//
// The dashboard polls its Source in the background, never blocking on it:
// a failing or dead instance shows as an error in the status bar and is
// retried with a back-off. It keeps two minutes of history, one point per
// second of snapshot time, for its charts.
package tui
