// Package compare judges the answers of a parallel run: for each exchange
// it diffs the candidate's answer against the primary's (status, headers,
// body), learns from a secondary which fields differ on their own (noise),
// and keeps per-endpoint aggregates from which it writes JSON and
// Markdown reports with a pass/fail verdict for a release pipeline.
//
// It works on exchange.Exchange values and does not depend on the proxy,
// so recorded traffic can be judged offline.
//
// # Shape
//
// An Engine (engine.go) judges an exchange: its outcome, then each pair of
// answers (the candidate's against the primary's, the secondary's against
// the primary's): status, headers (headers.go), and bodies. Bodies are
// compared by format (format.go): a small interface — detect, parse,
// normalize, diff — with one file per format that owns all four: JSON
// (json.go, with its decoder, prefixes, values and diff in json*.go), XML
// (xml.go), form (form.go), protobuf for gRPC answers (protobuf.go, with
// its decoders and wire diff in protobuf*.go; grpcstatus.go makes the
// gRPC status the pair's status), text (text.go) and binary (binary.go). The
// engine picks the format of a pair and stays out of its business; a new
// format is one more file. Normalizers (normalize.go) say what to rewrite;
// where is a path in the syntax of the format it reaches, parsed in
// pattern.go (JSON paths, in the grammar of internal/jsonpath that
// capture's redaction shares, and form paths) and xmlpath.go (XML
// paths) alone. Each
// comparison has a work budget (budget.go). Judgements are aggregated per
// endpoint (endpoint.go, aggregate.go, noise.go) and reported (report.go,
// markdown.go, verdict.go).
//
// # Rules
//
//   - Headers: compared by canonical name, values joined with ", ",
//     Content-Type as a media type; DefaultIgnoreHeaders are skipped unless
//     Config.ReplaceIgnoreHeaders.
//   - Bodies: a Content-Encoding (gzip, deflate, br, zstd, or a list of
//     them) is undone first, at most 8 MiB of it, so a change of
//     compression alone shows only as a Content-Encoding header
//     difference. The format is chosen per body (see AutoComparator) or
//     forced per route (Config.Comparators). JSON bodies are decoded with
//     numbers kept exact and diffed structurally ("$.items[2].price") by
//     github.com/google/go-cmp, once per pair, on what differs of both
//     trees (jsoncmp.go); XML bodies are diffed as element trees
//     ("/order/items/item[2]/price", "/order/@id"; see xml.go for
//     namespaces, text and order); form bodies key by key ("form.qty").
//     One structured side against a side that is not of that format is a
//     type change at "body"; anything else compares as text (with a short
//     line diff) or bytes.
//   - Numbers compare as exact decimals: 1.10 equals 1.1 and 1e2 equals
//     100, but 12345678901234567890 differs from 12345678901234567891, and
//     1 against "1" is a type change.
//   - Arrays compare index by index (an insertion shows as changes from
//     that index on); use a Set or Sort normalizer for arrays whose order
//     does not matter.
//   - Truncated bodies are compared only as far as both sides were read;
//     truncation can hide a difference but never invents one.
//   - Noise: see NoiseConfig. Status and header differences are never
//     noise. Diff counts in reports use the noise learned from all
//     exchanges, whatever their order.
//
// # Bounds
//
// Every diff is linear in the size of the bodies (n log n where members
// are put in key order): JSON trees are pruned to what differs in one
// walk before go-cmp sees them. Each comparison has a work budget
// (Config.Budget: nodes visited, differences found); past it the exchange
// is marked too large and counted, not diffed further. Memory is bounded
// by Config: at most MaxEndpoints endpoints (each with two latency
// histograms of about 60 KiB), MaxFields fields each, and Exemplars
// exemplars per field holding at most three ExemplarBytes excerpts
// (shared by the fields of one exchange).
package compare
