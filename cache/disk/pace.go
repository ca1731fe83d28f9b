package disk

import (
	"sync"
	"time"
)

// bucket is a token bucket over written bytes. A writer takes its bytes at
// once, possibly driving the balance negative, and sleeps until the balance
// would be back at zero; writers therefore queue fairly behind each other and
// the long-run rate never exceeds rate.
type bucket struct {
	rate, burst float64 // bytes per second; rate 0 means no limit

	mu     sync.Mutex // protects tokens and last
	tokens float64
	last   time.Time
}

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// wait takes n bytes from the bucket, sleeping as needed. It returns false
// if stop closes first.
func (b *bucket) wait(n int, stop <-chan struct{}) bool {
	if b.rate == 0 {
		return true
	}
	b.mu.Lock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	debt := b.tokens
	b.mu.Unlock()
	if debt >= 0 {
		return true
	}
	t := time.NewTimer(time.Duration(-debt / b.rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}
