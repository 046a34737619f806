package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/grpctest"
	"github.com/understudy-dev/understudy/internal/testio"
)

// grpcReport is what the gRPC tests read of a JSON report.
type grpcReport struct {
	Verdict   string
	Endpoints []struct {
		Method, Route string
		Pairs         int
		StatusDiffs   int `json:"status_diffs"`
		Fields        []struct {
			Path  string
			Diffs int
			Noisy bool
		}
	}
}

// TestGRPCParallelRun runs shadow in front of real interop servers: a
// primary and a secondary that agree but for a noisy field (hostname,
// new on every call), and a candidate that changes one field
// (server_id) and fails one kind of call with NOT_FOUND. With the
// descriptors from a descriptor set, from .proto files or from the
// primary's reflection, the report names the changed field by its proto
// path, learns the noisy one, counts the status differences, and reads
// the same in all three (the differential test at the level of the
// command); the client gets the primary's answers all along.
func TestGRPCParallelRun(t *testing.T) {
	protoset := grpctest.DescriptorSet(t)
	protoDir := grpctest.ProtoDir(t)
	sources := map[string]string{
		"descriptor_sets": fmt.Sprintf("  descriptor_sets: [%s]\n", protoset),
		"proto_files":     fmt.Sprintf("  proto_files: [%s]\n  import_paths: [%s]\n", grpctest.ProtoFile, protoDir),
		"reflection":      "  reflection: true\n",
	}
	got := map[string][]string{}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range sources {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			got[name] = runGRPCShadow(t, sources[name], "")
		})
	}
	want := got["descriptor_sets"]
	for name, fields := range got {
		if !slices.Equal(fields, want) {
			t.Errorf("fields with %s: %q; with descriptor_sets: %q", name, fields, want)
		}
	}
}

