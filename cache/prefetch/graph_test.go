package prefetch

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// arcCount returns count(from→to), or 0 when there is no such arc.
func arcCount(g *Graph, from, to string) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.nodes[xxhash.Sum64String(from)]
	if n == nil {
		return 0
	}
	h := xxhash.Sum64String(to)
	for _, a := range n.arcs {
		if a.h == h {
			return int(a.count)
		}
	}
	return 0
}

// nodeCount returns count(url), or -1 when url has no node.
func nodeCount(g *Graph, url string) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.nodes[xxhash.Sum64String(url)]
	if n == nil {
		return -1
	}
	return int(n.count)
}

// feed observes a sequence of "client url" pairs written as "c1:A".
func feed(g *Graph, seq ...string) {
	for _, s := range seq {
		c, u, ok := cut(s)
		if !ok {
			panic("feed: want client:url, got " + s)
		}
		g.Observe(c, u)
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  []string
		want int // count(A→B)
	}{
		{"next", []string{"c:A", "c:B"}, 1},
		{"at w", []string{"c:A", "c:X", "c:Y", "c:B"}, 1},
		{"beyond w", []string{"c:A", "c:X", "c:Y", "c:Z", "c:B"}, 0},
		{"A twice counts once", []string{"c:A", "c:A", "c:B"}, 1},
		{"B twice counts once", []string{"c:A", "c:B", "c:X", "c:B"}, 1},
		{"A again, B again", []string{"c:A", "c:B", "c:A", "c:B"}, 2},
		{"other client between", []string{"c:A", "d:X", "d:Y", "d:Z", "c:B"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(Options{Window: 3})
			feed(g, tc.seq...)
			if got := arcCount(g, "A", "B"); got != tc.want {
				t.Errorf("count(A→B): got %d, want %d", got, tc.want)
			}
			if got := arcCount(g, "A", "A"); got != 0 {
				t.Errorf("count(A→A): got %d, want 0 (no self arcs)", got)
			}
		})
	}
}

