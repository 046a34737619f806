package dash

import (
	"context"
	"errors"
	"net/http"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/tui"
)

// Remote is an instance running elsewhere, reached through its admin
// endpoint: a tui.Source, a Controller and a Tuner (a proxy takes the
// tuning actions; another instance refuses them with admin.ErrUnsupported).
type Remote struct {
	Client *admin.Client
}

// Snapshot fetches the instance's current state. An error that asking
// again cannot cure (the URL is not an admin endpoint, the token is
// missing or wrong, the host is refused) ends a Display's plain lines.
func (r Remote) Snapshot(ctx context.Context) (tui.Snapshot, error) {
	var s tui.Snapshot
	err := r.Client.Snapshot(ctx, &s)
	if isPermanent(err) {
		err = permanentError{err}
	}
	return s, err
}

// permanentError marks a Source error that polling again cannot cure.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// isPermanent reports whether err means the remote will not answer better
// if asked again.
func isPermanent(err error) bool {
	if errors.Is(err, admin.ErrNotAdmin) {
		return true
	}
	var se *admin.StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}

func (r Remote) control(action string, rate float64) (float64, error) {
	return r.Client.Control(context.Background(), action, rate) // the client bounds each call
}

// Pause asks the instance to pause its load or mirroring.
func (r Remote) Pause() error { _, err := r.control("pause", 0); return err }

// Resume undoes Pause.
func (r Remote) Resume() error { _, err := r.control("resume", 0); return err }

// SetRate asks for a new rate and returns the one the instance applied.
func (r Remote) SetRate(perSecond float64) (float64, error) { return r.control("rate", perSecond) }

// Stop asks the instance to stop gracefully.
func (r Remote) Stop() error { _, err := r.control("stop", 0); return err }

// Kill asks the instance to stop at once.
func (r Remote) Kill() error { _, err := r.control("kill", 0); return err }
