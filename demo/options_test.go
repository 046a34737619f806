package demo

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string // a substring naming the field; "" for valid
	}{
		{name: "zero value", opts: Options{}},
		{name: "v2 everything off", opts: Options{Version: 2, SlowDelay: -1, ErrorRate: -1}},
		{name: "rate 1", opts: Options{Version: 2, ErrorRate: 1}},
		{name: "version 3", opts: Options{Version: 3}, wantErr: "Version"},
		{name: "version -1", opts: Options{Version: -1}, wantErr: "Version"},
		{name: "rate above 1", opts: Options{ErrorRate: 1.5}, wantErr: "ErrorRate"},
		{name: "rate NaN", opts: Options{ErrorRate: math.NaN()}, wantErr: "ErrorRate"},
		{name: "negative store", opts: Options{MaxOrders: -1}, wantErr: "MaxOrders"},
		{name: "payments", opts: Options{Payments: "http://127.0.0.1:9101"}},
		{name: "payments not a URL", opts: Options{Payments: "127.0.0.1:9101"}, wantErr: "Payments"},
		{name: "payments ftp", opts: Options{Payments: "ftp://pay"}, wantErr: "Payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestOptionsResolved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		opts                 Options
		wantVersion, wantMax int
		wantDelay            time.Duration
		wantRate             float64
	}{
		{"zero", Options{}, 1, DefaultMaxOrders, 0, 0},
		{"v1 ignores v2 knobs", Options{Version: 1, SlowDelay: time.Second, ErrorRate: 0.5}, 1, DefaultMaxOrders, 0, 0},
		{"v2 defaults", Options{Version: 2}, 2, DefaultMaxOrders, DefaultSlowDelay, DefaultErrorRate},
		{"v2 set", Options{Version: 2, SlowDelay: time.Second, ErrorRate: 0.5, MaxOrders: 7}, 2, 7, time.Second, 0.5},
		{"v2 off", Options{Version: 2, SlowDelay: -1, ErrorRate: -1}, 2, DefaultMaxOrders, 0, 0},
	}
	for _, tt := range tests {
		got := tt.opts.resolved()
		if got.Version != tt.wantVersion || got.MaxOrders != tt.wantMax || got.SlowDelay != tt.wantDelay || got.ErrorRate != tt.wantRate {
			t.Errorf("%s: resolved = version %d, max %d, delay %v, rate %v; want %d, %d, %v, %v", tt.name,
				got.Version, got.MaxOrders, got.SlowDelay, got.ErrorRate, tt.wantVersion, tt.wantMax, tt.wantDelay, tt.wantRate)
		}
		if got.Seed == 0 || got.Now == nil {
			t.Errorf("%s: resolved left Seed %d or Now nil", tt.name, got.Seed)
		}
	}
}
