package scenarios

// traceparentHeader is the W3C trace context header every synthetic
// request carries (internal/traceparent writes it: one trace per journey,
// a span per step, sampled), so that synthetic traffic can be found in
// tracing.
const traceparentHeader = "Traceparent"
