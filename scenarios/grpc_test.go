package scenarios

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/understudy-dev/understudy/internal/grpctest"
	"github.com/understudy-dev/understudy/internal/traceparent"
)

// grpcScenario is a journey of three gRPC calls to the interop
// TestService: an empty call, a unary call whose answer is captured and
// checked, and one the server answers NOT_FOUND, as asserted.
const grpcScenario = `
name: grpc
target: http://%s
rate: {type: constant, rate: 40}
duration: 250ms
ceiling: 100
grpc: %s
journeys:
  - name: calls
    steps:
      - name: empty
        grpc: {method: /grpc.testing.TestService/EmptyCall}
      - name: unary
        headers: {x-tenant: acme, baggage: "tenant=acme"}
        grpc:
          method: /grpc.testing.TestService/UnaryCall
          message: {response_size: "{{ intRange 3 3 }}", fill_username: true, payload: {body: AQID}}
        capture: {ptype: payload.type}
        assert: {status: OK, json: {payload.body: AAAA, payload.type: COMPRESSABLE, username: ""}}
      - name: not-found
        grpc:
          method: /grpc.testing.TestService/UnaryCall
          message: '{"response_status": {"code": 5, "message": "no {{ .Vars.ptype }} order"}}'
        assert: {status: [NOT_FOUND]}
`

