package sim

// heap is an indexed binary min-heap of object ids by key: Fix after a key
// changes costs O(log n).
type heap struct {
	ids  []int32
	key  []float64 // by id
	pos  []int32   // by id: index in ids, -1 when absent
	less func(a, b int32) bool
}

func newHeap(objects int) *heap {
	h := &heap{key: make([]float64, objects), pos: make([]int32, objects)}
	for i := range h.pos {
		h.pos[i] = -1
	}
	h.less = func(a, b int32) bool { return h.key[a] < h.key[b] }
	return h
}

func (h *heap) len() int               { return len(h.ids) }
func (h *heap) contains(id int32) bool { return h.pos[id] >= 0 }
func (h *heap) min() int32             { return h.ids[0] }

// set gives id the key k, adding it when absent.
func (h *heap) set(id int32, k float64) {
	h.key[id] = k
	if h.pos[id] < 0 {
		h.pos[id] = int32(len(h.ids))
		h.ids = append(h.ids, id)
		h.up(int(h.pos[id]))
		return
	}
	i := int(h.pos[id])
	h.up(i)
	h.down(int(h.pos[id]))
}

// remove takes id out.
func (h *heap) remove(id int32) {
	i := int(h.pos[id])
	last := len(h.ids) - 1
	h.swap(i, last)
	h.ids = h.ids[:last]
	h.pos[id] = -1
	if i < last {
		h.up(i)
		h.down(i)
	}
}

func (h *heap) swap(i, j int) {
	h.ids[i], h.ids[j] = h.ids[j], h.ids[i]
	h.pos[h.ids[i]] = int32(i)
	h.pos[h.ids[j]] = int32(j)
}

func (h *heap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.ids[i], h.ids[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *heap) down(i int) {
	n := len(h.ids)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(h.ids[r], h.ids[l]) {
			m = r
		}
		if !h.less(h.ids[m], h.ids[i]) {
			return
		}
		h.swap(i, m)
		i = m
	}
}
