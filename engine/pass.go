package engine

import "time"

// A cache miss joins a flight (collapsed forwarding): while one request
// fetches a URL, the others wait for its response head. For a URL whose
// responses the cache cannot store that wait is pure loss: every waiter
// learns it may not share the response and then fetches on its own, so
// concurrent requests for one uncacheable URL go to the origin one batch at
// a time. Like Varnish's hit-for-miss objects (its built-in VCL marks an
// uncacheable response for 120 s), each loop remembers the URLs whose last
// 200 to a plain (not Range) request could not be stored, and for passTTL a miss for one of them is
// fetched at once as a pass, on the loop, with no flight to join. A stored
// object still answers hits as before, and after passTTL the next miss tries
// to store again.
const (
	passSlots = 4096
	passTTL   = 2 * time.Minute
)

// passMemo is a loop's direct-mapped table of cache-key hashes and their
// expiry (Server.now): no allocation and no lock, as only its loop uses it.
// A collision forgets the older entry, which costs one collapsed miss.
type passMemo struct {
	h   [passSlots]uint64
	exp [passSlots]int64
}

// has reports whether h was marked uncacheable less than passTTL ago.
func (p *passMemo) has(h uint64, now int64) bool {
	i := h % passSlots
	return p.h[i] == h && p.exp[i] > now
}

// add marks h uncacheable for passTTL from now.
func (p *passMemo) add(h uint64, now int64) {
	i := h % passSlots
	p.h[i], p.exp[i] = h, now+int64(passTTL)
}
