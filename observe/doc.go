// Package observe is the shadow proxy's observer pipeline: what happens to
// each exchange the proxy has joined, off the client's path. A Pipeline
// redacts the exchange, has the compare engine judge the redacted copy
// (so the dashboard, the admin snapshot and reports, which show the
// engine's exemplars, never show a secret), and queues it with its verdict
// for the capture files.
//
// Two bounds keep it from hurting the serving path:
//
//   - Judging is CPU work. At most Config.Judges exchanges are judged at
//     once (default GOMAXPROCS-1, at least 1), so judging always leaves a
//     core to the proxy. An exchange that finds every judge busy waits at
//     most Config.JudgeWait (default 1s) holding its mirror worker, then is
//     dropped and counted (Stats.Busy). Mirror workers are never held
//     longer, and the proxy drops (and counts) copies it has no worker for.
//   - Writing never waits: records queue (Config.QueueSize) for one writer
//     goroutine; when the queue is full a record is dropped and counted.
//
// mirror and compare do not know each other; cmd wires a Pipeline as the
// proxy's Observer, and replay uses one the same way.
package observe
