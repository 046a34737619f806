// Package mirror is the shadow proxy's core: a reverse proxy that serves
// every request from the primary (the live service), copies eligible
// requests to a candidate (the version under test) and optionally a
// secondary (a second copy of the live version), joins the answers into one
// exchange.Exchange and hands it to an Observer.
//
// The client only ever talks to the primary. Everything mirror related
// happens off the client's path: copies go through a bounded queue to a
// fixed pool of workers, a full queue drops the copy (and counts it), and a
// slow, dead or hostile candidate costs the client nothing. The primary's
// answer is streamed to the client by net/http/httputil.ReverseProxy and teed
// into a bounded buffer on the way.
package mirror
