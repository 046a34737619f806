package scenarios

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/tidwall/gjson"
)

// failure is one check a step's answer did not pass.
type failure struct {
	check string // "status", "max_latency", "json.<path>", "capture.<name>"
	msg   string
}

// checkAnswer captures variables from the answer into data.Vars and runs
// the step's assertions, returning what failed.
func checkAnswer(sp *stepPlan, status int, body []byte, latency time.Duration, data *TemplateData) []failure {
	vars := data.Vars
	var fs []failure
	a := sp.assert
	if sp.grpc != nil {
		if f, ok := checkGRPCStatus(a, status); !ok {
			fs = append(fs, f)
		}
	} else if len(a.Status) > 0 {
		if !slices.Contains(a.Status, status) {
			fs = append(fs, failure{"status", fmt.Sprintf("status %d, want one of %v", status, a.Status)})
		}
	} else if status < 200 || status > 399 {
		fs = append(fs, failure{"status", fmt.Sprintf("status %d, want 2xx or 3xx", status)})
	}
	for _, c := range sp.captures {
		res := gjson.GetBytes(body, c.Path)
		if !res.Exists() {
			fs = append(fs, failure{"capture." + c.Name, fmt.Sprintf("capture %s: path %q matched nothing in the answer", c.Name, c.Path)})
			continue
		}
		vars[c.Name] = res.String()
	}
	for _, jc := range sp.json {
		ja := jc.JSONAssertion
		if jc.tmpl != nil {
			want, err := jc.tmpl.string(data)
			if err != nil {
				fs = append(fs, failure{"json." + ja.Path, fmt.Sprintf("json %q: %v", ja.Path, err)})
				continue
			}
			if res := gjson.GetBytes(body, ja.Path); !res.Exists() || res.String() != want {
				got := "nothing"
				if res.Exists() {
					got = clip(res.Raw)
				}
				fs = append(fs, failure{"json." + ja.Path, fmt.Sprintf("json %q = %s, want %q", ja.Path, got, want)})
			}
			continue
		}
		if f, ok := checkJSON(body, ja); !ok {
			fs = append(fs, f)
		}
	}
	if a.MaxLatency > 0 && latency > a.MaxLatency {
		fs = append(fs, failure{"max_latency", fmt.Sprintf("latency %v, want at most %v", latency.Round(time.Microsecond), a.MaxLatency)})
	}
	return fs
}

// checkJSON compares the value at ja.Path with ja.Want, both as JSON.
func checkJSON(body []byte, ja JSONAssertion) (failure, bool) {
	check := "json." + ja.Path
	wantJSON, _ := json.Marshal(ja.Want) // checked by Validate
	res := gjson.GetBytes(body, ja.Path)
	if !res.Exists() {
		return failure{check, fmt.Sprintf("json %q matched nothing, want %s", ja.Path, wantJSON)}, false
	}
	var got, want any
	if err := json.Unmarshal([]byte(res.Raw), &got); err != nil {
		return failure{check, fmt.Sprintf("json %q is not valid JSON: %s", ja.Path, clip(res.Raw))}, false
	}
	_ = json.Unmarshal(wantJSON, &want)
	if !reflect.DeepEqual(got, want) {
		return failure{check, fmt.Sprintf("json %q = %s, want %s", ja.Path, clip(res.Raw), wantJSON)}, false
	}
	return failure{}, true
}

// clip shortens s for an exemplar message.
func clip(s string) string {
	const n = 120
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
