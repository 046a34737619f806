package scenarios

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/understudy-dev/understudy/internal/grpcstatus"
	"github.com/understudy-dev/understudy/internal/traceparent"
	"github.com/understudy-dev/understudy/protoschema"
)

// A step with grpc: makes one unary gRPC call to the target instead of
// an HTTP request: the method's descriptors come from the scenario's
// grpc section (descriptor sets, .proto files or the target's
// reflection), the message is written in protojson (rendered from its
// templates for each journey), and the answer is read as protojson with
// the proto field names and default values, which captures and JSON
// assertions read as they read an HTTP answer. The step's status is the
// gRPC status code (assert: {status: OK}, the default, or a list of
// names or numbers); its headers are sent as metadata, with the
// synthetic tags and traceparent as an HTTP step sends them (in lower
// case: x-synthetic: true, ...).

// GRPCCall is a step's unary gRPC call.
type GRPCCall struct {
	// Method is the full method name, /package.Service/Method. Required.
	Method string `yaml:"method"`
	// Message is the request in protojson: a mapping (field names as in
	// the .proto file, or their JSON names) whose string values may be
	// templates, or a string holding a template of the JSON text. Empty
	// sends the empty message.
	Message any `yaml:"message"`
}

// Statuses lists accepted status codes: HTTP statuses for an HTTP step,
// gRPC codes for a gRPC step. In YAML it is one code or a list; gRPC
// codes may be written by name (OK, NOT_FOUND).
type Statuses []int

// maxGRPCAnswer bounds an answer message, like maxBodyBytes an HTTP one.
const maxGRPCAnswer = maxBodyBytes

// answerJSON writes answers for captures and assertions: proto field
// names, and the default values of fields without presence, as compare
// reads gRPC answers.
var answerJSON = protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}

// grpcPlan is a compiled gRPC call.
type grpcPlan struct {
	method  string
	message messageTmpl
}

// messageTmpl is a request message's template: a string template of the
// JSON text, or a tree of YAML values whose templated strings are *tmpl.
type messageTmpl struct {
	text *tmpl
	tree any
}

