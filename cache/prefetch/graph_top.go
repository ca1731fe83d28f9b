package prefetch

import (
	"cmp"
	"slices"
)

// TopArcs returns the n arcs with the highest counts, whatever their
// probability, ties broken by probability and then by URL. Arcs whose target
// is no longer in the graph are left out. It copies the arcs under the read
// lock and sorts outside it.
func (g *Graph) TopArcs(n int) []Arc {
	if n <= 0 {
		return nil
	}
	g.mu.RLock()
	all := make([]Arc, 0, g.arcs)
	for _, from := range g.nodes {
		for _, a := range from.arcs {
			to := g.nodes[a.h]
			if to == nil {
				continue
			}
			all = append(all, Arc{From: from.url, To: to.url, P: min(float64(a.count)/float64(from.count), 1), Count: int(a.count)})
		}
	}
	g.mu.RUnlock()
	slices.SortFunc(all, func(x, y Arc) int {
		return cmp.Or(
			cmp.Compare(y.Count, x.Count),
			cmp.Compare(y.P, x.P),
			cmp.Compare(x.From, y.From),
			cmp.Compare(x.To, y.To),
		)
	})
	if len(all) > n {
		all = slices.Clip(all[:n])
	}
	return all
}
