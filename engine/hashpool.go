package engine

import "sync"

// hashPool runs the costly password checks (bcrypt, apr1) on a few
// goroutines of their own, apart from the origin workers, so that a flood
// of wrong passwords neither takes the workers other clients' fetches need
// nor makes them wait behind hashes. Its queue is bounded: when it is full,
// submit fails at once and the request is answered 503.
type hashPool struct {
	jobs chan func()
	stop chan struct{}
	wg   sync.WaitGroup
}

// newHashPool starts workers goroutines with a queue of queue checks.
func newHashPool(workers, queue int) *hashPool {
	p := &hashPool{jobs: make(chan func(), queue), stop: make(chan struct{})}
	p.wg.Add(workers)
	for range workers {
		go p.run()
	}
	return p
}

func (p *hashPool) run() {
	defer p.wg.Done()
	for {
		select {
		case f := <-p.jobs:
			f()
		case <-p.stop:
			return
		}
	}
}

// submit queues f, or returns ErrAuthBusy at once when the queue is full.
// It never blocks, so an event loop may call it.
func (p *hashPool) submit(f func()) error {
	select {
	case p.jobs <- f:
		return nil
	default:
		return ErrAuthBusy
	}
}

// close stops the workers after the checks they are running; queued ones
// are dropped (their connections are closing with the engine).
func (p *hashPool) close() {
	close(p.stop)
	p.wg.Wait()
}
