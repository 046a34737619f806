// Package deploy_test keeps the Kubernetes manifests in this directory, the
// Dockerfile and the README's deployment sections true to the binaries they
// run: every flag, env var, config key, port, path and file they name is
// checked against the real binaries (built once per test run), README.md's
// configuration reference and each other. Nothing here talks to a cluster.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/understudy-dev/understudy/internal/testio"
	"go.uber.org/goleak"
	"go.yaml.in/yaml/v3"
)

// imageRepo is the image every understudy container runs.
const imageRepo = "ghcr.io/understudy-dev/understudy"

func TestMain(m *testing.M) {
	code := m.Run()
	testio.RemoveBinaries()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// object is one Kubernetes manifest document, with only the fields the
// tests read; Spec is decoded per kind.
type object struct {
	File       string            `yaml:"-"`
	Doc        int               `yaml:"-"`
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   objectMeta        `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       yaml.Node         `yaml:"spec"`
}

func (o *object) String() string {
	return fmt.Sprintf("%s/%s (%s, document %d)", o.Kind, o.Metadata.Name, o.File, o.Doc)
}

type objectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type podTemplate struct {
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type podSpec struct {
	Containers                    []container     `yaml:"containers"`
	InitContainers                []container     `yaml:"initContainers"`
	Volumes                       []volume        `yaml:"volumes"`
	SecurityContext               securityContext `yaml:"securityContext"`
	TerminationGracePeriodSeconds *int64          `yaml:"terminationGracePeriodSeconds"`
	RestartPolicy                 string          `yaml:"restartPolicy"`
}

type securityContext struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	Privileged               *bool  `yaml:"privileged"`
	Capabilities             struct {
		Add  []string `yaml:"add"`
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type container struct {
	Name            string          `yaml:"name"`
	Image           string          `yaml:"image"`
	Command         []string        `yaml:"command"`
	Args            []string        `yaml:"args"`
	Env             []envVar        `yaml:"env"`
	Ports           []containerPort `yaml:"ports"`
	ReadinessProbe  *probe          `yaml:"readinessProbe"`
	LivenessProbe   *probe          `yaml:"livenessProbe"`
	Lifecycle       *lifecycle      `yaml:"lifecycle"`
	Resources       resources       `yaml:"resources"`
	SecurityContext securityContext `yaml:"securityContext"`
	VolumeMounts    []volumeMount   `yaml:"volumeMounts"`
}

// ours reports whether c runs the understudy image.
func (c *container) ours() bool {
	return c.Image == imageRepo || strings.HasPrefix(c.Image, imageRepo+":") || strings.HasPrefix(c.Image, imageRepo+"@")
}

// binary is the understudy binary c runs: "shadow", "synth", or "" when
// its command names neither.
func (c *container) binary() string {
	if len(c.Command) == 0 {
		return ""
	}
	return path.Base(c.Command[0])
}

// port returns the container port ref names: a number or a port name.
func (c *container) port(ref string) (containerPort, bool) {
	for _, p := range c.Ports {
		if p.Name == ref || fmt.Sprint(p.ContainerPort) == ref {
			return p, true
		}
	}
	return containerPort{}, false
}

type envVar struct {
	Name      string     `yaml:"name"`
	Value     string     `yaml:"value"`
	ValueFrom *envSource `yaml:"valueFrom"`
}

type envSource struct {
	FieldRef *struct {
		FieldPath string `yaml:"fieldPath"`
	} `yaml:"fieldRef"`
	ResourceFieldRef *struct {
		Resource string `yaml:"resource"`
	} `yaml:"resourceFieldRef"`
	SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
	ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
}

type keyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
}

type lifecycle struct {
	PreStop *struct {
		Sleep *struct {
			Seconds int64 `yaml:"seconds"`
		} `yaml:"sleep"`
	} `yaml:"preStop"`
}

type resources struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name  string `yaml:"name"`
		Items []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
	} `yaml:"secret"`
	EmptyDir              *struct{} `yaml:"emptyDir"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"persistentVolumeClaim"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	SubPath   string `yaml:"subPath"`
	ReadOnly  bool   `yaml:"readOnly"`
}

// jobSpec is the spec of a Job, and of a CronJob's job template.
type jobSpec struct {
	Parallelism           *int        `yaml:"parallelism"`
	Completions           *int        `yaml:"completions"`
	CompletionMode        string      `yaml:"completionMode"`
	BackoffLimit          *int        `yaml:"backoffLimit"`
	ActiveDeadlineSeconds *int64      `yaml:"activeDeadlineSeconds"`
	Template              podTemplate `yaml:"template"`
}

// workload is an object that runs pods: a Deployment, StatefulSet,
// DaemonSet, Job or CronJob.
type workload struct {
	Obj      *object
	Replicas *int
	Selector labelSelector
	Strategy string
	Template *podTemplate
	// Job is set for Jobs and CronJobs; CronJob only for CronJobs.
	Job     *jobSpec
	CronJob *cronJobSpec
}

type cronJobSpec struct {
	Schedule          string `yaml:"schedule"`
	ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
	JobTemplate       struct {
		Spec jobSpec `yaml:"spec"`
	} `yaml:"jobTemplate"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort string `yaml:"targetPort"` // a number or a port name
	} `yaml:"ports"`
}

type pdbSpec struct {
	MinAvailable   *string       `yaml:"minAvailable"`
	MaxUnavailable *string       `yaml:"maxUnavailable"`
	Selector       labelSelector `yaml:"selector"`
}

// manifests is every object in this directory's YAML files.
type manifests struct {
	Files     []string // *.yaml except kustomization.yaml
	Objects   []*object
	Workloads []*workload
}

// manifestGlob names the manifest files (kustomization.yaml aside).
const manifestGlob = "*.yaml"

var (
	loadOnce sync.Once
	loaded   *manifests
	loadErr  error
)

// load parses every manifest once for all tests.
func load(t *testing.T) *manifests {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = parseDir(".") })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

func parseDir(dir string) (*manifests, error) {
	files, err := filepath.Glob(filepath.Join(dir, manifestGlob))
	if err != nil {
		return nil, err
	}
	m := &manifests{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		m.Files = append(m.Files, filepath.Base(f))
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := parseObjects(filepath.Base(f), data)
		if err != nil {
			return nil, err
		}
		m.Objects = append(m.Objects, objs...)
	}
	for _, o := range m.Objects {
		w, err := decodeWorkload(o)
		if err != nil {
			return nil, err
		}
		if w != nil {
			m.Workloads = append(m.Workloads, w)
		}
	}
	return m, nil
}

// parseObjects decodes the documents of a multi-document YAML file.
func parseObjects(name string, data []byte) ([]*object, error) {
	var objs []*object
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		if len(node.Content) == 0 || node.Content[0].Kind == 0 {
			continue // an empty document
		}
		o := &object{File: name, Doc: i}
		if err := node.Decode(o); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		objs = append(objs, o)
	}
}

func decodeWorkload(o *object) (*workload, error) {
	w := &workload{Obj: o}
	var err error
	switch o.Kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		var spec struct {
			Replicas *int          `yaml:"replicas"`
			Selector labelSelector `yaml:"selector"`
			Strategy struct {
				Type string `yaml:"type"`
			} `yaml:"strategy"`
			Template podTemplate `yaml:"template"`
		}
		err = o.Spec.Decode(&spec)
		w.Replicas, w.Selector, w.Strategy, w.Template = spec.Replicas, spec.Selector, spec.Strategy.Type, &spec.Template
	case "Job":
		w.Job = &jobSpec{}
		err = o.Spec.Decode(w.Job)
		w.Template = &w.Job.Template
	case "CronJob":
		w.CronJob = &cronJobSpec{}
		err = o.Spec.Decode(w.CronJob)
		w.Job = &w.CronJob.JobTemplate.Spec
		w.Template = &w.Job.Template
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: spec: %w", o, err)
	}
	return w, nil
}

// find returns the object of kind and name.
func (m *manifests) find(kind, name string) *object {
	for _, o := range m.Objects {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

// ourContainers calls f for every container that runs the understudy image.
func (m *manifests) ourContainers(f func(w *workload, c *container)) {
	for _, w := range m.Workloads {
		for i := range w.Template.Spec.Containers {
			if c := &w.Template.Spec.Containers[i]; c.ours() {
				f(w, c)
			}
		}
	}
}

// selects reports whether every label of sel is in labels.
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Every document is a named Kubernetes object, no two share a kind and
// name, kustomization.yaml lists files that exist, and the files it leaves
// out are ones the README tells people to apply by hand.
func TestManifestsAreWellFormed(t *testing.T) {
	t.Parallel()
	m := load(t)
	if len(m.Objects) == 0 {
		t.Fatal("no manifests found")
	}
	seen := map[string]*object{}
	for _, o := range m.Objects {
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Errorf("%s: want apiVersion, kind and metadata.name", o)
		}
		if o.Metadata.Namespace != "" {
			t.Errorf("%s: namespace %q set: leave it to kubectl -n or kustomize", o, o.Metadata.Namespace)
		}
		key := o.Kind + "/" + o.Metadata.Name
		if prev, ok := seen[key]; ok {
			t.Errorf("%s: same kind and name as %s", o, prev)
		}
		seen[key] = o
	}

	var kust struct {
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name string `yaml:"name"`
		} `yaml:"images"`
	}
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	listed := map[string]bool{}
	for _, r := range kust.Resources {
		listed[r] = true
		if _, err := os.Stat(r); err != nil {
			t.Errorf("kustomization.yaml: resource %q: %v", r, err)
		}
	}
	readme := readmeSection(t, "## Running in Kubernetes")
	for _, f := range m.Files {
		if apply := "kubectl apply -f deploy/" + f; !listed[f] && !strings.Contains(readme, apply) {
			t.Errorf("%s is neither in kustomization.yaml nor applied by hand (%q) in README.md's \"Running in Kubernetes\"", f, apply)
		}
	}
	if len(kust.Images) != 1 || kust.Images[0].Name != imageRepo {
		t.Errorf("kustomization.yaml images: got %+v, want one entry named %s", kust.Images, imageRepo)
	}
}

// Every object a manifest refers to by name exists: ConfigMaps and claims
// behind volumes and env vars, and Secrets either exist or are created by
// a command the README gives.
func TestReferencesResolve(t *testing.T) {
	t.Parallel()
	m := load(t)
	readme := readmeSection(t, "## Running in Kubernetes")
	for _, w := range m.Workloads {
		spec := &w.Template.Spec
		for _, v := range spec.Volumes {
			switch {
			case v.ConfigMap != nil:
				cm := m.find("ConfigMap", v.ConfigMap.Name)
				if cm == nil {
					t.Errorf("%s: volume %q: no ConfigMap %q", w.Obj, v.Name, v.ConfigMap.Name)
					continue
				}
				for _, it := range v.ConfigMap.Items {
					if _, ok := cm.Data[it.Key]; !ok {
						t.Errorf("%s: volume %q: ConfigMap %q has no key %q", w.Obj, v.Name, cm.Metadata.Name, it.Key)
					}
				}
			case v.PersistentVolumeClaim != nil:
				if m.find("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName) == nil {
					t.Errorf("%s: volume %q: no PersistentVolumeClaim %q", w.Obj, v.Name, v.PersistentVolumeClaim.ClaimName)
				}
			case v.Secret != nil:
				checkSecret(t, m, readme, w, v.Secret.SecretName, "")
			}
		}
		for _, c := range append(append([]container{}, spec.InitContainers...), spec.Containers...) {
			for _, mnt := range c.VolumeMounts {
				if spec.volume(mnt.Name) == nil {
					t.Errorf("%s: container %q mounts volume %q, which the pod does not have", w.Obj, c.Name, mnt.Name)
				}
			}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
				case e.ValueFrom.SecretKeyRef != nil:
					checkSecret(t, m, readme, w, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
				case e.ValueFrom.ConfigMapKeyRef != nil:
					ref := e.ValueFrom.ConfigMapKeyRef
					if cm := m.find("ConfigMap", ref.Name); cm == nil || cm.Data[ref.Key] == "" {
						t.Errorf("%s: env %s: no ConfigMap %q with key %q", w.Obj, e.Name, ref.Name, ref.Key)
					}
				}
			}
		}
	}
}

// checkSecret fails unless Secret name (with key, when not "") is among
// the manifests or created by the README's kubectl command.
func checkSecret(t *testing.T, m *manifests, readme string, w *workload, name, key string) {
	t.Helper()
	if s := m.find("Secret", name); s != nil {
		_, inData := s.Data[key]
		_, inString := s.StringData[key]
		if key != "" && !inData && !inString {
			t.Errorf("%s: Secret %q has no key %q", w.Obj, name, key)
		}
		return
	}
	create := "kubectl create secret generic " + name
	i := strings.Index(readme, create)
	if i < 0 {
		t.Errorf("%s: Secret %q is not among the manifests, and README.md's \"Running in Kubernetes\" has no %q", w.Obj, name, create)
		return
	}
	line, _, _ := strings.Cut(readme[i:], "\n\n")
	if key != "" && !strings.Contains(line, "--from-literal="+key+"=") && !strings.Contains(line, "--from-file="+key+"=") {
		t.Errorf("%s: README.md creates Secret %q without key %q:\n%s", w.Obj, name, key, line)
	}
}

func (p *podSpec) volume(name string) *volume {
	for i := range p.Volumes {
		if p.Volumes[i].Name == name {
			return &p.Volumes[i]
		}
	}
	return nil
}
