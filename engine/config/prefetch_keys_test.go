package config

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// Issue 17: prefetch.span and prefetch.proof, and the defaults measured on
// the blog-2016 log (threshold 0.3, client_precision 0.2, max_object 256KiB).
func TestPrefetchSpanAndProof(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want func(*Prefetch)
	}{
		{"", func(*Prefetch) {}},
		{"prefetch: {span: 30s}", func(p *Prefetch) { p.Span = Duration(30 * time.Second) }},
		{"prefetch: {span: -1s}", func(p *Prefetch) { p.Span = Duration(-time.Second) }},
		{"prefetch: {proof: 3}", func(p *Prefetch) { p.Proof = 3 }},
		{"prefetch: {proof: -1}", func(p *Prefetch) { p.Proof = -1 }},
		{"prefetch: {client_precision: 0.5}", func(p *Prefetch) { p.ClientPrecision = 0.5 }},
		{"prefetch: {client_precision: -1}", func(p *Prefetch) { p.ClientPrecision = -1 }},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "test.yaml")
			if err != nil {
				t.Fatalf("got %q, want no error", err)
			}
			want := Prefetch{Window: 16, Threshold: 0.3, MinCount: 2, Span: Duration(5 * time.Second), Proof: 1, ClientPrecision: 0.2,
				Schedule: "any", MaxBandwidth: 5 * MiB, MaxObject: 256 * KiB, MaxConcurrent: 4, MaxLoad: 0.5, MaxNodes: 65536}
			tc.want(&want)
			if !reflect.DeepEqual(c.Prefetch, want) {
				t.Errorf("got %+v, want %+v", c.Prefetch, want)
			}
		})
	}
	for _, tc := range []struct{ yaml, key string }{
		{"prefetch:\n  proof: 2000000\n", "prefetch.proof"},
		{"prefetch:\n  client_precision: 1.5\n", "prefetch.client_precision"},
	} {
		_, err := Parse([]byte(tc.yaml), "edgeproxy.yaml")
		var e *Error
		if !errors.As(err, &e) || e.Key != tc.key {
			t.Errorf("%q: got %v, want an error on %s", tc.yaml, err, tc.key)
		}
	}
}
