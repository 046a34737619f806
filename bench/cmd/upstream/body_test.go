package main

import (
	"encoding/json"
	"net/url"
	"testing"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query        string
		other        bool
		wantFields   int
		minLen       int
		maxLen       int
		wantStrings  int // fields whose value is a string
		wantDiffFrom string
	}{
		{query: "bytes=1024", wantFields: 8, minLen: 1000, maxLen: 1024, wantStrings: 8},
		{query: "bytes=1048576", wantFields: 8, minLen: 1048000, maxLen: 1048576, wantStrings: 8},
		{query: "bytes=1024", other: true, wantFields: 8, minLen: 1000, maxLen: 1024, wantStrings: 8, wantDiffFrom: "bytes=1024"},
		{query: "fields=100", wantFields: 100, minLen: 100, maxLen: 2000},
		{query: "fields=70000&types=1", wantFields: 70000, minLen: 500_000, maxLen: 1 << 20},
		{query: "fields=70000&types=1", other: true, wantFields: 70000, minLen: 500_000, maxLen: 1 << 20, wantStrings: 70000, wantDiffFrom: "fields=70000&types=1"},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.query)
		k, err := parseBodyQuery(q, tc.other)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		body := generate(k)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: not JSON: %v", tc.query, err)
		}
		strs := 0
		for _, v := range m {
			if _, ok := v.(string); ok {
				strs++
			}
		}
		if len(m) != tc.wantFields || len(body) < tc.minLen || len(body) > tc.maxLen || strs != tc.wantStrings {
			t.Errorf("%s (other %v): %d fields, %d bytes, %d strings; want %d fields, %d to %d bytes, %d strings",
				tc.query, tc.other, len(m), len(body), strs, tc.wantFields, tc.minLen, tc.maxLen, tc.wantStrings)
		}
		if tc.wantDiffFrom != "" {
			q0, _ := url.ParseQuery(tc.wantDiffFrom)
			k0, _ := parseBodyQuery(q0, false)
			if string(generate(k0)) == string(body) {
				t.Errorf("%s: the variant equals the original", tc.query)
			}
		}
	}
	for _, bad := range []string{"", "bytes=1", "bytes=x", "fields=0", "fields=999999999"} {
		q, _ := url.ParseQuery(bad)
		if _, err := parseBodyQuery(q, false); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
