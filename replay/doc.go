// Package replay re-sends recorded requests to a new candidate and joins
// each new answer with the recorded ones, so that a capture taken in
// front of production can judge a version that did not exist yet: the
// GoReplay workflow, with the recorded primary answer as the reference.
//
// It takes exchanges (read from capture files by the caller) and hands each
// re-judged exchange to an observer function; it knows neither the capture
// format nor the compare engine. Requests are sent by a fixed pool of
// workers, marked with the shadow marker header, and unsafe methods are
// skipped unless Config.Unsafe says otherwise.
//
// # Pacing
//
// A vegeta.Pacer decides when each request starts: vegeta's ConstantPacer
// for a fixed Config.Rate, or, with Config.Speed, a pacer of this package
// that keeps the recorded inter-arrival times (the gaps between the
// records' Received times) divided by the speed, as GoReplay's
// --input-file with a speed multiplier does. Start times are offsets from
// the start of the replay, so a request that waited for a free worker does
// not delay the ones after it. Config.Loop replays the records again and
// again, bounded by Config.Duration, Config.Count or Run's context.
package replay