// render returns the message's JSON text for one journey.
func (m *messageTmpl) render(data *TemplateData) ([]byte, error) {
	if m.text != nil {
		s, err := m.text.string(data)
		return []byte(s), err
	}
	v, err := renderTree(m.tree, data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func renderTree(v any, data *TemplateData) (any, error) {
	switch x := v.(type) {
	case *tmpl:
		return x.string(data)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderTree(e, data)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderTree(e, data)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// grpcStep checks a step's gRPC call and compiles its templates with
// compile (which records what they read). md is the method's descriptor
// when the scenario's files describe it.
func (v *validator) grpcStep(st *Step, sp *stepPlan, field string, schemas *protoschema.Schemas,
	compile func(field, text string, limit int) *tmpl, sample *TemplateData) {
	g := st.GRPC
	gf := field + ".grpc"
	for _, f := range []struct{ key, val string }{{"method", st.Method}, {"path", st.Path}, {"body", st.Body}} {
		if f.val != "" {
			v.add(field+"."+f.key, "a gRPC step has no %s: the call is grpc.method and grpc.message", f.key)
		}
	}
	if !v.s.GRPC.Enabled() {
		v.add(gf, "a gRPC step needs descriptors: set grpc.descriptor_sets, grpc.proto_files or grpc.reflection: true at the top of the scenario")
	}
	if v.s.Target != "" && strings.Contains(v.s.Target, "://") {
		if u, err := url.Parse(v.s.Target); err == nil && strings.Trim(u.Path, "/") != "" {
			v.add("target", "a scenario with gRPC steps needs a target without a path, got %q", v.s.Target)
		}
	}
	for name := range st.Headers {
		if lower := strings.ToLower(name); strings.HasPrefix(lower, "grpc-") || lower == "host" {
			v.add(field+".headers."+name, "%q is gRPC's own: a gRPC step sends headers as metadata", name)
		}
	}
	for i, code := range st.Assert.Status {
		if code < 0 || code > grpcstatus.Max {
			v.add(fmt.Sprintf("%s.assert.status[%d]", field, i), "want a gRPC status (%s, or 0 to %d), got %d",
				grpcstatus.List(), grpcstatus.Max, code)
		}
	}
	gp := &grpcPlan{method: g.Method}
	sp.grpc = gp
	if _, _, ok := protoschema.SplitMethod(g.Method); !ok {
		v.add(gf+".method", "want a full method name like /package.Service/Method, got %q", g.Method)
		return
	}
	mf := gf + ".message"
	switch m := g.Message.(type) {
	case nil:
		gp.message.tree = map[string]any{}
	case string:
		gp.message.text = compile(mf, m, maxRenderBody)
	default:
		if _, err := json.Marshal(m); err != nil {
			v.add(mf, "want a mapping of fields (or a JSON string): %v", err)
			return
		}
		gp.message.tree = templateTree(m, mf, compile)
	}
	if schemas == nil {
		return // no files, or they did not load: nothing to check against
	}
	md, err := schemas.Lookup(context.Background(), g.Method)
	if err != nil {
		if !v.s.GRPC.Reflection { // the target may know it
			v.add(gf+".method", "%v", err)
		}
		return
	}
	if gp.message.text != nil && gp.message.text.t == nil || gp.message.text == nil && !hasTemplate(gp.message.tree) {
		if err := checkMessage(&gp.message, md, sample); err != nil {
			v.add(mf, "%v", err)
		}
	}
}

// templateTree replaces the templated strings of a YAML value by their
// compiled templates.
func templateTree(v any, field string, compile func(field, text string, limit int) *tmpl) any {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "{{") {
			if t := compile(field, x, maxRenderLine); t != nil {
				return t
			}
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = templateTree(e, joinField(field, k), compile)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = templateTree(e, fmt.Sprintf("%s[%d]", field, i), compile)
		}
		return out
	}
	return v
}

func hasTemplate(v any) bool {
	switch x := v.(type) {
	case *tmpl:
		return true
	case map[string]any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(x, hasTemplate)
	}
	return false
}

// checkMessage reports whether a message without templates is a message
// of the method's input type.
func checkMessage(m *messageTmpl, md protoreflect.MethodDescriptor, data *TemplateData) error {
	b, err := m.render(data)
	if err != nil {
		return err
	}
	if err := protojson.Unmarshal(b, dynamicpb.NewMessage(md.Input())); err != nil {
		return fmt.Errorf("not a %s: %v", md.Input().FullName(), err)
	}
	return nil
}

// grpcTarget is where a run's gRPC steps go: one connection to the
// target and the descriptors, made when the run starts.
type grpcTarget struct {
	conn    *grpc.ClientConn
	schemas *protoschema.Schemas
}

// startGRPC connects to the target for the run's gRPC steps and loads
// their descriptors (reflection asks the target through the connection).
func (r *Runner) startGRPC(ctx context.Context) error {
	if !r.plan.hasGRPC() {
		return nil
	}
	u, err := url.Parse(r.target)
	if err != nil {
		return fmt.Errorf("grpc target %s: %w", redactURL(r.target), err)
	}
	creds := insecure.NewCredentials() // h2c
	if u.Scheme == "https" {
		creds = credentials.NewTLS(&tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})
	}
	conn, err := grpc.NewClient(u.Host, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxGRPCAnswer)))
	if err != nil {
		return fmt.Errorf("grpc target %s: %w", redactURL(r.target), err)
	}
	sc := r.plan.scenario
	schemas, err := protoschema.Load(ctx, sc.GRPC, protoschema.Options{Dir: scenarioDir(sc), Conn: conn, Logger: r.log})
	if err != nil {
		conn.Close()
		return err
	}
	r.rpc = &grpcTarget{conn: conn, schemas: schemas}
	return nil
}

func (r *Runner) stopGRPC() {
	if r.rpc != nil {
		r.rpc.conn.Close()
	}
}

