// Package capture writes and reads understudy's record files: what the
// shadow proxy saw (an exchange with the primary, secondary and candidate
// answers and the verdict) and what the synthetic runner did (one step of a
// journey), so that reports can be rebuilt offline, files from many runners
// merged, and traffic replayed later.
//
// A file is a small versioned header followed by framed msgpack records.
// Every frame carries a length and CRC32C checksums, so a file cut short by a
// crash, or damaged in the middle, still yields every intact record: the
// Reader skips and counts what it cannot use. FORMAT.md describes the bytes.
//
// Secrets never reach the disk: the Writer runs every record through a
// Redactor (sensible defaults when none is configured) before encoding it,
// and never modifies the caller's copy.
package capture
