// Package wire is how understudy's binaries speak HTTP on the wire: the
// listener clients connect to, and the TLS and HTTP version of every
// connection to an upstream.
//
// The listener (Server) serves HTTP/1.1 and HTTP/2 on one port: in the
// clear, HTTP/2 with prior knowledge (h2c) beside HTTP/1.1; with TLS, h2
// and http/1.1 chosen by ALPN, at least TLS 1.2, the certificate re-read
// when its files change (rotation without a restart) and, with a client
// CA, only clients presenting a certificate it signed (mTLS). Go's server
// does not implement the HTTP/1.1 "Upgrade: h2c" handshake (RFC 7540 §3.2,
// deprecated by RFC 9113), so such a request is served as the HTTP/1.1
// request it also is, with the h2c upgrade headers removed, as the RFC
// allows a server that does not switch.
//
// ClientTLS turns an upstream's tls settings (CA, client certificate,
// server name, verification) into a tls.Config; Protocol says which HTTP
// version to speak to it. ErrorKind sorts the errors of reaching an
// upstream into a few kinds (tls, refused, timeout, protocol, reset,
// other) that logs, counters and reports share.
package wire
