package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownGrace bounds how long Close waits for requests in flight before it
// drops their connections.
const shutdownGrace = 5 * time.Second

// Server is an instance of the service listening on a loopback port, for
// `shadow demo` and for tests that want a real HTTP server. Create it with
// Start and stop it with Close.
type Server struct {
	// URL is the base URL of the instance, such as http://127.0.0.1:41234.
	URL string
	// Service is the instance being served.
	Service *Service

	srv    *http.Server
	cancel context.CancelFunc // ends every request's context
	done   chan struct{}      // closed when Serve has returned
	serve  error              // what Serve returned, if not ErrServerClosed

	closeOnce sync.Once
	closeErr  error
}

// Start listens on 127.0.0.1 on a free port and serves an instance
// configured by opts until Close.
func Start(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("start demo service: %w", err)
	}
	return serve(New(opts))
}

// serve starts serving svc on a free loopback port.
func serve(svc *Service) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start demo service: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		Service: svc,
		srv: &http.Server{
			Handler:           svc,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       time.Minute,
			BaseContext:       func(net.Listener) context.Context { return ctx },
		},
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serve = err
		}
	}()
	return s, nil
}

// Close stops the server: it cancels requests in flight (a delayed answer
// ends at once), waits for them up to a grace period, closes every
// connection and returns once no goroutine of the server is left. It is safe
// to call more than once; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = fmt.Errorf("close demo service %s: %w", s.URL, errors.Join(err, s.srv.Close()))
		}
		<-s.done
		if s.serve != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("demo service %s: serve: %w", s.URL, s.serve)
		}
	})
	return s.closeErr
}
