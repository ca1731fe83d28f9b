package prefetch

import (
	"testing"
	"time"
)

// Issue 17: a Replay at the log's times bounds arcs and pending prefetches
// by Span, as the proxy's learner does.
func TestReplaySpan(t *testing.T) {
	t0 := time.Unix(6_000_000, 0)
	for _, tc := range []struct {
		name string
		gap  time.Duration // between the last client's A and B
		want int           // predicted requests
	}{
		{"within span", time.Second, 1},
		{"after span", 10 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReplay(New(Options{Window: 4, Threshold: 0.5, MinCount: 2, Span: 5 * time.Second}))
			for i, c := range []string{"c1", "c2"} {
				at := t0.Add(time.Duration(i) * time.Minute)
				r.AddAt(c, "A", at, 1)
				r.AddAt(c, "B", at.Add(time.Second), 1)
			}
			at := t0.Add(time.Hour)
			r.AddAt("c3", "A", at, 1)
			r.AddAt("c3", "B", at.Add(tc.gap), 1)
			if r.Predicted != tc.want {
				t.Errorf("predicted: got %d, want %d", r.Predicted, tc.want)
			}
		})
	}
}
