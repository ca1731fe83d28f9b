package disk

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Readers racing the ring's reuse of segments get intact bodies or
// ErrEvicted, never wrong bytes and never ErrCorrupt.
func TestReadersDuringEviction(t *testing.T) {
	o := testOptions(t.TempDir())
	o.Size = 4 << 20
	s := mustOpen(t, o)
	const keys = 64
	size := func(i int) int64 { return int64(1000 + i*9_973%(400<<10)) }
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, evicted atomic.Int64
	for w := range 2 {
		wg.Go(func() {
			for i := w; !stop.Load(); i += 2 {
				k := i % keys
				err := s.Put(keyOf(k), metaOf(k), newGen(int64(k), size(k)), size(k), time.Time{})
				if err != nil && err != ErrBusy {
					t.Errorf("Put: %v", err)
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(1, 2))
			for !stop.Load() {
				k := r.IntN(keys)
				obj, ok := s.Get(keyOf(k))
				if !ok {
					continue
				}
				got, err := readAll(obj, 64<<10)
				switch {
				case errors.Is(err, ErrEvicted):
					evicted.Add(1)
				case err != nil:
					t.Errorf("read %d: %v", k, err)
				case !bytes.Equal(got, body(int64(k), size(k))):
					t.Errorf("read %d: wrong bytes", k)
				default:
					reads.Add(1)
				}
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d reads, %d evicted during read, stats %+v", reads.Load(), evicted.Load(), s.Stats())
	if st := s.Stats(); st.Corrupt != 0 || st.Bytes > st.Capacity {
		t.Fatalf("stats %+v", st)
	}
}
