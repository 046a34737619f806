package deploy_test

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Every understudy container runs as non-root on a read-only root file
// system, cannot gain privileges, drops every capability, and states what
// it needs (CPU and memory requests, a memory limit).
func TestPodSecurity(t *testing.T) {
	t.Parallel()
	m := load(t)
	n := 0
	m.ourContainers(func(w *workload, c *container) {
		n++
		pod, sc := w.Template.Spec.SecurityContext, c.SecurityContext
		where := fmt.Sprintf("%s: container %q", w.Obj, c.Name)
		if !isTrue(sc.RunAsNonRoot) && !isTrue(pod.RunAsNonRoot) {
			t.Errorf("%s: want runAsNonRoot: true", where)
		}
		for _, uid := range []*int64{sc.RunAsUser, pod.RunAsUser} {
			if uid != nil && *uid == 0 {
				t.Errorf("%s: runAsUser 0", where)
			}
		}
		if !isTrue(sc.ReadOnlyRootFilesystem) {
			t.Errorf("%s: want readOnlyRootFilesystem: true", where)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: want allowPrivilegeEscalation: false", where)
		}
		if isTrue(sc.Privileged) {
			t.Errorf("%s: privileged", where)
		}
		if fmt.Sprint(sc.Capabilities.Drop) != "[ALL]" || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: capabilities: want drop [ALL] and no add, got %+v", where, sc.Capabilities)
		}
		for _, r := range []string{"cpu", "memory"} {
			if c.Resources.Requests[r] == "" {
				t.Errorf("%s: no %s request", where, r)
			}
		}
		if c.Resources.Limits["memory"] == "" {
			t.Errorf("%s: no memory limit", where)
		}
	})
	if n == 0 {
		t.Fatal("no container runs " + imageRepo)
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// Every file an understudy container writes is on a writable volume (the
// root file system is read-only): report files, schedule history and
// results, and $TMPDIR where shadow spools large bodies.
func TestWritablePaths(t *testing.T) {
	t.Parallel()
	m := load(t)
	for _, s := range setups(t) {
		spec := &s.W.Template.Spec
		where := fmt.Sprintf("%s: container %q", s.W.Obj, s.C.Name)
		writable := func(what, file string, dir bool) {
			file, _ = s.expand(file)
			if !dir {
				file = path.Dir(file)
			}
			if b, ok := spec.resolve(s.C, file); !ok || !b.Writable {
				t.Errorf("%s: %s %s is not on a writable volume (the root file system is read-only)", where, what, file)
			}
		}
		if p, _ := s.get("report_out"); p != "" {
			writable("report_out", p, false)
		}
		if p, _ := s.get("out"); p != "" && s.Bin == "synth" {
			writable("out", p, strings.HasSuffix(p, "/"))
		}
		if s.Bin == "shadow" {
			if p, _ := s.get("capture.dir"); p != "" {
				writable("capture.dir", p, true)
			}
			tmp := "/tmp"
			if e, ok := s.Env["TMPDIR"]; ok {
				tmp = e.Value
			}
			writable("$TMPDIR (spooled bodies)", tmp, true)
		}
		if s.Sub == "schedule" {
			if c := s.schedule(t, m); c != nil {
				if c.HistoryFile != "" {
					writable("history_file", c.HistoryFile, false)
				}
				if c.ResultDir != "" {
					writable("result_dir", c.ResultDir, true)
				}
			}
		}
	}
}

// admin returns the setup's admin address and the port it listens on; a
// port of 0 means the admin endpoint is off.
func (s *setup) admin(t *testing.T) (host string, port int) {
	t.Helper()
	addr, _ := s.get("admin")
	if addr == "" {
		return "", 0
	}
	host, port, err := hostPort(addr)
	if err != nil {
		t.Errorf("%s: container %q: admin: %v", s.W.Obj, s.C.Name, err)
	}
	return host, port
}

// listens returns the ports s's process listens on, by what for.
func (s *setup) listens(t *testing.T) map[int]string {
	t.Helper()
	ports := map[int]string{}
	if _, p := s.admin(t); p != 0 {
		ports[p] = "admin"
	}
	if s.Bin == "shadow" {
		addr, _ := s.get("listen")
		host, p, err := hostPort(addr)
		switch {
		case err != nil:
			t.Errorf("%s: container %q: listen: %v", s.W.Obj, s.C.Name, err)
		case isLoopback(host):
			t.Errorf("%s: container %q: listen %s: loopback is out of the Service's reach", s.W.Obj, s.C.Name, addr)
		default:
			ports[p] = "listen"
		}
	}
	return ports
}

// The ports line up: the container declares exactly the ports its process
// listens on; the admin endpoint, off loopback, has a token from a Secret;
// probes ask the admin endpoint's /readyz and /healthz; the Prometheus
// annotations point at its /metrics; shadow's shutdown fits in the grace
// period.
func TestPortsAndProbes(t *testing.T) {
	t.Parallel()
	for _, s := range setups(t) {
		where := fmt.Sprintf("%s: container %q", s.W.Obj, s.C.Name)
		listens := s.listens(t)
		declared := map[int]bool{}
		for _, p := range s.C.Ports {
			declared[p.ContainerPort] = true
			if listens[p.ContainerPort] == "" {
				t.Errorf("%s: declares port %d (%s), which %s %s does not listen on (it listens on %v)", where, p.ContainerPort, p.Name, s.Bin, s.Sub, listens)
			}
		}
		for p, what := range listens {
			if !declared[p] {
				t.Errorf("%s: %s port %d is not a declared container port", where, what, p)
			}
		}

		host, adminPort := s.admin(t)
		longRunning := s.W.Job == nil
		if adminPort == 0 {
			if longRunning {
				t.Errorf("%s: no admin endpoint: probes and metrics need one", where)
			}
			continue
		}
		if isLoopback(host) {
			t.Errorf("%s: admin on loopback (%s): out of reach of the kubelet and Prometheus", where, host)
		}
		if _, src := s.get("admin_token"); src != fromSecret {
			t.Errorf("%s: admin off loopback needs its token from a Secret (env %s_ADMIN_TOKEN, secretKeyRef); got it from %q", where, s.prefix(), src)
		}

		ann := s.W.Template.Metadata.Annotations
		want := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(adminPort), "prometheus.io/path": "/metrics"}
		for _, k := range sortedKeys(want) {
			if ann[k] != want[k] {
				t.Errorf("%s: pod annotation %s: got %q, want %q", where, k, ann[k], want[k])
			}
		}

		probes := []struct {
			name, path string
			p          *probe
		}{{"readinessProbe", "/readyz", s.C.ReadinessProbe}, {"livenessProbe", "/healthz", s.C.LivenessProbe}}
		for _, pr := range probes {
			if pr.p == nil {
				if longRunning {
					t.Errorf("%s: no %s", where, pr.name)
				}
				continue
			}
			if pr.p.HTTPGet == nil || pr.p.HTTPGet.Path != pr.path {
				t.Errorf("%s: %s: want httpGet on %s", where, pr.name, pr.path)
				continue
			}
			if cp, ok := s.C.port(pr.p.HTTPGet.Port); !ok || cp.ContainerPort != adminPort {
				t.Errorf("%s: %s: port %q is not the admin port %d", where, pr.name, pr.p.HTTPGet.Port, adminPort)
			}
		}

		if s.Bin == "shadow" {
			checkGrace(t, s, where)
		}
	}
}