// writeScenario writes a scenario file (so that relative descriptor paths
// resolve next to it) and parses it.
func writeScenario(t *testing.T, dir, body string) *Scenario {
	t.Helper()
	path := filepath.Join(dir, "grpc.yaml")
	if err := os.WriteFile(path, []byte(strings.TrimLeft(body, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return sc
}

// TestGRPCJourney: against the real interop TestService, with the
// descriptors from each source, every journey passes, each step's
// statuses are the gRPC codes, and every call carried the synthetic tags
// as metadata.
func TestGRPCJourney(t *testing.T) {
	t.Parallel()
	protoDir := grpctest.ProtoDir(t)
	set := grpctest.DescriptorSet(t)
	sources := []struct{ name, grpc string }{
		{"reflection", "{reflection: true}"},
		{"descriptor set", fmt.Sprintf("{descriptor_sets: [%s]}", filepath.Base(set))},
		{"proto files", fmt.Sprintf("{proto_files: [%s], import_paths: [proto]}", grpctest.ProtoFile)},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			srv := grpctest.Start(t, grpctest.ReflectionV1)
			dir := t.TempDir()
			copyFile(t, set, filepath.Join(dir, filepath.Base(set)))
			if err := os.CopyFS(filepath.Join(dir, "proto"), os.DirFS(protoDir)); err != nil {
				t.Fatal(err)
			}
			sc := writeScenario(t, dir, fmt.Sprintf(grpcScenario, srv.Addr, src.grpc))
			var mu sync.Mutex
			var results []StepResult
			r := mustRunner(t, sc, RunnerOptions{RunID: "run-1", OnResult: func(res StepResult) {
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			}})
			res := runAsync(t, r)()
			n := res.Journeys.Started
			if n == 0 || res.Journeys.Succeeded != n || !res.Passed() {
				t.Fatalf("journeys %+v, steps %+v; want every one passed", res.Journeys, res.Steps)
			}
			for i, want := range []map[int]int64{{0: n}, {0: n}, {5: n}} {
				if got := res.Steps[i].Status; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("step %s: statuses %v, want %v", res.Steps[i].Step, got, want)
				}
			}
			var calls []grpctest.Call
			for _, c := range srv.Calls() {
				if strings.HasPrefix(c.Method, "/grpc.testing.") { // not the reflection lookup
					calls = append(calls, c)
				}
			}
			if int64(len(calls)) != 3*n {
				t.Fatalf("the server got %d calls, want %d", len(calls), 3*n)
			}
			tenants := int64(0)
			for _, c := range calls {
				md := c.Metadata
				if md.Get("x-synthetic")[0] != "true" || md.Get("x-synthetic-run")[0] != "run-1" ||
					!strings.HasPrefix(md.Get("x-synthetic-journey")[0], "run-1-") {
					t.Fatalf("%s: tags %v", c.Method, md)
				}
				if _, ok := traceparent.Parse(md.Get("traceparent")[0]); !ok {
					t.Errorf("%s: traceparent %v", c.Method, md.Get("traceparent"))
				}
				baggage := strings.Join(md.Get("baggage"), ",")
				if !strings.Contains(baggage, "synthetic=true") || !strings.Contains(baggage, "synthetic-run=run-1") {
					t.Errorf("%s: baggage %q", c.Method, baggage)
				}
				if tenant := md.Get("x-tenant"); len(tenant) > 0 {
					if tenant[0] != "acme" || !strings.Contains(baggage, "tenant=acme") {
						t.Errorf("the step's headers: %v", md)
					}
					tenants++
				}
			}
			if tenants != n {
				t.Errorf("%d calls carried the step's header as metadata, want %d", tenants, n)
			}
			for _, sr := range results {
				if sr.Method != "POST" || !strings.HasSuffix(sr.URL, "/grpc.testing.TestService/"+map[string]string{
					"empty": "EmptyCall", "unary": "UnaryCall", "not-found": "UnaryCall"}[sr.Step]) || sr.Tags["x-synthetic"] != "true" {
					t.Fatalf("result %+v", sr)
				}
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestGRPCAssertionFailures: a status or an answer field other than
// asserted fails the step, named and counted as an HTTP step's would be.
func TestGRPCAssertionFailures(t *testing.T) {
	t.Parallel()
	srv := grpctest.Start(t, grpctest.ReflectionV1)
	tests := []struct {
		name, step string
		check, msg string
	}{
		{"the status", `{grpc: {method: /grpc.testing.TestService/UnaryCall, message: {response_status: {code: 5, message: nope}}}}`,
			"status", "status NOT_FOUND, want OK: nope"},
		{"one of the statuses", `{grpc: {method: /grpc.testing.TestService/UnaryCall}, assert: {status: [NOT_FOUND, 7]}}`,
			"status", "status OK, want one of NOT_FOUND, PERMISSION_DENIED"},
		{"a field", `{grpc: {method: /grpc.testing.TestService/UnaryCall, message: {response_size: 2}}, assert: {json: {payload.body: AAAA}}}`,
			"json.payload.body", `json "payload.body" = "AAA=", want "AAAA"`},
		{"a message the method does not take", `{grpc: {method: /grpc.testing.TestService/UnaryCall, message: {response_size: "{{ .JourneyID }}"}}}`,
			"template", "grpc.message: not a grpc.testing.SimpleRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc := mustParse(t, fmt.Sprintf(`
name: grpc
target: http://%s
rate: {type: constant, rate: 40}
duration: 150ms
grpc: {reflection: true}
journeys:
  - name: j
    steps:
      - {name: call, %s
`, srv.Addr, tt.step[1:]))
			res := runAsync(t, mustRunner(t, sc, RunnerOptions{}))()
			st := res.Steps[0]
			n := res.Journeys.Started
			if n == 0 || res.Journeys.Failed != n || st.Checks[tt.check] != n {
				t.Fatalf("journeys %+v, checks %v; want every one failed on %s", res.Journeys, st.Checks, tt.check)
			}
			if e := st.Exemplars[0]; e.Check != tt.check || !strings.HasPrefix(e.Msg, tt.msg) {
				t.Errorf("exemplar %+v, want %s: %q", e, tt.check, tt.msg)
			}
		})
	}
}

// TestGRPCDeadTarget: a gRPC target that refuses connections fails the
// pre-flight, and without it every call is an error of its kind.
func TestGRPCDeadTarget(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sc := mustParse(t, fmt.Sprintf(`
name: grpc
target: http://%s
rate: {type: constant, rate: 40}
duration: 150ms
grpc: {descriptor_sets: [%s]}
journeys:
  - name: j
    steps:
      - {name: call, grpc: {method: /grpc.testing.TestService/EmptyCall}}
`, addr, grpctest.DescriptorSet(t)))
	res := runAsync(t, mustRunner(t, sc, RunnerOptions{}))()
	if res.Outcome != OutcomeAborted || res.Journeys.Started != 0 || !strings.Contains(res.Reason, "pre-flight: gRPC target http://"+addr+" does not answer") {
		t.Errorf("outcome %s (%s), %d journeys; want aborted by the pre-flight", res.Outcome, res.Reason, res.Journeys.Started)
	}
	res = runAsync(t, mustRunner(t, sc, RunnerOptions{NoPreflight: true}))()
	st := res.Steps[0]
	if n := res.Journeys.Started; n == 0 || st.Errors["connection_refused"] != n || st.Requests != n {
		t.Errorf("journeys %+v, errors %v; want every call refused", res.Journeys, st.Errors)
	}
}

func TestGRPCValidate(t *testing.T) {
	t.Parallel()
	set := grpctest.DescriptorSet(t)
	tests := []struct {
		name, grpc, step string
		want             string
	}{
		{"no descriptors", "", `{name: s, grpc: {method: /a.B/C}}`,
			"journeys[0].steps[0].grpc: a gRPC step needs descriptors"},
		{"not a method name", "grpc: {reflection: true}", `{name: s, grpc: {method: UnaryCall}}`,
			`test.yaml:9: journeys[0].steps[0].grpc.method: want a full method name like /package.Service/Method, got "UnaryCall"`},
		{"an HTTP path too", "grpc: {reflection: true}", `{name: s, path: /x, grpc: {method: /a.B/C}}`,
			"journeys[0].steps[0].path: a gRPC step has no path"},
		{"a method the files do not describe", "grpc: {descriptor_sets: [" + set + "]}", `{name: s, grpc: {method: /grpc.testing.TestService/Nope}}`,
			"journeys[0].steps[0].grpc.method: service grpc.testing.TestService has no method Nope"},
		{"a field the message lacks", "grpc: {descriptor_sets: [" + set + "]}",
			`{name: s, grpc: {method: /grpc.testing.TestService/UnaryCall, message: {no_such_field: 1}}}`,
			`journeys[0].steps[0].grpc.message: not a grpc.testing.SimpleRequest: proto:`},
		{"a status that is not gRPC's", "grpc: {reflection: true}", `{name: s, grpc: {method: /a.B/C}, assert: {status: 200}}`,
			"journeys[0].steps[0].assert.status[0]: want a gRPC status"},
		{"a status name that is not one", "grpc: {reflection: true}", `{name: s, grpc: {method: /a.B/C}, assert: {status: [OK, NOPE]}}`,
			`journeys[0].steps[0].assert.status[1]: want a status code: a number, or a gRPC status (OK, CANCELLED`},
		{"a gRPC status on an HTTP step", "", `{name: s, path: /, assert: {status: NOT_FOUND}}`,
			"journeys[0].steps[0].assert.status[0]: want an HTTP status between 100 and 599 (gRPC statuses go with grpc steps), got 5"},
		{"a missing descriptor set", "grpc: {descriptor_sets: [nope.protoset]}", `{name: s, grpc: {method: /a.B/C}}`,
			"test.yaml:4: grpc.descriptor_sets[0]: nope.protoset: open nope.protoset"},
		{"gRPC's own header", "grpc: {reflection: true}", `{name: s, headers: {grpc-timeout: 1S}, grpc: {method: /a.B/C}}`,
			`journeys[0].steps[0].headers.grpc-timeout: "grpc-timeout" is gRPC's own`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := fmt.Sprintf("name: g\ntarget: http://127.0.0.1:1\nrate: {rate: 1}\n%s\nduration: 1s\njourneys:\n  - name: j\n    steps:\n      - %s\n", tt.grpc, tt.step)
			_, err := Parse("test.yaml", []byte(body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}
