package scenarios

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/understudy-dev/understudy/internal/traceparent"
)

// maxPreflightTime bounds the pre-flight request.
const maxPreflightTime = 10 * time.Second

// checkTarget sends the pre-flight request: one tagged HEAD / to the
// target, so that a target that is down ends the run at once rather than
// after a window of failed journeys. Any answer will do, whatever its
// status: only a target that does not answer at all fails. A scenario of
// gRPC steps only checks that the target accepts a gRPC connection.
func (r *Runner) checkTarget(ctx context.Context) error {
	if r.plan.onlyGRPC() {
		return r.checkGRPCTarget(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, min(r.timeout, maxPreflightTime))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, r.target+"/", nil)
	if err != nil {
		return fmt.Errorf("pre-flight: target %s: %w", redactURL(r.target), err)
	}
	id := r.runID + "-preflight"
	r.tagger.apply(req.Header, id)
	req.Header.Set(traceparentHeader, traceparent.New().String())
	resp, err := r.send(req)
	if err != nil {
		if uerr, ok := err.(*url.Error); ok {
			err = uerr.Err // its message repeats the URL
		}
		return fmt.Errorf("pre-flight: target %s does not answer (%s): %w", redactURL(r.target), errorKind(err), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyBytes))
	resp.Body.Close()
	r.log.Info("pre-flight: target answers", "target", redactURL(r.target), "status", resp.StatusCode)
	return nil
}
