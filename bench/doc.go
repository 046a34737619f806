// Package bench holds what the side-by-side performance harness
// (bench/run.sh) measures and reports: the records its helpers write, the
// parsers for the raw output of the tools it drives (wrk, the vegeta CLI,
// synth's JSON report, go test -bench, callgrind's instruction counts of
// the whole path, shadow's admin snapshot), and the
// rendering of a results file and of BENCHMARKS.md with each figure beside
// its goal.
//
// Every figure is a ratio against a baseline measured in the same run on
// the same machine, or a median over interleaved rounds; nothing here
// compares a time against a fixed threshold, so a slow or busy machine
// changes the absolute numbers but not what the table says.
//
// The harness lays its raw output out in one directory (see Load); the
// benchreport command reads it with Load and writes the reports with
// WriteResults and WriteBenchmarks.
package bench