// checkGrace fails unless the pod's grace period covers the preStop sleep
// and shadow's shutdown_timeout, so SIGKILL never cuts the drain short.
func checkGrace(t *testing.T, s *setup, where string) {
	t.Helper()
	v, _ := s.get("shutdown_timeout")
	shutdown, err := time.ParseDuration(v)
	if err != nil {
		t.Errorf("%s: shutdown_timeout %q: %v", where, v, err)
		return
	}
	var sleep time.Duration
	if l := s.C.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
		sleep = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
	}
	grace := 30 * time.Second // Kubernetes' default
	if g := s.W.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if grace <= sleep+shutdown {
		t.Errorf("%s: terminationGracePeriodSeconds %s does not exceed preStop sleep %s + shutdown_timeout %s", where, grace, sleep, shutdown)
	}
}

// Every Service selects the pods of a workload in these manifests and
// sends each port to one the pod's process listens on; shadow's upstreams
// are Services with those ports, or a port of another container in the
// pod, never shadow itself.
func TestServices(t *testing.T) {
	t.Parallel()
	m := load(t)
	listening := map[*workload]map[*container]map[int]string{}
	for _, s := range setups(t) {
		if listening[s.W] == nil {
			listening[s.W] = map[*container]map[int]string{}
		}
		listening[s.W][s.C] = s.listens(t)
	}
	services := map[string]*serviceSpec{}
	fronts := map[string]*workload{} // Service name -> the workload behind it
	for _, o := range m.Objects {
		if o.Kind != "Service" {
			continue
		}
		var spec serviceSpec
		if err := o.Spec.Decode(&spec); err != nil {
			t.Errorf("%s: %v", o, err)
			continue
		}
		services[o.Metadata.Name] = &spec
		matched := 0
		for _, w := range m.Workloads {
			if !selects(spec.Selector, w.Template.Metadata.Labels) {
				continue
			}
			matched++
			fronts[o.Metadata.Name] = w
			for _, p := range spec.Ports {
				target := p.TargetPort
				if target == "" {
					target = strconv.Itoa(p.Port)
				}
				if !podServes(w, listening[w], target) {
					t.Errorf("%s: port %d: targetPort %q is no port %s's containers declare and listen on", o, p.Port, target, w.Obj)
				}
			}
		}
		if matched != 1 {
			t.Errorf("%s: selector %v matches %d workloads, want 1", o, spec.Selector, matched)
		}
	}

	for _, s := range setups(t) {
		if s.Bin != "shadow" {
			continue
		}
		for _, side := range []string{"primary", "candidate", "secondary"} {
			raw, _ := s.get(side)
			if raw == "" {
				if side != "secondary" {
					t.Errorf("%s: container %q: no %s", s.W.Obj, s.C.Name, side)
				}
				continue
			}
			checkUpstream(t, s, side, raw, services, fronts, listening[s.W])
		}
	}
}

