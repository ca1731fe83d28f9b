package cache

import "math"

// Policy is tier L's replacement policy.
type Policy uint8

// Tier L's policies.
const (
	// PolicyLRU evicts the least recently used object and stores every
	// object that fits once others are evicted.
	PolicyLRU Policy = iota
	// PolicyEdge is GreedyDual with a size-aware frequency priority and a
	// cost-benefit admission test (issue 17):
	//
	//	priority(o) = L + refs(o) / size(o)^0.8
	//
	// refs counts o's requests while stored; L, the priority of the last
	// object evicted, ages whatever is not asked for again (GreedyDual's
	// inflation, as in Squid's GDSF and LFUDA). The exponent sits between
	// GDSF's 1, which trades byte hits for request hits, and LFUDA's 0. A
	// new object is stored only if its priority is above that of every
	// object it would push out, lowest first: it displaces objects worth
	// less per byte^0.8 than itself, never a popular one. On the blog-2016
	// log this beats both GDSF's hit ratio and LFUDA's byte hit ratio at
	// 1%, 5% and 10% of the distinct bytes (bench/trace/sim).
	PolicyEdge
)

// edgeBeta is PolicyEdge's size exponent.
const edgeBeta = 0.8

// The tier-L heap orders objects by prio, lowest (evicted first) at the
// root: under PolicyLRU prio is a use counter, so the root is the least
// recently used object.

// touch records a use of r and moves it in the heap. Called with l.mu held.
func (l *large) touch(r *Ref) {
	switch l.policy {
	case PolicyEdge:
		r.uses++
		r.prio = l.age + r.uses/r.sizePow
	default:
		l.tick++
		r.prio = float64(l.tick)
	}
	l.fix(r.heapIdx)
}

// initPrio sets the priority of an object about to be stored. Called with
// l.mu held.
func (l *large) initPrio(r *Ref) {
	r.uses = 1
	r.sizePow = math.Pow(float64(max(r.size, 1)), edgeBeta)
	switch l.policy {
	case PolicyEdge:
		r.prio = l.age + 1/r.sizePow
	default:
		l.tick++
		r.prio = float64(l.tick)
	}
}

// makeRoom picks the objects to evict for cost more bytes, lowest priority
// first, and evicts them. Under PolicyEdge it evicts nothing and reports
// false when one of them has a higher priority than prio, the newcomer's.
// It reports true when the victims were evicted (there may still be no
// room if evicted objects are still referenced); with dry set it only
// reports, and evicts nothing. Called with l.mu held.
func (l *large) makeRoom(cost int64, prio float64, dry bool) bool {
	free := l.limit - l.used
	n := 0
	for free < cost && n < len(l.heap) {
		// Walk the heap in priority order without changing it: pop into
		// the scratch list, and push back on refusal.
		v := l.heap[0]
		if l.policy == PolicyEdge && v.prio > prio {
			for _, w := range l.victims {
				l.push(w)
			}
			l.victims = l.victims[:0]
			return false
		}
		l.pop()
		l.victims = append(l.victims, v)
		if v.refs == 0 {
			free += v.cost
		}
		n++
	}
	if dry || (free < cost && l.policy == PolicyEdge) {
		// Only referenced bytes would be left to free: evict nothing.
		for _, w := range l.victims {
			l.push(w)
		}
		l.victims = l.victims[:0]
		return true
	}
	for i, v := range l.victims {
		v.heapIdx = -1
		if l.policy == PolicyEdge {
			l.age = max(l.age, v.prio)
		}
		l.unlink(v)
		l.evictions++
		if l.onEvict != nil {
			l.onEvict(hashURL(v.url))
		}
		l.victims[i] = nil
	}
	l.victims = l.victims[:0]
	return true
}

func (l *large) less(i, j int) bool { return l.heap[i].prio < l.heap[j].prio }

func (l *large) swap(i, j int) {
	l.heap[i], l.heap[j] = l.heap[j], l.heap[i]
	l.heap[i].heapIdx = i
	l.heap[j].heapIdx = j
}

func (l *large) push(r *Ref) {
	r.heapIdx = len(l.heap)
	l.heap = append(l.heap, r)
	l.up(r.heapIdx)
}

// pop removes the root.
func (l *large) pop() *Ref {
	r := l.heap[0]
	l.removeAt(0)
	return r
}

func (l *large) removeAt(i int) {
	last := len(l.heap) - 1
	r := l.heap[i]
	if i != last {
		l.swap(i, last)
	}
	l.heap[last] = nil
	l.heap = l.heap[:last]
	r.heapIdx = -1
	if i < last {
		l.fix(i)
	}
}

func (l *large) fix(i int) {
	if i < 0 {
		return
	}
	l.up(i)
	l.down(i)
}

func (l *large) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !l.less(i, p) {
			return
		}
		l.swap(i, p)
		i = p
	}
}

func (l *large) down(i int) {
	n := len(l.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && l.less(c+1, c) {
			c++
		}
		if !l.less(c, i) {
			return
		}
		l.swap(i, c)
		i = c
	}
}
