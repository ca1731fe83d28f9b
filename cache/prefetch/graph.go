package prefetch

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Graph is the learned dependency graph. Observe and PrefetchSet may be
// called from any goroutines at once: Observe takes the write lock for
// O(Window × MaxArcs) work (and, once every AgeEvery calls, O(nodes ×
// MaxArcs) to age the counts), PrefetchSet and TopArcs the read lock. Neither
// is meant for an event loop: feed Observe from a background goroutine.
type Graph struct {
	opts Options

	mu       sync.RWMutex       // protects everything below
	nodes    map[uint64]*node   // the URL table: xxhash → node
	nodeLRU  list.List          // *node, front: most recently requested
	clients  map[string]*client // client windows
	clientLR list.List          // *client, front: most recently seen
	observed uint64             // Observe calls since New
	aged     uint64             // halvings done
	arcs     int                // arcs held by all nodes
	urlBytes int                // bytes of interned URLs and client names
	seen     []uint64           // scratch for Observe: distinct predecessors
}

// node is one URL: its request count and its strongest successors.
type node struct {
	h     uint64
	url   string
	count uint32
	arcs  []arc // sorted by count, highest first; ties keep the older first
	elem  *list.Element
}

// arc is a successor of a node. The target's URL is looked up in the node
// table when needed, so an arc costs 16 bytes.
type arc struct {
	h     uint64
	count uint32
}

// client is one client's window: the hashes of its last Window requests,
// and when each was made.
type client struct {
	name string
	win  []uint64 // ring buffer, cap Window
	at   []int64  // unix nanoseconds of win's requests, same positions
	next int      // where the next request goes once the ring is full
	elem *list.Element
}

// Arc is one learned dependency, as reported by TopArcs.
type Arc struct {
	From, To string
	P        float64 // count(From→To) / count(From)
	Count    int     // count(From→To)
}

// Stats describes a Graph's size.
type Stats struct {
	Nodes, Arcs, Clients int
	Observed             uint64 // Observe calls
	Aged                 uint64 // halvings of every count
	Bytes                int    // estimated memory held
}

// Estimated per-item overheads for Stats.Bytes: struct, map entry and list
// element.
const (
	nodeOverhead   = 64 + 48 + 48
	arcBytes       = 16
	clientOverhead = 64 + 48 + 48
)

// New returns an empty graph. Fields of o that are zero or out of range take
// their defaults; call o.Validate first to report them instead.
func New(o Options) *Graph {
	o = o.withDefaults()
	return &Graph{
		opts:    o,
		nodes:   make(map[uint64]*node),
		clients: make(map[string]*client),
		seen:    make([]uint64, 0, o.Window),
	}
}

// Options returns the options in force, defaults filled in.
func (g *Graph) Options() Options { return g.opts }

// Observe records that client asked for url now.
func (g *Graph) Observe(clientName, url string) {
	g.ObserveAt(clientName, url, time.Now())
}

// ObserveAt records that client asked for url at the time at: with a Span,
// the request is credited only to the client's requests within Span
// before at. Times of one client should not go backwards.
func (g *Graph) ObserveAt(clientName, url string, at time.Time) {
	h := xxhash.Sum64String(url)
	now := at.UnixNano()
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.touchNode(h, url)
	if b.count < ^uint32(0) {
		b.count++
	}
	c := g.touchClient(clientName)
	g.seen = g.seen[:0]
	for i := range c.win {
		j := (c.next + len(c.win) - 1 - i) % len(c.win) // newest first
		if g.opts.Span > 0 && now-c.at[j] > int64(g.opts.Span) {
			break // older requests are older still
		}
		a := c.win[j]
		if a == h {
			break // requests before an earlier B were credited with it then
		}
		if contains(g.seen, a) {
			continue
		}
		g.seen = append(g.seen, a)
		if an := g.nodes[a]; an != nil {
			g.credit(an, h)
		}
	}
	c.push(h, now, g.opts.Window)
	g.observed++
	if g.observed%uint64(g.opts.AgeEvery) == 0 {
		g.age()
	}
}

func contains(s []uint64, h uint64) bool {
	for _, v := range s {
		if v == h {
			return true
		}
	}
	return false
}

// touchNode returns the node of url, created if need be, and marks it most
// recently requested. Creating a node beyond MaxNodes drops the least
// recently requested one.
func (g *Graph) touchNode(h uint64, url string) *node {
	if n := g.nodes[h]; n != nil {
		if n.url != url { // a 64-bit hash collision: the newer URL takes over
			g.urlBytes += len(url) - len(n.url)
			g.arcs -= len(n.arcs)
			*n = node{h: h, url: strings.Clone(url), elem: n.elem}
		}
		g.nodeLRU.MoveToFront(n.elem)
		return n
	}
	if len(g.nodes) >= g.opts.MaxNodes {
		g.dropNode(g.nodeLRU.Back().Value.(*node))
	}
	n := &node{h: h, url: strings.Clone(url)} // the caller's string may pin a whole log line
	n.elem = g.nodeLRU.PushFront(n)
	g.nodes[h] = n
	g.urlBytes += len(url)
	return n
}