// podServes reports whether a container of w declares target (a number or
// a port name) and, for understudy containers, listens on it.
func podServes(w *workload, listening map[*container]map[int]string, target string) bool {
	for i := range w.Template.Spec.Containers {
		c := &w.Template.Spec.Containers[i]
		cp, ok := c.port(target)
		if !ok {
			continue
		}
		if l, ours := listening[c]; !ours || l[cp.ContainerPort] != "" {
			return true
		}
	}
	return false
}

func checkUpstream(t *testing.T, s *setup, side, raw string, services map[string]*serviceSpec, fronts map[string]*workload, listening map[*container]map[int]string) {
	t.Helper()
	where := fmt.Sprintf("%s: container %q: %s %s", s.W.Obj, s.C.Name, side, raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		t.Errorf("%s: not an absolute URL", where)
		return
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	host := u.Hostname()
	if isLoopback(host) {
		for i := range s.W.Template.Spec.Containers {
			c := &s.W.Template.Spec.Containers[i]
			if _, ok := c.port(port); ok && c != s.C {
				return
			}
		}
		t.Errorf("%s: no other container of the pod declares port %s", where, port)
		return
	}
	name, _, _ := strings.Cut(host, ".")
	spec, ok := services[name]
	if !ok {
		return // a Service of the application, not among these manifests
	}
	if fronts[name] == s.W {
		t.Errorf("%s: Service %s is shadow's own: requests would loop", where, name)
	}
	for _, p := range spec.Ports {
		if strconv.Itoa(p.Port) == port {
			return
		}
	}
	t.Errorf("%s: Service %s has no port %s", where, name, port)
}

// Every PodDisruptionBudget selects a Deployment that can satisfy it
// while a node drains.
func TestDisruptionBudgets(t *testing.T) {
	t.Parallel()
	m := load(t)
	for _, o := range m.Objects {
		if o.Kind != "PodDisruptionBudget" {
			continue
		}
		var spec pdbSpec
		if err := o.Spec.Decode(&spec); err != nil {
			t.Errorf("%s: %v", o, err)
			continue
		}
		matched := 0
		for _, w := range m.Workloads {
			if !selects(spec.Selector.MatchLabels, w.Template.Metadata.Labels) {
				continue
			}
			matched++
			replicas := 1
			if w.Replicas != nil {
				replicas = *w.Replicas
			}
			if spec.MinAvailable != nil {
				if n, err := strconv.Atoi(*spec.MinAvailable); err == nil && n >= replicas {
					t.Errorf("%s: minAvailable %d with %d replicas of %s: no pod can ever be evicted", o, n, replicas, w.Obj)
				}
			}
		}
		if matched != 1 {
			t.Errorf("%s: selector %v matches %d workloads, want 1", o, spec.Selector.MatchLabels, matched)
		}
	}
}

// Deployments select their own pods.
func TestSelectorsMatchTemplates(t *testing.T) {
	t.Parallel()
	for _, w := range load(t).Workloads {
		if w.Job == nil && !selects(w.Selector.MatchLabels, w.Template.Metadata.Labels) {
			t.Errorf("%s: selector %v does not match its pod labels %v", w.Obj, w.Selector.MatchLabels, w.Template.Metadata.Labels)
		}
	}
}

// totalRateAnnotation on a CronJob or Job is the rate its runners make
// together: each runs at total/N.
const totalRateAnnotation = "understudy.dev/total-rate"

// synth CronJobs never overlap, never retry a load run, end before their
// deadline, and split the total rate across their runners: --rate x
// parallelism is the total-rate annotation, and no runner's rate is above
// its scenario's ceiling (it would be clamped and the total fall short).
// The schedule daemon runs alone.
func TestSynthWorkloads(t *testing.T) {
	t.Parallel()
	m := load(t)
	for _, r := range scenarios(t, m) {
		where := fmt.Sprintf("%s: container %q: %s", r.S.W.Obj, r.S.C.Name, r.Path)
		if r.Entry != "" {
			where += " (entry " + r.Entry + ")"
		}
		data, err := r.S.file(m, r.Path)
		if err != nil {
			continue // TestScenariosValidate says why
		}
		var sc struct {
			Ceiling  float64 `yaml:"ceiling"`
			Duration string  `yaml:"duration"`
			Rate     struct {
				Rate float64 `yaml:"rate"`
				Max  float64 `yaml:"max"`
			} `yaml:"rate"`
		}
		if err := yaml.Unmarshal([]byte(data), &sc); err != nil {
			continue
		}
		// A runner of N runs rate/N against the ceiling/N, so --runners
		// changes nothing here: the total rate against the total ceiling.
		if r.Rate > 0 && sc.Ceiling > 0 && r.Rate > sc.Ceiling {
			t.Errorf("%s: rate %v is above the scenario's ceiling %v: it would be clamped", where, r.Rate, sc.Ceiling)
		}
		if r.S.W.Job != nil {
			d, _ := r.S.get("duration")
			if d == "" {
				d = sc.Duration
			}
			rate := r.Rate
			if rate == 0 {
				rate = max(sc.Rate.Rate, sc.Rate.Max) // a relative rate's total is its max
			}
			checkJob(t, r.S, d, rate, r.Runners)
		}
	}
	for _, s := range setups(t) {
		if s.Sub == "schedule" && (s.W.Replicas == nil || *s.W.Replicas != 1 || s.W.Strategy != "Recreate") {
			t.Errorf("%s: synth schedule: want replicas: 1 and strategy Recreate (two schedulers run the load twice)", s.W.Obj)
		}
	}
}

// checkJob checks a Job's runners; rate is each runner's --rate, or with
// runners above 1 (--runners) the total they share.
func checkJob(t *testing.T, s *setup, duration string, rate float64, runners int) {
	t.Helper()
	w, job := s.W, s.W.Job
	if w.CronJob != nil && w.CronJob.ConcurrencyPolicy != "Forbid" {
		t.Errorf("%s: concurrencyPolicy %q: want Forbid, never two load runs at once", w.Obj, w.CronJob.ConcurrencyPolicy)
	}
	if job.BackoffLimit == nil || *job.BackoffLimit != 0 {
		t.Errorf("%s: want backoffLimit: 0: a retried runner runs the load twice", w.Obj)
	}
	if w.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("%s: restartPolicy %q: want Never", w.Obj, w.Template.Spec.RestartPolicy)
	}
	d, err := time.ParseDuration(duration)
	switch {
	case err != nil:
		t.Errorf("%s: duration %q: %v", w.Obj, duration, err)
	case job.ActiveDeadlineSeconds == nil || time.Duration(*job.ActiveDeadlineSeconds)*time.Second <= d:
		t.Errorf("%s: activeDeadlineSeconds must exceed the run's duration %s", w.Obj, d)
	}
	n := 1
	if job.Parallelism != nil {
		n = *job.Parallelism
	}
	if job.Completions != nil && *job.Completions != n {
		t.Errorf("%s: completions %d != parallelism %d: runners would not all run at once", w.Obj, *job.Completions, n)
	}
	if runners > 1 {
		// Each pod takes 1/runners of the rate and of the feeder rows by
		// its index: every index must run, once.
		if runners != n || job.CompletionMode != "Indexed" {
			t.Errorf("%s: --runners %d with parallelism %d, completionMode %q: want runners = parallelism in an Indexed Job, or rows and rate are lost or doubled",
				w.Obj, runners, n, job.CompletionMode)
		}
		if idx, _ := s.get("runner_index"); idx != "$(JOB_COMPLETION_INDEX)" {
			if _, ok := s.Env["JOB_COMPLETION_INDEX"]; !ok || (idx != "" && idx != "-1") {
				t.Errorf("%s: --runner-index %q: want $(JOB_COMPLETION_INDEX), each pod its own", w.Obj, idx)
			}
		}
		rate /= float64(runners)
	}
	total, ok := w.Obj.Metadata.Annotations[totalRateAnnotation]
	if n > 1 || ok {
		want, err := strconv.ParseFloat(total, 64)
		if err != nil {
			t.Errorf("%s: annotation %s %q: want the runners' total rate", w.Obj, totalRateAnnotation, total)
			return
		}
		if got := rate * float64(n); got < want*0.999 || got > want*1.001 {
			t.Errorf("%s: %d runners at --rate %v make %v journeys/s, the %s annotation says %v", w.Obj, n, rate, got, totalRateAnnotation, want)
		}
	}
}
