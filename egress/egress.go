package egress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/exchange"
)

// Timeouts of the listeners' http.Server. There is no read or write
// timeout: a dependency may take long to answer, and the services bound
// their own calls.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 90 * time.Second
	shutdownGrace     = 5 * time.Second
)

// Egress is the set of dependency listeners of one shadow run: per
// dependency one listener per side (and optionally one forward-proxy
// listener per side for all of them), and the store of the calls made
// through them. Create it with New, serve it with Run, read what it
// recorded with Take.
type Egress struct {
	cfg       Config
	log       *slog.Logger
	st        *store
	redactor  *capture.Redactor
	transport http.RoundTripper
	owned     *http.Transport // the default transport, closed by Close
	listeners []*listener

	mu      sync.Mutex
	bound   bool
	running bool
	closed  bool
}

// listener is one side's listener for one dependency, or for the forward
// proxy (dep "").
type listener struct {
	key     string // the YAML key of its address: "egress[0].candidate_listen"
	addr    string
	dep     string
	side    exchange.Side
	handler http.Handler
	srv     *http.Server
	ln      net.Listener
}

// New validates cfg and builds the listeners' handlers. It does not touch
// the network: Listen or Run binds the addresses.
func New(cfg Config) (*Egress, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("egress config: %w", err)
	}
	e := &Egress{cfg: cfg, log: cfg.Logger, st: newStore(cfg.Limits), redactor: cfg.Redactor, transport: cfg.Transport}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.redactor == nil {
		e.redactor = &capture.Redactor{}
	}
	if e.transport == nil {
		e.owned = defaultTransport()
		e.transport = e.owned
	}
	byHost := [numSides]map[string]http.Handler{{}, {}, {}}
	for i, d := range cfg.Dependencies {
		dep := &dependency{name: d.Name}
		dep.upstream, _ = parseUpstream(d.Upstream) // validated
		for _, r := range d.Routes {
			t, _ := parseTemplate(r) // validated
			dep.routes = append(dep.routes, t)
		}
		handlers := [numSides]http.Handler{
			newForwarder(dep, e.st, e.transport, e.log),
			&replayer{dep: dep, side: exchange.Secondary, st: e.st},
			&replayer{dep: dep, side: exchange.Candidate, st: e.st},
		}
		key := fmt.Sprintf("egress[%d]", i)
		e.add(key, d.Name, d.Listeners, handlers)
		for s := range numSides {
			byHost[s][hostPort(dep.upstream)] = handlers[s]
		}
	}
	if !cfg.Proxy.empty() {
		var handlers [numSides]http.Handler
		for s, side := range sides {
			handlers[s] = &proxyHandler{side: side, st: e.st, byHost: byHost[s]}
		}
		e.add("egress_proxy", "", cfg.Proxy, handlers)
	}
	return e, nil
}

// sides lists the sides in sideIndex order.
var sides = [numSides]exchange.Side{exchange.Primary, exchange.Secondary, exchange.Candidate}

// listenKeys are the YAML keys of the Listeners fields, in sideIndex order.
var listenKeys = [numSides]string{"primary_listen", "secondary_listen", "candidate_listen"}

// add adds a listener for every configured address of ls.
func (e *Egress) add(key, dep string, ls Listeners, handlers [numSides]http.Handler) {
	addrs := [numSides]string{ls.PrimaryListen, ls.SecondaryListen, ls.CandidateListen}
	for s, addr := range addrs {
		if addr == "" {
			continue
		}
		l := &listener{key: key + "." + listenKeys[s], addr: addr, dep: dep, side: sides[s], handler: handlers[s]}
		l.srv = &http.Server{
			Handler:           l.handler,
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelWarn),
		}
		e.listeners = append(e.listeners, l)
	}
}

// defaultTransport is the transport of the primary's calls when
// Config.Transport is nil.
func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // never the environment's: that could be egress itself
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass bodies as the dependency encoded them
	}
}

// Listen binds every listener, so that their addresses are known before
// Run serves. Calling it is optional: Run listens by itself. On an error,
// naming the YAML key of the address, nothing stays bound.
func (e *Egress) Listen() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("egress listen: %w", http.ErrServerClosed)
	}
	if e.bound {
		return errors.New("egress listen: already listening")
	}
	for i, l := range e.listeners {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, prev := range e.listeners[:i] {
				_ = prev.ln.Close()
				prev.ln = nil
			}
			return fmt.Errorf("egress listen %s %q: %w", l.key, l.addr, err)
		}
		l.ln = ln
	}
	e.bound = true
	return nil
}