// runGRPCShadow runs one parallel run with the grpc section given (and
// capture files in captureDir, unless "") and returns the report's
// fields of UnaryCall, as "path diffs noisy".
func runGRPCShadow(t *testing.T, grpcSection, captureDir string) []string {
	primary := grpctest.StartService(t, grpctest.ReflectionV1, grpctest.Variant{ServerID: "v1", NoisyHostname: true}.Service())
	secondary := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v1", NoisyHostname: true}.Service())
	candidate := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v2", NoisyHostname: true, NotFoundSize: 7}.Service())
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "shadow.yaml")
	yaml := fmt.Sprintf("primary: http://%s\nsecondary: http://%s\ncandidate: http://%s\ngrpc:\n%s", primary.Addr, secondary.Addr, candidate.Addr, grpcSection)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.json")
	args := []string{"--config", cfgFile, "--report-out", report, "--summary-interval", "100ms", "--no-tui"}
	if captureDir != "" {
		args = append(args, "--capture", captureDir)
	}
	base, stop, code, out := startShadow(t, args...)

	cc, err := grpc.NewClient(strings.TrimPrefix(base, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := testgrpc.NewTestServiceClient(cc)
	const ok, notFound = 30, 5
	for i := range ok + notFound {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		size := int32(8)
		if i >= ok {
			size = 7
		}
		m, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseSize: size, FillServerId: true})
		cancel()
		if err != nil || m.GetServerId() != "v1" || int32(len(m.GetPayload().GetBody())) != size {
			t.Fatalf("call %d: got %v, %v (%v); want the primary's answer", i, m, err, status.Code(err) == codes.OK)
		}
	}
	out.WaitFor(t, "every exchange compared", regexp.MustCompile(fmt.Sprintf(`compared %d `, ok+notFound)).MatchString)
	stop()
	select {
	case c := <-code:
		if c != cli.ExitFail {
			t.Fatalf("exit code %d, want %d (verdict fail)\n%s", c, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow did not stop after cancel")
	}
	if strings.Contains(out.String(), "compared by field number") {
		t.Errorf("answers compared without descriptors:\n%s", out.String())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	return checkGRPCReport(t, data, ok, notFound)
}

// checkGRPCReport checks a JSON report of calls answered ok and notFound
// times by a candidate that changes server_id and fails with NOT_FOUND:
// one endpoint, $.server_id differing, $.hostname noise (with a
// secondary), the status differences. It returns the fields.
func checkGRPCReport(t *testing.T, data []byte, ok, notFound int) []string {
	t.Helper()
	var rep grpcReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != "fail" || len(rep.Endpoints) != 1 {
		t.Fatalf("report: %+v; want verdict fail on one endpoint", rep)
	}
	ep := rep.Endpoints[0]
	if ep.Method != "POST" || ep.Route != "/grpc.testing.TestService/UnaryCall" || ep.Pairs != ok+notFound || ep.StatusDiffs != notFound {
		t.Errorf("endpoint %s %s: %d pairs, %d status differences; want POST /grpc.testing.TestService/UnaryCall, %d, %d",
			ep.Method, ep.Route, ep.Pairs, ep.StatusDiffs, ok+notFound, notFound)
	}
	var fields []string
	byPath := map[string]int{}
	for i, f := range ep.Fields {
		fields = append(fields, fmt.Sprintf("%s %d %v", f.Path, f.Diffs, f.Noisy))
		byPath[f.Path] = i
	}
	if i, found := byPath["$.server_id"]; !found || ep.Fields[i].Noisy || ep.Fields[i].Diffs != ok {
		t.Errorf("fields %q: want $.server_id differing in %d pairs, not noise", fields, ok)
	}
	if i, found := byPath["$.hostname"]; !found || !ep.Fields[i].Noisy {
		t.Errorf("fields %q: want $.hostname learned as noise", fields)
	}
	if len(rep.Endpoints) == 0 {
		return nil
	}
	if i, found := byPath["status"]; !found || ep.Fields[i].Diffs != notFound {
		t.Errorf("fields %q: want status differing in %d pairs", fields, notFound)
	}
	return fields
}

// TestGRPCConfigErrors: a bad grpc section is named by key and line.
func TestGRPCConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		section string
		want    []string // with the config file's path for %s
	}{
		{"  reflection_timout: 2s\n", []string{"%s:4: grpc.reflection_timout: unknown key; did you mean grpc.reflection_timeout?"}},
		{"  descriptor_sets: [missing.protoset]\n  proto_files: [api.txt]\n", []string{"%s:5: grpc.proto_files[0]: want a .proto file"}},
		{"  descriptor_sets: [missing.protoset]\n", []string{"%s:4: grpc.descriptor_sets[0]: missing.protoset:"}},
	} {
		dir := t.TempDir()
		cfgFile := filepath.Join(dir, "shadow.yaml")
		yaml := "primary: http://127.0.0.1:1\ncandidate: http://127.0.0.1:2\ngrpc:\n" + tc.section
		if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		out := &syncBuffer{}
		c := execute(context.Background(), []string{"run", "--config", cfgFile, "--admin", "", "--listen", "127.0.0.1:0"}, out, out)
		if c != cli.ExitConfig {
			t.Errorf("exit code %d, want %d", c, cli.ExitConfig)
		}
		for _, want := range tc.want {
			if want = fmt.Sprintf(want, cfgFile); !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	}
}

// TestGRPCCaptureReportReplay records a parallel run whose descriptors
// came by reflection; `shadow report` then reads the capture files by
// field name with no descriptor source of its own (the files hold them),
// and `shadow replay` sends the recorded calls over h2c to another gRPC
// candidate and compares its answers the same way.
func TestGRPCCaptureReportReplay(t *testing.T) {
	dir := t.TempDir()
	want := runGRPCShadow(t, "  reflection: true\n", dir)

	var stdout, stderr syncBuffer
	if c := execute(context.Background(), []string{"report", "--format", "json", dir}, &stdout, &stderr); c != cli.ExitFail {
		t.Fatalf("report: exit %d, want %d\n%s", c, cli.ExitFail, stderr.String())
	}
	if got := checkGRPCReport(t, []byte(stdout.String()), 30, 5); !slices.Equal(got, want) {
		t.Errorf("offline report fields %q, want the run's %q", got, want)
	}

	next := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v3", NoisyHostname: true, NotFoundSize: 7}.Service())
	report := filepath.Join(t.TempDir(), "replay.json")
	var out syncBuffer
	c := execute(context.Background(), []string{"replay", "--candidate", "http://" + next.Addr, "--secondary-from-capture", "--report-out", report, dir}, &out, &out)
	if c != cli.ExitFail {
		t.Fatalf("replay: exit %d, want %d\n%s", c, cli.ExitFail, out.String())
	}
	if n := next.CallsTo("/grpc.testing.TestService/UnaryCall"); n != 35 {
		t.Errorf("the replay candidate got %d calls, want 35\n%s", n, out.String())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if got := checkGRPCReport(t, data, 30, 5); !slices.Equal(got, want) {
		t.Errorf("replay report fields %q, want the run's %q", got, want)
	}
}

// shadowCalls runs shadow with the config yaml, makes calls unary calls
// (FillServerId) through it, and returns shadow's output and the fields
// of its report's one endpoint, as "path diffs".
func shadowCalls(t *testing.T, yaml string, calls int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "shadow.yaml")
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.json")
	base, stop, code, out := startShadow(t, "--config", cfgFile, "--report-out", report, "--summary-interval", "100ms", "--no-tui")
	cc, err := grpc.NewClient(strings.TrimPrefix(base, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := testgrpc.NewTestServiceClient(cc)
	for i := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseSize: 4, FillServerId: true})
		cancel()
		if err != nil || m.GetServerId() != "v1" {
			t.Fatalf("call %d: %v, %v; want the primary's answer", i, m, err)
		}
	}
	out.WaitFor(t, "every exchange compared", regexp.MustCompile(fmt.Sprintf(`compared %d `, calls)).MatchString)
	stop()
	select {
	case <-code:
	case <-time.After(30 * time.Second):
		t.Fatal("shadow did not stop after cancel")
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep grpcReport
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Endpoints) != 1 {
		t.Fatalf("report %s: %v", data, err)
	}
	var fields []string
	for _, f := range rep.Endpoints[0].Fields {
		fields = append(fields, fmt.Sprintf("%s %d", f.Path, f.Diffs))
	}
	return out.String(), fields
}