// checkGRPCTarget is the pre-flight of a scenario whose steps are all
// gRPC calls: the target must accept a connection (an HTTP HEAD would be
// refused by a gRPC-only server).
func (r *Runner) checkGRPCTarget(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(r.timeout, maxPreflightTime))
	defer cancel()
	conn := r.rpc.conn
	conn.Connect()
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Ready:
			r.log.Info("pre-flight: gRPC target accepts a connection", "target", redactURL(r.target))
			return nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			return fmt.Errorf("pre-flight: gRPC target %s does not answer (%s)", redactURL(r.target), strings.ToLower(s.String()))
		}
		if !conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("pre-flight: gRPC target %s does not answer (timeout): %w", redactURL(r.target), ctx.Err())
		}
	}
}

// grpcStep makes one step's gRPC call and checks its answer; it reports
// whether the step passed.
func (r *Runner) grpcStep(ctx context.Context, sp *stepPlan, data *TemplateData, trace traceparent.TraceParent, from time.Time) bool {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	md, err := r.rpc.schemas.Lookup(ctx, sp.grpc.method)
	if err != nil {
		r.rec.unsent(sp, data.JourneyID, "descriptor", err.Error())
		return false
	}
	body, err := sp.grpc.message.render(data)
	if err != nil {
		r.rec.unsent(sp, data.JourneyID, "template", fmt.Sprintf("grpc.message: %v", err))
		return false
	}
	req := dynamicpb.NewMessage(md.Input())
	if err := protojson.Unmarshal(body, req); err != nil {
		r.rec.unsent(sp, data.JourneyID, "template", fmt.Sprintf("grpc.message: not a %s: %v", md.Input().FullName(), err))
		return false
	}
	span := trace.Child()
	tags, err := r.metadata(sp, data, span.String())
	if err != nil {
		r.rec.unsent(sp, data.JourneyID, "template", err.Error())
		return false
	}
	resp := dynamicpb.NewMessage(md.Output())
	var header, trailer metadata.MD
	err = r.rpc.conn.Invoke(metadata.NewOutgoingContext(ctx, tags), sp.grpc.method, req, resp,
		grpc.Header(&header), grpc.Trailer(&trailer))
	end := time.Now()
	latency := end.Sub(from)
	report := func(code int, kind string, fs []failure) {
		if r.onResult == nil {
			return
		}
		res := r.stepResult(sp, data, span, code, from, latency, kind, fs)
		res.Method, res.URL, res.Tags = "POST", r.target+sp.grpc.method, make(map[string]string, len(tags))
		for k, v := range tags {
			res.Tags[k] = strings.Join(v, ", ")
		}
		r.onResult(res)
	}
	if err != nil && header == nil && trailer == nil { // no answer: the server never spoke
		kind := grpcErrorKind(err)
		r.rec.sent(sp, data.JourneyID, 0, kind, clip(err.Error()), latency, nil)
		r.guard.record(end, latency, true)
		report(0, kind, nil)
		return false
	}
	code := int(status.Code(err))
	var answer []byte
	if err == nil {
		if answer, err = answerJSON.Marshal(resp); err != nil {
			answer = nil
		}
	}
	fs := checkAnswer(sp, code, answer, latency, data)
	if msg := status.Convert(err).Message(); err != nil && msg != "" {
		for i := range fs {
			if fs[i].check == "status" {
				fs[i].msg += ": " + clip(msg) // the server's grpc-message
			}
		}
	}
	r.rec.sent(sp, data.JourneyID, code, "", "", latency, fs)
	r.guard.record(end, latency, len(fs) > 0)
	report(code, "", fs)
	return len(fs) == 0
}

// metadata renders a gRPC step's headers into metadata and adds the
// synthetic tags and traceparent, as newRequest does for HTTP.
func (r *Runner) metadata(sp *stepPlan, data *TemplateData, traceparent string) (metadata.MD, error) {
	md := metadata.MD{}
	for _, h := range sp.headers {
		v, err := h.value.string(data)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.name, err)
		}
		md.Append(h.name, v)
	}
	tg := r.tagger
	md.Set(tg.synthetic, "true")
	md.Set(tg.run, tg.runID)
	md.Set(tg.journey, data.JourneyID)
	if existing := md.Get(tg.baggage); len(existing) > 0 {
		md.Set(tg.baggage, mergeBaggage(existing, tg.runID))
	} else {
		md.Set(tg.baggage, tg.baggageVal[0])
	}
	md.Set(traceparentHeader, traceparent)
	return md, nil
}

