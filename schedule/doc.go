// Package schedule runs synthetic load on a timetable: the daemon behind
// `synth schedule`. Each entry of a Config names a scenario file, a cron
// spec saying when it starts, optional rate and duration overrides, and
// blackout windows in which it must not run:
//
//	timezone: Europe/Berlin
//	history_file: history.json
//	history_size: 200
//	result_dir: results
//	entries:
//	  - name: nightly-peak
//	    scenario: scenarios/lunch-rush.yaml
//	    cron: "0 3 * * *"
//	    rate: 150
//	    duration: 20m
//	    blackouts:
//	      - {days: [sat, sun]}
//	      - {from: "11:30", to: "14:00"}
//	  - name: smoke
//	    scenario: scenarios/order-journey.yaml
//	    cron: "CRON_TZ=UTC @every 15m"
//	    duration: 1m
//	    retry: -1
//
// # Rules
//
//   - Cron specs have five fields, or six with a leading seconds field, or
//     are descriptors (@hourly, @every 90s; @every rounds to whole seconds).
//     Time zones: an entry's timezone, else a CRON_TZ= prefix, else the
//     Config's, else the local one. The timing follows the real clock.
//   - One scenario file never runs twice at once, whichever entries name
//     it: a start due while it runs is skipped, counted
//     (ResultSkippedOverlap) and logged.
//   - A start due in a blackout is skipped and counted
//     (ResultSkippedBlackout); a run still going when a blackout begins is
//     stopped gracefully within a second (ResultStopped).
//   - A failed run (missed thresholds, or could not start) is retried
//     after RetryDelay, once by default, before it counts as failed. A run
//     a guardrail aborted is not retried, nor is one that was stopped.
//   - A finished run (its retries included) is told once to the webhooks
//     of Config.Notify and of its scenario file (notify.Notifier); a
//     webhook that fails is logged and changes nothing.
//   - Every attempt's result is written to ResultDir as JSON; every run is
//     kept in a bounded history, rewritten atomically (mode 0600) to
//     HistoryFile after each run, which `synth history` reads with
//     ReadHistory.
//
// # Lifecycle
//
// New validates the Config and reads the history; Run schedules until its
// context ends, then starts nothing new, stops the running scenarios
// gracefully (scenarios.Runner.Stop) and returns once they have ended and
// been recorded. Kill cuts that short. Status, Snapshots and History may be
// called at any time, from any goroutine, for metrics and dashboards.
//
// Runs are started through a Launcher (RunnerLauncher by default), so
// tests, or a caller with its own HTTP client, can put another in place.
package schedule