// TestGRPCOverTLS: with an https primary and candidate (a private CA in
// primary_target.tls and candidate_target.tls), calls and copies go over
// h2, and reflection asks the primary over TLS: fields are named.
func TestGRPCOverTLS(t *testing.T) {
	ca, err := testio.NewCA("grpc")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Server("127.0.0.1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pair.TLS()
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := testio.WriteFile(t.TempDir(), "ca.pem", ca.PEM)
	if err != nil {
		t.Fatal(err)
	}
	primary := grpctest.StartTLS(t, grpctest.ReflectionV1, grpctest.Variant{ServerID: "v1"}.Service(), cert)
	candidate := grpctest.StartTLS(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v2"}.Service(), cert)
	yaml := fmt.Sprintf("primary: https://%s\ncandidate: https://%s\nmirror:\n  primary_target: {tls: {ca_file: %s}}\n  candidate_target: {tls: {ca_file: %s}}\ngrpc:\n  reflection: true\n",
		primary.Addr, candidate.Addr, caFile, caFile)
	const calls = 5
	out, fields := shadowCalls(t, yaml, calls)
	if want := []string{fmt.Sprintf("$.server_id %d", calls)}; !slices.Equal(fields, want) {
		t.Errorf("fields %q, want %q\n%s", fields, want, out)
	}
	if n := candidate.CallsTo("/grpc.testing.TestService/UnaryCall"); n != calls {
		t.Errorf("candidate got %d calls over TLS, want %d", n, calls)
	}
}

// TestGRPCReflectionFallsBack: a primary without reflection leaves
// answers compared by field number ($.4 is server_id), counted in the
// final line.
func TestGRPCReflectionFallsBack(t *testing.T) {
	primary := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v1"}.Service())
	candidate := grpctest.StartService(t, grpctest.NoReflection, grpctest.Variant{ServerID: "v2"}.Service())
	yaml := fmt.Sprintf("primary: http://%s\ncandidate: http://%s\ngrpc:\n  reflection: true\n", primary.Addr, candidate.Addr)
	const calls = 5
	out, fields := shadowCalls(t, yaml, calls)
	if want := []string{fmt.Sprintf("$.4 %d", calls)}; !slices.Equal(fields, want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
	if want := fmt.Sprintf("%d gRPC answers compared by field number", 2*calls); !strings.Contains(out, want) { // the primary's and the candidate's
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// TestGRPCPathsRelativeToConfig: descriptor sets, .proto files and import
// paths are found relative to the config file, wherever shadow runs.
func TestGRPCPathsRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	set, err := os.ReadFile(grpctest.DescriptorSet(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api.protoset"), set, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(grpctest.ProtoDir(t), filepath.Join(dir, "proto")); err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{
		"  descriptor_sets: [api.protoset]\n",
		"  proto_files: [" + grpctest.ProtoFile + "]\n  import_paths: [proto]\n",
	} {
		cfgFile := filepath.Join(dir, "shadow.yaml")
		yaml := "primary: http://127.0.0.1:1\ncandidate: http://127.0.0.1:2\ngrpc:\n" + section
		if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadRunConfig(t, "--config", cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		g, err := loadGRPC(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("%s: %v", section, err)
		}
		md := g.Method("/grpc.testing.TestService/FullDuplexCall")
		if md == nil || !md.IsStreamingClient() {
			t.Errorf("%s: FullDuplexCall = %v, want its descriptor", section, md)
		}
		if streaming, known := g.ClientStreaming("/grpc.testing.TestService/UnaryCall"); streaming || !known {
			t.Errorf("%s: UnaryCall streaming %v, known %v; want a known unary method", section, streaming, known)
		}
		g.close()
	}
}
