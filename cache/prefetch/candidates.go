package prefetch

// Candidate is one member of a prefetch set, with what the graph knows of
// it.
type Candidate struct {
	URL   string
	P     float64 // count(source→URL) / count(source), at most 1
	Count int     // count(source→URL)
}

// Candidates appends to dst the members of url's prefetch set, most
// probable first, as PrefetchSet does, with their probabilities. The URLs
// are the graph's own strings: appending allocates only to grow dst.
func (g *Graph) Candidates(url string, dst []Candidate) []Candidate {
	g.mu.RLock()
	defer g.mu.RUnlock()
	g.members(url, func(t *node, a arc, p float64) {
		dst = append(dst, Candidate{URL: t.url, P: p, Count: int(a.count)})
	})
	return dst
}
