package cache

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestCommitIsAtomic has writers replace one key with bodies whose every byte
// and whose X-Fill field name the same letter, tier S and tier L in turn,
// while readers check that no lookup ever sees a mix.
func TestCommitIsAtomic(t *testing.T) {
	c := New(Options{Memory: 8 << 20, LargeMemory: 16 << 20})
	key := AppendKey(nil, newReq("GET", "http://h/atomic"))
	var stop atomic.Bool
	var wg sync.WaitGroup
	var hits atomic.Int64
	errs := make(chan string, 4)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := newReq("GET", "http://h/atomic")
			buf := make([]byte, 0, 1<<20)
			for !stop.Load() {
				var fill byte
				c.Lookup(key, req, t0, func(h Hit, d Decision) {
					i := bytes.Index(h.Header, []byte("X-Fill: "))
					fill = h.Header[i+len("X-Fill: ")]
					buf = buf[:h.Size]
					if h.Large != nil {
						h.Large.ReadAt(buf, 0)
					} else {
						copy(buf, h.Body)
					}
				})
				if fill == 0 {
					continue
				}
				hits.Add(1)
				if n := bytes.Count(buf, []byte{fill}); n != len(buf) {
					select {
					case errs <- fmt.Sprintf("X-Fill %c but %d of %d body bytes match", fill, n, len(buf)):
					default:
					}
				}
			}
		}()
	}
	req := newReq("GET", "http://h/atomic")
	for i := 0; i < 200; i++ {
		fill := string(rune('a' + i%26))
		size := 100 + i*37
		if i%3 == 0 {
			size = 300<<10 + i
		}
		put(t, c, req, resp{headers: []string{"Cache-Control", "max-age=60", "X-Fill", fill}, body: strings.Repeat(fill, size)})
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if hits.Load() == 0 {
		t.Fatal("readers never saw an object")
	}
}
