package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// MetricSource answers instant queries about production with one number:
// Prometheus, or anything that speaks its HTTP API. It is what relative
// rates and query guardrails read.
type MetricSource interface {
	// Query evaluates query now. A query that yields no data, or more
	// than one series, is an error.
	Query(ctx context.Context, query string) (float64, error)
}

// maxLiveQueryTime bounds one evaluation of a production query.
const maxLiveQueryTime = 10 * time.Second

// prometheusSource asks a Prometheus server through client_golang's API
// client.
type prometheusSource struct {
	api  promv1.API
	name string // the server, without credentials, for messages
}

// newPrometheusSource returns a source asking the server at base through
// rt (nil: a transport of its own).
func newPrometheusSource(base string, rt http.RoundTripper) (*prometheusSource, error) {
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	c, err := api.NewClient(api.Config{Address: base, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", redactURL(base), err)
	}
	return &prometheusSource{api: promv1.NewAPI(c), name: redactURL(base)}, nil
}

// Query implements MetricSource.
func (p *prometheusSource) Query(ctx context.Context, query string) (float64, error) {
	v, _, _, err := p.api.Query(ctx, query, time.Now())
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its message repeats the URL, which may hold a password
		}
		return 0, fmt.Errorf("prometheus %s: %w", p.name, err)
	}
	x, err := oneNumber(v)
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: %w", p.name, err)
	}
	return x, nil
}

// oneNumber reads the single number a query must yield.
func oneNumber(v model.Value) (float64, error) {
	var x float64
	switch v := v.(type) {
	case *model.Scalar:
		x = float64(v.Value)
	case model.Vector:
		switch len(v) {
		case 0:
			return 0, errors.New("the query returned no data")
		case 1:
			x = float64(v[0].Value)
		default:
			return 0, fmt.Errorf("the query returned %d series: want one number (wrap it in sum())", len(v))
		}
	default:
		return 0, fmt.Errorf("the query returned a %s: want one number", v.Type())
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("the query returned %v: want a number", x)
	}
	return x, nil
}

// redactURL keeps a URL's scheme, host and path, dropping any user and
// password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a bad URL)"
	}
	u.User = nil
	return strings.TrimRight(u.String(), "/")
}