func TestProbabilityAndThreshold(t *testing.T) {
	seq := []string{"c:A", "c:B", "c:A", "c:B", "c:A", "c:C", "c:A"}
	for _, tc := range []struct {
		threshold float64
		want      []string
	}{
		{0.2, []string{"B", "C"}},
		{0.25, []string{"B", "C"}},
		{0.3, []string{"B"}},
		{0.5, []string{"B"}},
		{0.51, nil},
	} {
		t.Run(fmt.Sprint(tc.threshold), func(t *testing.T) {
			g := New(Options{Window: 1, Threshold: tc.threshold})
			feed(g, seq...)
			if got := nodeCount(g, "A"); got != 4 {
				t.Fatalf("count(A): got %d, want 4", got)
			}
			if b, c := arcCount(g, "A", "B"), arcCount(g, "A", "C"); b != 2 || c != 1 {
				t.Fatalf("count(A→B), count(A→C): got %d, %d, want 2, 1", b, c)
			}
			if got := g.PrefetchSet("A", nil); !slices.Equal(got, tc.want) {
				t.Errorf("PrefetchSet(A): got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPrefetchSetOrderAndAppend(t *testing.T) {
	g := New(Options{Window: 4, Threshold: 0.1})
	feed(g, "c:A", "c:C", "c:B", "c:A", "c:B", "c:D", "c:A", "c:B")
	dst := []string{"keep"}
	got := g.PrefetchSet("A", dst)
	// count(A)=3, A→B=3, A→C=1, A→D=1 (C, D in arrival order).
	if want := []string{"keep", "B", "C", "D"}; !slices.Equal(got, want) {
		t.Errorf("PrefetchSet(A): got %q, want %q", got, want)
	}
	if got := g.PrefetchSet("unknown", nil); got != nil {
		t.Errorf("PrefetchSet(unknown): got %q, want nil", got)
	}
}

func TestMinCount(t *testing.T) {
	g := New(Options{Window: 1, MinCount: 2})
	feed(g, "c:A", "c:B")
	if got := g.PrefetchSet("A", nil); got != nil {
		t.Errorf("A requested once: got %q, want nil", got)
	}
	feed(g, "c:A", "c:B")
	if got := g.PrefetchSet("A", nil); !slices.Equal(got, []string{"B"}) {
		t.Errorf("A requested twice: got %q, want [B]", got)
	}
}

func TestClientSeparation(t *testing.T) {
	g := New(Options{Window: 4})
	feed(g, "c1:A", "c2:B", "c1:C", "c2:D")
	for _, tc := range []struct {
		from, to string
		want     int
	}{{"A", "C", 1}, {"B", "D", 1}, {"A", "B", 0}, {"B", "C", 0}, {"C", "D", 0}, {"A", "D", 0}} {
		if got := arcCount(g, tc.from, tc.to); got != tc.want {
			t.Errorf("count(%s→%s): got %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestAging(t *testing.T) {
	g := New(Options{Window: 1, AgeEvery: 10})
	// 9 observations: A×4 (count 4), B×3 after A (A→B 3), C once after A, D.
	feed(g, "c:A", "c:B", "c:A", "c:B", "c:A", "c:B", "c:A", "c:C", "c:D")
	if got := g.Stats().Aged; got != 0 {
		t.Fatalf("after 9 observations: %d halvings, want 0", got)
	}
	feed(g, "c:E") // the tenth
	st := g.Stats()
	if st.Aged != 1 {
		t.Fatalf("after 10 observations: %d halvings, want 1", st.Aged)
	}
	for _, tc := range []struct {
		url  string
		want int
	}{{"A", 2}, {"B", 1}, {"C", -1}, {"D", -1}, {"E", -1}} {
		if got := nodeCount(g, tc.url); got != tc.want {
			t.Errorf("count(%s) after halving: got %d, want %d (-1: node dropped)", tc.url, got, tc.want)
		}
	}
	if got := arcCount(g, "A", "B"); got != 1 {
		t.Errorf("count(A→B) after halving: got %d, want 1", got)
	}
	if got := arcCount(g, "A", "C"); got != 0 {
		t.Errorf("count(A→C) after halving: got %d, want 0 (arc dropped)", got)
	}
	if st.Nodes != 2 || st.Arcs != 2 { // A→B and B→A remain
		t.Errorf("after halving: %d nodes, %d arcs, want 2, 2", st.Nodes, st.Arcs)
	}
}

func TestMaxArcs(t *testing.T) {
	g := New(Options{Window: 1, MaxArcs: 2, Threshold: 0.01})
	feed(g, "c:A", "c:B", "c:A", "c:B", "c:A", "c:C", "c:A", "c:D")
	// A→B 2, A→C 1 then D replaces the weakest, C.
	if got := g.PrefetchSet("A", nil); !slices.Equal(got, []string{"B", "D"}) {
		t.Errorf("PrefetchSet(A): got %q, want [B D]", got)
	}
	feed(g, "c:A", "c:D", "c:A", "c:D", "c:A", "c:D")
	if got := g.PrefetchSet("A", nil); !slices.Equal(got, []string{"D", "B"}) {
		t.Errorf("PrefetchSet(A) after D overtakes B: got %q, want [D B]", got)
	}
}

func TestMaxNodes(t *testing.T) {
	g := New(Options{Window: 1, MaxNodes: 3})
	feed(g, "c:A", "c:B", "c:C", "c:A", "c:D") // D drops B, the least recently requested
	for _, tc := range []struct {
		url  string
		want int
	}{{"A", 2}, {"B", -1}, {"C", 1}, {"D", 1}} {
		if got := nodeCount(g, tc.url); got != tc.want {
			t.Errorf("count(%s): got %d, want %d", tc.url, got, tc.want)
		}
	}
	// A→B survives in A, but B is gone, so it is not reported.
	if got := g.PrefetchSet("A", nil); !slices.Equal(got, []string{"D"}) {
		t.Errorf("PrefetchSet(A): got %q, want [D]", got)
	}
}

func TestMaxClients(t *testing.T) {
	g := New(Options{Window: 4, MaxClients: 2})
	feed(g, "c1:A", "c2:X", "c3:Y", "c1:B") // c3 drops c1's window
	if got := arcCount(g, "A", "B"); got != 0 {
		t.Errorf("count(A→B) after c1's window was dropped: got %d, want 0", got)
	}
	if got := g.Stats().Clients; got != 2 {
		t.Errorf("clients: got %d, want 2", got)
	}
}

func TestBoundsUnderLoad(t *testing.T) {
	o := Options{Window: 8, MaxNodes: 500, MaxArcs: 4, MaxClients: 20, AgeEvery: 3000}
	g := New(o)
	for i := range 20_000 {
		g.Observe(fmt.Sprint("c", i%37), fmt.Sprint("http://h/", (i*7919)%2000))
	}
	st := g.Stats()
	if st.Nodes > o.MaxNodes || st.Arcs > o.MaxNodes*o.MaxArcs || st.Clients > o.MaxClients {
		t.Errorf("stats %+v exceed the bounds %+v", st, o)
	}
	if st.Aged != 20_000/3000 {
		t.Errorf("halvings: got %d, want %d", st.Aged, 20_000/3000)
	}
	arcs := 0
	g.mu.RLock()
	for _, n := range g.nodes {
		arcs += len(n.arcs)
		for i, a := range n.arcs {
			if a.count > n.count || a.count == 0 || (i > 0 && n.arcs[i-1].count < a.count) {
				t.Fatalf("node %s: arc %d count %d (node count %d): want 0 < count ≤ node count, sorted", n.url, i, a.count, n.count)
			}
		}
	}
	g.mu.RUnlock()
	if arcs != st.Arcs {
		t.Errorf("arc total: counted %d, stats say %d", arcs, st.Arcs)
	}
	t.Logf("%+v", st)
}

func TestTopArcs(t *testing.T) {
	g := New(Options{Window: 1})
	feed(g, "c:A", "c:B", "c:A", "c:B", "c:C", "c:D", "c:C", "c:D", "c:C")
	// A→B 2 of 2, C→D 2 of 3, D→C 2 of 2, B→A 1, B→C 1: by count, then p,
	// then URL.
	got := g.TopArcs(3)
	want := []Arc{{"A", "B", 1, 2}, {"D", "C", 1, 2}, {"C", "D", 2.0 / 3, 2}}
	if !slices.Equal(got, want) {
		t.Errorf("TopArcs(3): got %+v, want %+v", got, want)
	}
	if got := g.TopArcs(0); got != nil {
		t.Errorf("TopArcs(0): got %+v, want nil", got)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		o  Options
		ok bool
	}{
		{Options{}, true},
		{Options{Window: MaxWindow, Threshold: 1}, true},
		{Options{Window: -1}, false},
		{Options{Window: MaxWindow + 1}, false},
		{Options{Threshold: 1.5}, false},
		{Options{MaxNodes: -1}, false},
		{Options{MaxArcs: -1}, false},
		{Options{MaxClients: -1}, false},
		{Options{AgeEvery: -1}, false},
		{Options{MinCount: -1}, false},
	} {
		if err := tc.o.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v): got %v, want ok %v", tc.o, err, tc.ok)
		}
	}
	got := New(Options{}).Options()
	want := Options{Window: DefaultWindow, Threshold: DefaultThreshold, MinCount: 1, MaxNodes: DefaultMaxNodes,
		MaxArcs: DefaultMaxArcs, MaxClients: DefaultMaxClients, AgeEvery: 10 * DefaultMaxNodes}
	if got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
}

// TestConcurrent has a goroutine observe while others read; run with -race.
func TestConcurrent(t *testing.T) {
	g := New(Options{Window: 4, MaxNodes: 200, AgeEvery: 1000})
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range 5000 {
			g.Observe(fmt.Sprint("c", i%5), fmt.Sprint("/", i%50))
		}
	})
	for range 3 {
		wg.Go(func() {
			var dst []string
			for {
				select {
				case <-done:
					return
				default:
				}
				dst = g.PrefetchSet("/1", dst[:0])
				_ = g.TopArcs(5)
				_ = g.Stats()
			}
		})
	}
	wg.Wait()
}

// An arc seen fewer than MinCount times is left out of the set, whatever
// its probability.
func TestMinCountAppliesToArcs(t *testing.T) {
	g := New(Options{Window: 2, MinCount: 2, Threshold: 0.5})
	feed(g, "c:A", "c:B", "c:X", "c:A", "c:B")
	// count(A) = 2, count(A→B) = 2, count(A→X) = 1 (p = 0.5).
	if got := arcCount(g, "A", "X"); got != 1 {
		t.Fatalf("count(A→X) = %d, want 1", got)
	}
	if got := g.PrefetchSet("A", nil); !slices.Equal(got, []string{"B"}) {
		t.Errorf("PrefetchSet(A) = %q, want [B] (A→X seen once)", got)
	}
}
