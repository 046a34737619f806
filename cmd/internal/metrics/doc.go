// Package metrics exports what shadow and synth know to Prometheus, on the
// registry the admin server serves at /metrics.
//
// Most figures are read at scrape time from state the proxy, the compare
// engine and the runner keep anyway (custom collectors emitting constant
// metrics), so the request path pays nothing for them. Only what needs
// each event — the upstream latency histogram and the per-route diff
// counters — is fed per exchange, by the observer from
// ShadowMetrics.Observer, which runs in the proxy's workers, never on the
// client's path.
//
// # Shadow (NewShadow)
//
//	shadow_requests_total                                 client requests received
//	shadow_mirrored_total                                 copies queued
//	shadow_mirror_completed_total                         copies that reached the observer
//	shadow_mirror_streamed_total                          copies whose body went through a spool file
//	shadow_mirror_dropped_total{reason}                   queue_full | stale | abandoned
//	shadow_mirror_skipped_total{reason}                   method | route | paused | sample | body_size |
//	                                                      body_error | stream | upgrade | shutdown |
//	                                                      candidate_down | body_budget | grpc_stream
//	shadow_upstream_errors_total{side,kind}               primary|secondary|candidate, error|timeout
//	shadow_in_flight_requests, shadow_mirror_queue_length, shadow_mirror_queue_capacity,
//	shadow_mirror_workers                                 gauges
//	shadow_verdict{verdict}, shadow_diff_ratio            from the report (optional)
//	shadow_exchanges_total{route,outcome}                 compared | primary_error | candidate_error |
//	                                                      candidate_timeout
//	shadow_diffs_total{route,kind}                        status | header | body
//	shadow_differing_exchanges_total{route}               compared exchanges that differ
//	shadow_upstream_latency_seconds{route,side}           histogram, answers that arrived
//	shadow_websocket_connections_total{route,outcome}     mirrored | refused | skipped | unfollowed
//	shadow_websocket_messages_total{route,outcome}        compared | dropped | late | unpaired
//	                                                      (routes with websocket: true; route is the
//	                                                      mirror route's name)
//	shadow_candidate_exchanges_total{candidate,outcome}   with several candidates: each one's
//	                                                      outcomes, not_sent included
//	shadow_candidate_differing_exchanges_total{candidate} with several candidates: each one's
//	                                                      compared exchanges that differ
//
// With egress (NewEgress), read from egress.Egress.Stats:
//
//	shadow_egress_primary_calls_total{outcome}            forwarded | recorded | untraced |
//	                                                      not_recorded | failed | refused
//	shadow_egress_copy_calls_total{side,outcome}          secondary|candidate, answered | a refusal
//	                                                      reason (no_trace, no_match, incomplete, ...)
//	shadow_egress_evicted_traces_total{cause}             ttl | memory
//	shadow_egress_bytes_held, shadow_egress_traces        gauges
//
// Dropped and skipped are two families on purpose: a drop is a copy lost
// to overload or shutdown (alert on it), a skip is a request the rules
// left out (expected; watch it when tuning sampling or routes).
//
// The diff kind is the part of the answer that differs, not the kind of
// field change: an exchange counts once under status when the status
// codes differ, once under header when any compared header differs, and
// once under body when any body field differs other than by noise the
// engine has learned so far. Kinds overlap (one exchange can count under
// all three); shadow_differing_exchanges_total counts each differing
// exchange once. These counters never go back, so body differences
// counted before a field was learned to be noise stay counted; the
// report's noise-adjusted figure is shadow_diff_ratio.
//
// The route label is the compare engine's endpoint, method and path
// template ("GET /orders/{id}"), taken from its judgement of the exchange,
// so metrics and reports group requests the same way; the engine's
// overflow endpoint and every route beyond ShadowConfig.MaxRoutes
// (DefaultMaxRoutes) are reported as Other. A route costs about 40 series
// (56 with a secondary), most of them latency buckets.
//
// # Synth (NewSynth)
//
//	synth_requests_total{scenario,step,code}      code: HTTP status, or why no answer (timeout, ...)
//	synth_step_failures_total{scenario,step}
//	synth_step_latency_seconds{scenario,step}     summary
//	synth_journeys_total{scenario,result}         succeeded | failed | interrupted | dropped
//	synth_cleanups_total{scenario,result}         ok | failed | skipped
//	synth_aborts_total{reason}                    error_rate | p99_latency | guardrail | killed
//	synth_in_flight_journeys{scenario}, synth_target_journeys_per_second{scenario},
//	synth_current_journeys_per_second{scenario}, synth_guardrail_breaching{scenario}   live runs only
//
// The scenario label is the scenario's name, step is "journey/step"
// (capped at SynthConfig.MaxSteps, then Other). Step latency is a
// summary, not a histogram: the runner keeps an HDR histogram per step
// and the snapshot carries its percentiles, so the quantiles are exact
// (0.1%) over the whole latest run, not estimated from buckets, and
// recording costs the runner nothing more. Count and sum add up over
// runs (the sum is the count times the histogram's mean, to its 0.1%).
// Summaries cannot be aggregated across instances; for a distributed run
// merge the result files (synth report) instead.
//
// Runs are read through SynthConfig.Snapshot (a run as long as the
// process) or SynthMetrics.Watch (runs that come and go, as a schedule's
// do); the figures of ended runs are kept, so counters never go back.
//
// # Schedule (NewSchedule)
//
//	synth_schedule_runs_total{scenario,result}    passed | failed | aborted | stopped | error |
//	                                              skipped_overlap | skipped_blackout
//	synth_schedule_retries_total{scenario}
//	synth_schedule_running{scenario}
//	synth_schedule_next_run_timestamp_seconds{scenario}
//	synth_schedule_last_success_timestamp_seconds{scenario}
//
// Here the scenario label is the schedule entry's name.
package metrics
