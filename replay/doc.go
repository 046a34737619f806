// Package replay re-sends recorded requests to a new candidate and joins
// each new answer with the recorded ones, so that a capture taken in
// front of production can judge a version that did not exist yet: the
// GoReplay workflow, with the recorded primary answer as the reference.
//
// It takes exchanges (read from capture files by the caller) and hands each
// re-judged exchange to an observer function; it knows neither the capture
// format nor the compare engine. Requests are paced by a vegeta pacer,
// sent by a fixed pool of workers, marked with the shadow marker header, and
// unsafe methods are skipped unless Config.Unsafe says otherwise.
package replay
