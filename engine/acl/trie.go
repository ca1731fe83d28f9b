package acl

// A trie starts as one path-compressed binary trie. Past bigNodes nodes it
// switches to a two-level layout: a direct table indexed by the top blockBits
// bits of the key, each slot holding the root of a small trie for that block,
// plus a bitmap of blocks wholly covered by a prefix shorter than blockBits.
// A lookup in a large set then costs one table read and a walk of a trie that
// holds about n/65536 prefixes, so it stays nearly flat as n grows instead of
// following log2(n) dependent cache misses from a single root. The table
// costs 264 KiB per address family, paid only by sets that large.
const (
	blockBits = 16
	blocks    = 1 << blockBits
	bigNodes  = 1024
)

// node is a trie node: the prefix key/bits it stands for, whether that prefix
// is in the set, and its two children by the bit after the prefix. A child
// index of 0 means none (nodes[0] is never used).
type node struct {
	key      key
	bits     uint8
	terminal bool
	child    [2]int32
}

// trie is a set of prefixes of one address family. Within a tree, every
// non-terminal node has two children; a terminal node has none, since it
// already covers everything below it.
type trie struct {
	nodes []node
	root  int32 // the single tree, while roots is nil

	roots   []int32  // per-block tree roots, once large
	covered []uint64 // bitmap of blocks covered by a prefix of < blockBits bits
}

func (t *trie) newNode(k key, n uint8, terminal bool) int32 {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, node{})
	}
	t.nodes = append(t.nodes, node{key: k, bits: n, terminal: terminal})
	return int32(len(t.nodes) - 1)
}

// insert adds the prefix k/n; k must already be masked to n bits.
func (t *trie) insert(k key, n uint8) {
	if t.roots == nil {
		t.insertAt(&t.root, k, n)
		if len(t.nodes) > bigNodes {
			t.grow()
		}
		return
	}
	b := k.hi >> (64 - blockBits)
	if n < blockBits {
		for end := b + 1<<(blockBits-n); b < end; b++ {
			t.covered[b/64] |= 1 << (b % 64)
			t.roots[b] = 0
		}
		return
	}
	if t.covered[b/64]&(1<<(b%64)) == 0 {
		t.insertAt(&t.roots[b], k, n)
	}
}

// grow switches t to the two-level layout by re-inserting every prefix.
func (t *trie) grow() {
	var prefixes []node
	var walk func(int32)
	walk = func(i int32) {
		if i == 0 {
			return
		}
		nd := t.nodes[i]
		if nd.terminal {
			prefixes = append(prefixes, nd)
			return
		}
		walk(nd.child[0])
		walk(nd.child[1])
	}
	walk(t.root)
	*t = trie{
		nodes:   make([]node, 0, 2*len(prefixes)+1),
		roots:   make([]int32, blocks),
		covered: make([]uint64, blocks/64),
	}
	for _, p := range prefixes {
		t.insert(p.key, p.bits)
	}
}

// insertAt adds k/n to the tree whose root index *root holds.
func (t *trie) insertAt(root *int32, k key, n uint8) {
	if *root == 0 {
		*root = t.newNode(k, n, true)
		return
	}
	var parent int32
	var d uint8
	link := func(x int32) {
		if parent == 0 {
			*root = x
		} else {
			t.nodes[parent].child[d] = x
		}
	}
	cur := *root
	for {
		nd := t.nodes[cur]
		c := min(common(k, nd.key), n, nd.bits)
		if c < nd.bits {
			if c == n {
				// k/n covers the whole subtree at cur: replace it.
				link(t.newNode(k, n, true))
				return
			}
			br := t.newNode(k.mask(c), c, false)
			leaf := t.newNode(k, n, true)
			t.nodes[br].child[nd.key.bit(c)] = cur
			t.nodes[br].child[k.bit(c)] = leaf
			link(br)
			return
		}
		if nd.terminal {
			return // already covered by a prefix at least as short
		}
		if n == nd.bits {
			t.nodes[cur] = node{key: nd.key, bits: n, terminal: true}
			return
		}
		next := k.bit(nd.bits)
		if nd.child[next] == 0 {
			leaf := t.newNode(k, n, true)
			t.nodes[cur].child[next] = leaf
			return
		}
		parent, d, cur = cur, next, nd.child[next]
	}
}

// contains reports whether a prefix in t covers k.
func (t *trie) contains(k key) bool {
	cur := t.root
	if t.roots != nil {
		b := k.hi >> (64 - blockBits)
		if t.covered[b/64]&(1<<(b%64)) != 0 {
			return true
		}
		cur = t.roots[b]
	}
	for cur != 0 {
		nd := &t.nodes[cur]
		if common(k, nd.key) < nd.bits {
			return false
		}
		if nd.terminal {
			return true
		}
		cur = nd.child[k.bit(nd.bits)]
	}
	return false
}
