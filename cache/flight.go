package cache

import (
	"bytes"
	"sync"

	"github.com/cespare/xxhash/v2"

	"edgeproxy/codec"
)

// flightShards spreads the registry of fills over independent locks.
const flightShards = 64

// flights is the registry of fills in progress, keyed by URL key.
type flights struct {
	shards [flightShards]flightShard
}

type flightShard struct {
	mu sync.Mutex // guards m
	m  map[string]*Flight
	_  [48]byte // keeps neighbouring shards' locks off one cache line
}

func (fs *flights) init() {
	for i := range fs.shards {
		fs.shards[i].m = make(map[string]*Flight)
	}
}

func (fs *flights) count() int64 {
	var n int64
	for i := range fs.shards {
		s := &fs.shards[i]
		s.mu.Lock()
		n += int64(len(s.m))
		s.mu.Unlock()
	}
	return n
}

// Flight is one origin fetch that concurrent misses for the same key share.
//
// The first Join for a key makes the caller the leader. The leader fetches;
// when the response head arrives it either creates a Writer and Publishes
// it, or Cancels (origin error, or a response it will not store). Every
// other caller is a follower: it waits for Ready, then calls Follow to read
// the body as the leader writes it. The flight leaves the registry when the
// leader's Writer has committed or aborted (or at Cancel), so a request that
// joins later finds the object with Lookup. Since a request can miss in
// Lookup just before a commit and Join just after, a new leader should Lookup
// once more before fetching.
type Flight struct {
	key   string
	shard *flightShard
	ready chan struct{} // closed by the first Publish or Cancel
	once  sync.Once
	w     *Writer // set before ready is closed; nil when the leader cancelled
}

// Join registers interest in key. It returns the flight for key and whether
// the caller is its leader, which must call Publish or Cancel exactly once:
// followers wait for that. Join takes a short lock and does not block; it
// allocates only when it creates a flight.
func (c *Cache) Join(key []byte) (f *Flight, leader bool) {
	s := &c.flights.shards[xxhash.Sum64(key)%flightShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if f = s.m[string(key)]; f != nil {
		return f, false
	}
	f = &Flight{key: string(key), shard: s, ready: make(chan struct{})}
	s.m[f.key] = f
	return f, true
}

// Publish shares w, the leader's writer for this flight's key, with the
// followers. A writer whose response may not be stored is not shared: its
// followers get ErrNotShared, as after Cancel.
func (f *Flight) Publish(w *Writer) {
	f.once.Do(func() {
		if w.refuse != nil {
			f.end()
			close(f.ready)
			return
		}
		f.w = w
		w.mu.Lock()
		done := w.finished
		if !done {
			w.flight = f
		}
		w.mu.Unlock()
		if done {
			f.end()
		}
		close(f.ready)
	})
}

// Cancel ends the flight without a response to share: followers get
// ErrNotShared and fetch for themselves.
func (f *Flight) Cancel() {
	f.once.Do(func() {
		f.end()
		close(f.ready)
	})
}

// Ready returns a channel closed once the leader has published or cancelled,
// for a follower to wait on with its own timeout.
func (f *Flight) Ready() <-chan struct{} { return f.ready }

// Follow waits for Ready and returns a reader of the leader's body from its
// first byte. req is the follower's request (the engine's own copy: the
// follower needs it anyway should it fetch for itself); a response that
// varies on fields whose values differ in req yields ErrVaryMismatch, and a
// cancelled flight ErrNotShared.
func (f *Flight) Follow(req *codec.Request) (*FollowReader, error) {
	<-f.ready
	w := f.w
	if w == nil {
		return nil, ErrNotShared
	}
	if w.names != nil {
		var buf [512]byte
		if !bytes.Equal(appendSecondary(buf[:0], w.names, req), w.sec) {
			return nil, ErrVaryMismatch
		}
	}
	return w.NewReader(), nil
}

// end removes the flight from the registry, if it is still the one there.
func (f *Flight) end() {
	s := f.shard
	s.mu.Lock()
	if s.m[f.key] == f {
		delete(s.m, f.key)
	}
	s.mu.Unlock()
}