// grpcErrorKind names why a call got no answer, in the kinds of
// errorKind.
func grpcErrorKind(err error) string {
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return "timeout"
	case codes.Canceled:
		return "canceled"
	}
	msg := err.Error()
	for _, k := range []struct{ text, kind string }{
		{"connection refused", "connection_refused"}, {"connection reset", "connection_reset"},
		{"broken pipe", "connection_reset"}, {"EOF", "eof"}, {"no such host", "dns"},
		{"tls:", "tls"}, {"x509:", "tls"}, {"certificate", "tls"},
	} {
		if strings.Contains(msg, k.text) {
			return k.kind
		}
	}
	return "other"
}

// checkGRPCStatus checks a gRPC step's status code against its
// assertion: one of Status, or OK.
func checkGRPCStatus(a Assert, code int) (failure, bool) {
	want := a.Status
	if len(want) == 0 {
		want = Statuses{0}
	}
	if slices.Contains(want, code) {
		return failure{}, true
	}
	names := make([]string, len(want))
	for i, c := range want {
		names[i] = grpcstatus.Name(c)
	}
	if len(names) == 1 {
		return failure{"status", fmt.Sprintf("status %s, want %s", grpcstatus.Name(code), names[0])}, false
	}
	return failure{"status", fmt.Sprintf("status %s, want one of %s", grpcstatus.Name(code), strings.Join(names, ", "))}, false
}

// hasGRPC reports whether any step makes a gRPC call; onlyGRPC whether
// every one does.
func (p *plan) hasGRPC() bool {
	return slices.ContainsFunc(p.steps, func(sp *stepPlan) bool { return sp.grpc != nil })
}

func (p *plan) onlyGRPC() bool {
	return !slices.ContainsFunc(p.steps, func(sp *stepPlan) bool { return sp.grpc == nil })
}

// scenarioDir is the directory a scenario's relative paths start from.
func scenarioDir(sc *Scenario) string {
	if sc.file == "" {
		return ""
	}
	return filepath.Dir(sc.file)
}

// loadSchemas reads the scenario's descriptor sets and .proto files, once
// per scenario, for checking its gRPC steps; problems with them are the
// validator's. Reflection waits for the run.
func (v *validator) loadSchemas() *protoschema.Schemas {
	s := v.s
	cfg := s.GRPC
	if s.schemas != nil || len(cfg.DescriptorSets)+len(cfg.ProtoFiles) == 0 {
		return s.schemas
	}
	cfg.Reflection, cfg.ReflectionTimeout = false, 0
	schemas, err := protoschema.Load(context.Background(), cfg, protoschema.Options{Dir: scenarioDir(s)})
	if err != nil {
		probs, ok := err.(protoschema.Problems)
		if !ok {
			v.add("grpc", "%v", err)
		}
		for _, p := range probs {
			v.add("grpc."+p.Key, "%s", p.Msg)
		}
		return nil
	}
	s.schemas = schemas
	return schemas
}

// statuses reads a status assertion: one code or a list, each a
// number or a gRPC code's name.
func (d *decoder) statuses(n *yaml.Node, field string) Statuses {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out Statuses
	for i, item := range items {
		path := field
		if n.Kind == yaml.SequenceNode {
			path = fmt.Sprintf("%s[%d]", field, i)
			d.lines[path] = item.Line
		}
		if item.Kind != yaml.ScalarNode {
			d.problem(path, item.Line, "want a status code (an HTTP status, or a gRPC status like OK or NOT_FOUND), got "+kindName(item))
			continue
		}
		if code, err := strconv.Atoi(item.Value); err == nil {
			out = append(out, code)
			continue
		}
		code, ok := grpcstatus.Parse(item.Value)
		if !ok {
			d.problem(path, item.Line, fmt.Sprintf("want a status code: a number, or a gRPC status (%s), got %q", grpcstatus.List(), item.Value))
			continue
		}
		out = append(out, code)
	}
	return out
}