// Addr returns the address the listener of a dependency's side listens
// on, with the real port when the configured one was 0; dependency ""
// names the forward-proxy listener. It is nil when there is no such
// listener or it is not bound yet.
func (e *Egress) Addr(dependency string, side exchange.Side) net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.listeners {
		if l.dep == dependency && l.side == side && l.ln != nil {
			return l.ln.Addr()
		}
	}
	return nil
}

// URL returns "http://" and Addr: the base URL a side's service instance
// is given for the dependency (or, for dependency "", its HTTP_PROXY). It
// is "" when Addr is nil.
func (e *Egress) URL(dependency string, side exchange.Side) string {
	a := e.Addr(dependency, side)
	if a == nil {
		return ""
	}
	return "http://" + a.String()
}

// Handler returns the handler of a dependency's side (dependency "": the
// forward proxy's) without a listener, for httptest or for mounting
// elsewhere; nil when there is none.
func (e *Egress) Handler(dependency string, side exchange.Side) http.Handler {
	for _, l := range e.listeners {
		if l.dep == dependency && l.side == side {
			return l.handler
		}
	}
	return nil
}

// Run serves every listener until ctx is done, then shuts down: copies
// still waiting for a primary's call are refused at once, other calls get
// a grace period to finish, and Run returns with every port closed. It
// returns nil after a clean shutdown or after Close, and an error when a
// listener cannot be bound or fails. Egress runs once.
func (e *Egress) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return errors.New("egress run: already running")
	}
	e.running = true
	bound := e.bound
	e.mu.Unlock()
	if !bound {
		if err := e.Listen(); err != nil {
			return err
		}
	}
	served := make(chan error, len(e.listeners))
	for _, l := range e.listeners {
		e.log.Info("egress listening", "key", l.key, "addr", l.ln.Addr().String(), "side", string(l.side), "dependency", l.dep)
		go func() {
			err := l.srv.Serve(l.ln)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			} else if err != nil {
				err = fmt.Errorf("egress serve %s %s: %w", l.key, l.ln.Addr(), err)
			}
			served <- err
		}()
	}
	var err error
	waiting := len(e.listeners)
	select {
	case err = <-served:
		// Close was called, or a listener failed: stop the others.
		waiting--
		if e.isClosed() {
			err = nil
		} else {
			_ = e.shutdown()
		}
	case <-ctx.Done():
		err = e.shutdown()
	}
	for ; waiting > 0; waiting-- {
		if serr := <-served; serr != nil && err == nil && !e.isClosed() {
			err = serr
		}
	}
	if e.owned != nil {
		e.owned.CloseIdleConnections()
	}
	return err
}

// shutdown refuses waiting copies, then gives the other calls
// shutdownGrace before cutting them off.
func (e *Egress) shutdown() error {
	e.st.shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var errs []error
	for _, l := range e.listeners {
		if err := l.srv.Shutdown(ctx); err != nil {
			_ = l.srv.Close()
			errs = append(errs, fmt.Errorf("egress shutdown %s: calls still in flight after %v were cut off: %w", l.key, shutdownGrace, err))
		}
	}
	return errors.Join(errs...)
}

func (e *Egress) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Close stops every listener at once, closing their connections; waiting
// copies are refused. Run then returns nil. It is safe to call more than
// once, and before Run.
func (e *Egress) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.st.shutdown()
	var errs []error
	for _, l := range e.listeners {
		if err := l.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("egress close %s: %w", l.key, err))
		}
		if l.ln != nil {
			_ = l.ln.Close() // Serve may not own it yet
		}
	}
	if e.owned != nil {
		e.owned.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// Take removes and returns every side's outbound calls made under a trace
// id (see TraceID), redacted with Config.Redactor: the primary's first,
// then the secondary's and the candidate's, each in arrival order. Call it
// once the exchange is complete; a copy's call that arrives later finds
// no record and is refused. It returns nil when nothing was recorded for
// the trace. The calls share memory (a copy's answer is the primary's):
// treat them as read-only.
func (e *Egress) Take(traceID string) []exchange.OutboundCall {
	calls := e.st.take(traceID)
	for i := range calls {
		redact(e.redactor, &calls[i])
	}
	return calls
}

// Stats returns what egress has done so far and what it holds.
func (e *Egress) Stats() Stats { return e.st.stats() }
