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

// Server is an instance of the order service (or of the payment service)
// listening on a loopback port, for `shadow demo` and for tests that want
// a real HTTP server. Create it with Start or StartPayments and stop it
// with Close.
type Server struct {
	// URL is the base URL of the instance, such as http://127.0.0.1:41234.
	URL string
	// Service is the order service being served; nil on a payment
	// service's Server.
	Service *Service
	// Payments is the payment service being served; nil on an order
	// service's Server.
	Payments *Payments

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

// StartPayments listens on 127.0.0.1 on a free port and serves a new
// payment service until Close.
func StartPayments() (*Server, error) {
	p := NewPayments()
	s, err := listen(p)
	if err != nil {
		return nil, fmt.Errorf("start demo payments: %w", err)
	}
	s.Payments = p
	return s, nil
}

// serve starts serving svc on a free loopback port.
func serve(svc *Service) (*Server, error) {
	s, err := listen(svc)
	if err != nil {
		return nil, fmt.Errorf("start demo service: %w", err)
	}
	s.Service = svc
	return s, nil
}

// listen starts serving h on a free loopback port.
func listen(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{
			Handler:           h,
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
		if s.Service != nil {
			s.Service.CloseIdleConnections()
		}
		if s.serve != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("demo service %s: serve: %w", s.URL, s.serve)
		}
	})
	return s.closeErr
}