func (g *Graph) dropNode(n *node) {
	g.nodeLRU.Remove(n.elem)
	delete(g.nodes, n.h)
	g.arcs -= len(n.arcs)
	g.urlBytes -= len(n.url)
}

// touchClient returns the window of name, created if need be, and marks it
// most recently seen. Creating one beyond MaxClients drops the least
// recently seen.
func (g *Graph) touchClient(name string) *client {
	if c := g.clients[name]; c != nil {
		g.clientLR.MoveToFront(c.elem)
		return c
	}
	if len(g.clients) >= g.opts.MaxClients {
		old := g.clientLR.Back().Value.(*client)
		g.clientLR.Remove(old.elem)
		delete(g.clients, old.name)
		g.urlBytes -= len(old.name)
	}
	c := &client{name: strings.Clone(name), win: make([]uint64, 0, g.opts.Window), at: make([]int64, 0, g.opts.Window)}
	c.elem = g.clientLR.PushFront(c)
	g.clients[c.name] = c
	g.urlBytes += len(name)
	return c
}

// push appends h, made at now, to the window, overwriting the oldest once
// it holds w.
func (c *client) push(h uint64, now int64, w int) {
	if len(c.win) < w {
		c.win = append(c.win, h)
		c.at = append(c.at, now)
		return
	}
	c.win[c.next], c.at[c.next] = h, now
	c.next = (c.next + 1) % w
}

// credit adds one to the arc from n to the node hashed h. A new arc goes in
// last; when n already holds MaxArcs, it replaces the weakest.
func (g *Graph) credit(n *node, h uint64) {
	i := 0
	for i < len(n.arcs) && n.arcs[i].h != h {
		i++
	}
	switch {
	case i < len(n.arcs):
		if n.arcs[i].count < ^uint32(0) {
			n.arcs[i].count++
		}
	case len(n.arcs) < g.opts.MaxArcs:
		n.arcs = append(n.arcs, arc{h: h, count: 1})
		g.arcs++
	default:
		i = len(n.arcs) - 1
		n.arcs[i] = arc{h: h, count: 1}
	}
	for i > 0 && n.arcs[i-1].count < n.arcs[i].count {
		n.arcs[i-1], n.arcs[i] = n.arcs[i], n.arcs[i-1]
		i--
	}
}

// age halves every count, dropping arcs and nodes that reach zero. Halving
// keeps each node's arcs sorted, and count(A→B) ≤ count(A) holds after it.
func (g *Graph) age() {
	g.aged++
	for e := g.nodeLRU.Front(); e != nil; {
		n := e.Value.(*node)
		e = e.Next()
		n.count >>= 1
		if n.count == 0 {
			g.dropNode(n)
			continue
		}
		keep := 0 // arcs are sorted: once one halves to zero, the rest do
		for keep < len(n.arcs) && n.arcs[keep].count > 1 {
			n.arcs[keep].count >>= 1
			keep++
		}
		g.arcs -= len(n.arcs) - keep
		clear(n.arcs[keep:])
		n.arcs = n.arcs[:keep]
	}
}

// PrefetchSet appends to dst the URLs of url's prefetch set, most probable
// first: the targets of its arcs with p ≥ Threshold, provided url was
// requested at least MinCount times since the counts were last halved, and
// each arc seen at least MinCount times: with a source asked for twice, one
// chance sequence alone would give p = 0.5.
func (g *Graph) PrefetchSet(url string, dst []string) []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	g.members(url, func(t *node, _ arc, _ float64) { dst = append(dst, t.url) })
	return dst
}

// members calls fn for each member of url's prefetch set, most probable
// first, with its target node, its arc and the arc's p. Called with g.mu
// held.
func (g *Graph) members(url string, fn func(t *node, a arc, p float64)) {
	h := xxhash.Sum64String(url)
	n := g.nodes[h]
	if n == nil || n.url != url || n.count < uint32(g.opts.MinCount) {
		return
	}
	for _, a := range n.arcs {
		p := float64(a.count) / float64(n.count)
		if p < g.opts.Threshold {
			break
		}
		if a.count < uint32(g.opts.MinCount) {
			continue // seen too few times to predict, whatever its p
		}
		if t := g.nodes[a.h]; t != nil {
			fn(t, a, min(p, 1))
		}
	}
}

// Stats reports the graph's size and estimated memory.
func (g *Graph) Stats() Stats {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return Stats{
		Nodes:    len(g.nodes),
		Arcs:     g.arcs,
		Clients:  len(g.clients),
		Observed: g.observed,
		Aged:     g.aged,
		Bytes: len(g.nodes)*nodeOverhead + g.arcs*arcBytes + g.urlBytes +
			len(g.clients)*(clientOverhead+16*g.opts.Window),
	}
}
