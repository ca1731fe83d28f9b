package prefetch

import (
	"slices"
	"testing"
	"time"
)

// observeAt feeds "client:url" pairs, the i-th at t0 + gaps[i] seconds.
func observeAt(g *Graph, t0 time.Time, seq []string, secs []int) {
	for i, s := range seq {
		c, u, _ := cut(s)
		g.ObserveAt(c, u, t0.Add(time.Duration(secs[i])*time.Second))
	}
}

// Issue 17: with a Span, a request counts only for the client's requests
// made within Span before it, however few requests lie between.
func TestSpan(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	for _, tc := range []struct {
		name string
		span time.Duration
		secs []int // of A, then B
		want int   // count(A→B)
	}{
		{"no span", 0, []int{0, 3600}, 1},
		{"within", 5 * time.Second, []int{0, 5}, 1},
		{"beyond", 5 * time.Second, []int{0, 6}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(Options{Window: 4, Span: tc.span})
			observeAt(g, t0, []string{"c:A", "c:B"}, tc.secs)
			if got := arcCount(g, "A", "B"); got != tc.want {
				t.Errorf("count(A→B): got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	g := New(Options{Window: 1, Threshold: 0.2})
	feed(g, "c:A", "c:B", "c:A", "c:B", "c:A", "c:C", "c:A")
	got := g.Candidates("A", nil)
	want := []Candidate{{URL: "B", P: 0.5, Count: 2}, {URL: "C", P: 0.25, Count: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("Candidates(A): got %v, want %v", got, want)
	}
	if got := g.Candidates("unknown", nil); got != nil {
		t.Errorf("Candidates(unknown): got %v, want nil", got)
	}
}

// urls returns the URLs of cs.
func urls(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.URL)
	}
	return out
}

// teach has browsers b1..b3 ask for page P and then its CSS and image:
// P → S (style) and P → I (image) with p = 1 once the crawlers' visits are
// counted as below.
func teach(p *Predictor, t0 time.Time) {
	for i, c := range []string{"b1", "b2", "b3"} {
		at := t0.Add(time.Duration(i) * time.Minute)
		p.Observe(c, "P", at, nil)
		p.Observe(c, "S", at.Add(time.Second), nil)
		p.Observe(c, "I", at.Add(2*time.Second), nil)
	}
}

// Issue 17: a client's predictions are fetched only once it has followed
// Proof of them; those made before are fetched then if still pending, and
// each is returned once.
func TestPredictorProof(t *testing.T) {
	t0 := time.Unix(2_000_000, 0)
	for _, tc := range []struct {
		name  string
		proof int
		seq   []string   // one client's requests, a second apart
		want  [][]string // Observe's answer for each
	}{
		{"no proof: at once", 0, []string{"P", "S", "I"}, [][]string{{"S", "I"}, nil, nil}},
		{"proof 1: after S", 1, []string{"P", "S", "I"}, [][]string{nil, {"I"}, nil}},
		{"proof 1: a crawler gets nothing", 1, []string{"P", "Q", "R"}, [][]string{nil, nil, nil}},
		{"proof 2: not yet", 2, []string{"P", "S", "I"}, [][]string{nil, nil, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPredictor(Options{Window: 4, Threshold: 0.5, MinCount: 2, Proof: tc.proof})
			teach(p, t0)
			at := t0.Add(time.Hour)
			for i, u := range tc.seq {
				got := urls(p.Observe("new", u, at.Add(time.Duration(i)*time.Second), nil))
				if !slices.Equal(got, tc.want[i]) {
					t.Errorf("request %d (%s): got %q, want %q", i, u, got, tc.want[i])
				}
			}
		})
	}
}

// A prediction is returned once while it is pending: S predicts I, which
// P's answer already held, so S's answer is empty; once P's prediction has
// lapsed (Span, or the client's next Window requests), S's own prediction
// of I is new and returned.
func TestPredictorLapse(t *testing.T) {
	t0 := time.Unix(3_000_000, 0)
	for _, tc := range []struct {
		name   string
		window int
		span   time.Duration
		gap    time.Duration // between P and S
		want   []string      // answer to S
	}{
		{"pending", 4, 0, time.Second, nil},
		{"lapsed by span", 4, 10 * time.Second, time.Minute, []string{"I"}},
		{"lapsed by window", 2, 0, time.Second, []string{"I"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPredictor(Options{Window: tc.window, Span: tc.span, Threshold: 0.5, MinCount: 2, Proof: 1})
			teach(p, t0)
			// The client qualifies on another page first.
			at := t0.Add(time.Hour)
			p.Observe("new", "P", at, nil)
			p.Observe("new", "S", at.Add(time.Second), nil) // qualifies; I fetched
			p.Observe("new", "I", at.Add(2*time.Second), nil)
			at = at.Add(time.Hour)
			if got := urls(p.Observe("new", "P", at, nil)); !slices.Equal(got, []string{"S", "I"}) {
				t.Fatalf("P, qualified: got %q, want [S I]", got)
			}
			if tc.window == 2 {
				p.Observe("new", "Q", at.Add(time.Millisecond), nil)
				p.Observe("new", "R", at.Add(2*time.Millisecond), nil) // P's predictions lapse
			}
			if got := urls(p.Observe("new", "S", at.Add(tc.gap), nil)); !slices.Equal(got, tc.want) {
				t.Errorf("S: got %q, want %q", got, tc.want)
			}
		})
	}
}

// A Predictor keeps at most MaxClients sessions, and none for a client
// with nothing pending and nothing followed.
func TestPredictorBounds(t *testing.T) {
	p := NewPredictor(Options{Window: 4, Threshold: 0.5, MinCount: 2, Proof: 1, MaxClients: 2})
	teach(p, time.Unix(4_000_000, 0))
	at := time.Unix(5_000_000, 0)
	for i, c := range []string{"x", "y", "z"} {
		p.Observe(c, "P", at.Add(time.Duration(i)*time.Second), nil)
	}
	p.Observe("w", "unknown", at.Add(time.Minute), nil)
	if got := len(p.sessions); got != 2 {
		t.Errorf("sessions: got %d, want 2", got)
	}
	if p.sessions["w"] != nil {
		t.Errorf("a client with nothing pending kept a session")
	}
}

// Issue 17: a client that stops following its predictions falls below
// ClientPrecision and gets nothing fetched; following them again lifts it
// back above.
func TestPredictorClientPrecision(t *testing.T) {
	t0 := time.Unix(7_000_000, 0)
	for _, tc := range []struct {
		name      string
		precision float64
		want      [][]string // answers to P, S, then P, S an hour later
	}{
		{"none", 0, [][]string{nil, {"I"}, {"S", "I"}, nil}},
		// After the first visit 1 of 2 predictions followed: (1+1)/(2+2)
		// = 0.5; the second P makes 2 more: 2/6, below; S is followed:
		// 3/6, above again, and the pending I is fetched.
		{"0.5", 0.5, [][]string{nil, {"I"}, nil, {"I"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPredictor(Options{Window: 4, Span: 10 * time.Second, Threshold: 0.5, MinCount: 2, Proof: 1, ClientPrecision: tc.precision})
			teach(p, t0)
			at := t0.Add(time.Hour)
			for i, u := range []string{"P", "S", "P", "S"} {
				if i == 2 {
					at = at.Add(time.Hour) // a new visit: the first one's predictions lapse
				}
				at = at.Add(time.Second)
				got := urls(p.Observe("c", u, at, nil))
				if !slices.Equal(got, tc.want[i]) {
					t.Errorf("request %d (%s): got %q, want %q", i, u, got, tc.want[i])
				}
			}
		})
	}
}
