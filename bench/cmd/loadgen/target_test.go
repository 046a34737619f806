package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec    string
		want    target
		wantErr string
	}{
		{spec: "direct=http://127.0.0.1:1", want: target{name: "direct", url: "http://127.0.0.1:1"}},
		{spec: "s=http://127.0.0.1:1/,admin=http://127.0.0.1:2,group=0 ms,pids=12:34,spread=500,path=/__bench/body?fields=10",
			want: target{name: "s", url: "http://127.0.0.1:1", admin: "http://127.0.0.1:2", group: "0 ms", pids: []int{12, 34}, spread: 500, path: "/__bench/body?fields=10"}},
		{spec: "w=http://127.0.0.1:1,beside=/__bench/body?fields=70000&types=1@2",
			want: target{name: "w", url: "http://127.0.0.1:1", besidePath: "/__bench/body?fields=70000&types=1", besideRate: 2}},
		{spec: "x=http://127.0.0.1:1,pids=12:abc", wantErr: "process ids"},
		{spec: "x=http://127.0.0.1:1,spread=521", wantErr: "from 1 to 520"},
		{spec: "x=http://127.0.0.1:1,beside=/big", wantErr: "PATH@RATE"},
		{spec: "x=http://127.0.0.1:1,beside=big@2", wantErr: "PATH@RATE"},
		{spec: "x=http://127.0.0.1:1,color=red", wantErr: "unknown option"},
		{spec: "x=ftp://h", wantErr: "not an http:// or https:// URL"},
		{spec: "t=https://127.0.0.1:1,proto=h2,group=h2", want: target{name: "t", url: "https://127.0.0.1:1", group: "h2", proto: "h2"}},
		{spec: "t=https://127.0.0.1:1,proto=h3", wantErr: "want h1"},
		{spec: "t=http://127.0.0.1:1,proto=h1", wantErr: "needs an https:// URL"},
		{spec: "=http://127.0.0.1:1", wantErr: "want NAME=URL"},
	}
	for _, tc := range tests {
		got, err := parseTarget(tc.spec)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want one containing %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got.name != tc.want.name || got.url != tc.want.url || got.admin != tc.want.admin || got.group != tc.want.group ||
			got.path != tc.want.path || got.spread != tc.want.spread || got.besidePath != tc.want.besidePath ||
			got.besideRate != tc.want.besideRate || got.proto != tc.want.proto || !slices.Equal(got.pids, tc.want.pids) {
			t.Errorf("%q: got %+v, want %+v", tc.spec, got, tc.want)
		}
	}
}

func TestSpreadPaths(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	second := map[string]map[string]bool{}
	for k := 0; k < maxSpread; k++ {
		p := spreadPath(k)
		if seen[p] {
			t.Fatalf("spreadPath(%d) = %q again", k, p)
		}
		seen[p] = true
		parts := strings.Split(p, "/") // "", "s", X, Y
		if second[parts[2]] == nil {
			second[parts[2]] = map[string]bool{}
		}
		second[parts[2]][parts[3]] = true
	}
	// compare templates a path position with more than 32 distinct values
	// after the same prefix as {id}: no position may have that many.
	if len(second) > 32 {
		t.Errorf("%d first segments, want at most 32", len(second))
	}
	for x, ys := range second {
		if len(ys) > 32 {
			t.Errorf("%d second segments under %q, want at most 32", len(ys), x)
		}
	}
	urls := target{url: "http://h", spread: 3}.urls(config{path: "/orders/42"})
	if got := urls(4); got != "http://h/s/a/b/orders/42" {
		t.Errorf("request 4 of a spread over 3 = %q, want http://h/s/a/b/orders/42", got)
	}
}
