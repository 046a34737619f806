package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the underlying http.Server. There is no write timeout: streams
// and profiles write for long, and bound each write themselves.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Server is the admin HTTP server of one running instance. Create it with
// New; serve it with Listen and Run, or mount Handler elsewhere.
type Server struct {
	cfg     Config
	reg     *prometheus.Registry
	log     *slog.Logger
	handler http.Handler
	http    *http.Server

	// streams holds one token per open snapshot stream.
	streams chan struct{}
	// stopping is closed when the server shuts down or closes; streams and
	// profiles watch it so that shutdown never waits on them.
	stopping chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex
	ln      net.Listener
	running bool
	closed  bool

	// fresh holds connections that have not sent a byte yet. http.Server's
	// Shutdown counts them as busy for five seconds; shutdown closes them.
	connMu sync.Mutex
	fresh  map[net.Conn]struct{}
}

// New validates cfg and builds a server. It does not touch the network.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	s := &Server{
		cfg:      cfg,
		reg:      reg,
		log:      cfg.Logger,
		streams:  make(chan struct{}, cfg.MaxStreams),
		stopping: make(chan struct{}),
		fresh:    make(map[net.Conn]struct{}),
	}
	s.handler = s.routes()
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		ConnState:         s.trackConn,
	}
	// Shutdown runs this once its listener is closed.
	s.http.RegisterOnShutdown(s.closeFreshConns)
	return s, nil
}

// Registry returns the registry that /metrics serves, so the instance can
// register its own collectors on it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Handler returns the server's endpoints without a listener, for httptest or
// for mounting under another server. Streams served through it end when
// their client goes away or when Close is called.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds the configured address, so that Addr is known before Run
// serves. Calling it is optional: Run listens by itself when it was not.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("admin listen %q: %w", s.cfg.Addr, http.ErrServerClosed)
	}
	if s.ln != nil {
		return fmt.Errorf("admin listen %q: already listening on %s", s.cfg.Addr, s.ln.Addr())
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin listen %q: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the address the server listens on, with the real port when
// Config.Addr asked for port 0. It is nil until Listen or Run has bound it.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Run serves until ctx is done, then shuts down gracefully and returns with
// the port closed: streams and profiles end at once, other requests get
// Config.ShutdownTimeout to finish. It returns nil after a clean shutdown or
// after Close, and an error when it cannot listen or serve, or when requests
// had to be cut off. A server runs once.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("admin run: already running")
	}
	s.running = true
	needListen := s.ln == nil
	s.mu.Unlock()
	if needListen {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()

	s.log.Info("admin server listening", "addr", ln.Addr().String(), "token", s.cfg.Token != "")
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(ln) }()

	var err error
	select {
	case err = <-served:
		// Serve ended before ctx: Close was called, or the listener failed.
		if s.isStopping() || errors.Is(err, http.ErrServerClosed) {
			err = nil
		} else {
			err = fmt.Errorf("admin serve %s: %w", ln.Addr(), err)
		}
	case <-ctx.Done():
		err = s.shutdown()
		<-served
	}
	_ = ln.Close() // already closed by Serve; makes "port closed" certain
	return err
}

// shutdown ends streams and profiles, then waits up to ShutdownTimeout for
// the other requests before cutting them off.
func (s *Server) shutdown() error {
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
		return fmt.Errorf("admin shutdown: requests still in flight after %v were cut off: %w", s.cfg.ShutdownTimeout, err)
	}
	return nil
}

// Close stops the server at once: it closes the listener and every
// connection, and ends streams and profiles. Run then returns nil. It is
// safe to call more than once, and before Run.
func (s *Server) Close() error {
	s.stop()
	s.mu.Lock()
	s.closed = true
	ln := s.ln
	s.mu.Unlock()
	err := s.http.Close()
	if ln != nil {
		_ = ln.Close() // Serve may not own it yet
	}
	if err != nil {
		return fmt.Errorf("admin close: %w", err)
	}
	return nil
}

// trackConn keeps the set of connections that have not started a request.
func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if state == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}

// closeFreshConns closes connections on which the client has sent nothing
// (browsers and HTTP clients open spares), so that Shutdown need not wait
// for them: there is no request on them to finish.
func (s *Server) closeFreshConns() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.fresh {
		_ = c.Close()
		delete(s.fresh, c)
	}
}

func (s *Server) stop() { s.stopOnce.Do(func() { close(s.stopping) }) }

func (s *Server) isStopping() bool {
	select {
	case <-s.stopping:
		return true
	default:
		return false
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.Handle("/snapshot", s.guard(http.HandlerFunc(s.serveSnapshot)))
	mux.Handle("/snapshot/stream", s.guard(http.HandlerFunc(s.serveStream)))
	mux.Handle("/control", s.guard(http.HandlerFunc(s.serveControl)))
	mux.Handle("/debug/pprof/", s.guard(s.pprofHandler()))
	s.mountHandlers(mux)
	return mux
}

const indexText = `understudy admin
GET  /healthz          liveness
GET  /readyz           readiness
GET  /metrics          Prometheus metrics
GET  /snapshot         current state as JSON
GET  /snapshot/stream  state as newline-delimited JSON, one line per interval
POST /control          {"action":"pause|resume|rate|stop|kill","rate":N} (Content-Type: application/json)
GET  /debug/pprof/     profiles
Without a token, send the header X-Admin-Request: 1 to /snapshot/stream, /control and /debug/pprof/.
`

func (s *Server) serveIndex(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, s.index())
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
			return
		}
	}
	writeText(w, http.StatusOK, "ok\n")
}

func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      s.reg,
	})
	return promhttp.InstrumentMetricHandler(s.reg, h)
}

// errorBody is the JSON every guarded endpoint answers with when it refuses.
type errorBody struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{OK: false, Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own small types come here
		status, b = http.StatusInternalServerError, []byte(`{"ok":false,"error":"encode answer"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}
