package metrics

import (
	"io"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// naive is the baseline Record: one mutex, maps keyed by formatted label
// strings, as a first attempt without sharding would be written.
type naive struct {
	mu      sync.Mutex
	reqs    map[string]int64
	clients map[netip.Addr]*Account
	users   map[string]*Account
}

func (n *naive) record(o *Outcome) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var key [64]byte
	k := append(append(append(key[:0], o.Method...), o.Result...), strconv.Itoa(o.Status)...)
	n.reqs[string(k)]++
	for _, acc := range []*Account{n.clients[o.Client], n.users[o.User]} {
		if acc != nil {
			acc.add(o)
		}
	}
}

// benchOutcomes gives each parallel goroutine its own client out of 256, as
// loops serving many clients would see.
func benchOutcomes(b *testing.B, record func(*Outcome), warm func(*Outcome)) {
	var next atomic.Uint32
	outcome := func(i uint32) *Outcome {
		return &Outcome{Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 300, BytesOut: 16384,
			Client: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), User: "user" + strconv.Itoa(int(i%16)), Hit: true}
	}
	for i := range uint32(256) {
		warm(outcome(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		o := outcome(next.Add(1) % 256)
		for pb.Next() {
			record(o)
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	r := New()
	benchOutcomes(b, r.Record, r.Record)
}

// BenchmarkRecordOneClient is the worst case: every loop records the same
// client and user, so their accounting stripes are shared.
func BenchmarkRecordOneClient(b *testing.B) {
	r := New()
	o := &Outcome{Method: "GET", Status: 200, Result: "TCP_HIT", BytesOut: 16384, Client: clientA, User: "alice", Hit: true}
	r.Record(o)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Record(o)
		}
	})
}

// BenchmarkRecordBaseline is the naive single-mutex Record, for the ratio.
func BenchmarkRecordBaseline(b *testing.B) {
	n := &naive{reqs: map[string]int64{}, clients: map[netip.Addr]*Account{}, users: map[string]*Account{}}
	warm := func(o *Outcome) {
		n.clients[o.Client], n.users[o.User] = new(Account), new(Account)
		n.record(o)
	}
	benchOutcomes(b, n.record, warm)
}

func BenchmarkObserveOrigin(b *testing.B) {
	r := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.ObserveOrigin(7e6)
		}
	})
}

// BenchmarkWritePrometheus scrapes a registry with 200 label sets.
func BenchmarkWritePrometheus(b *testing.B) {
	r := New()
	for i := range 200 {
		o := Outcome{Method: methods[i%len(methods)], Status: 200 + i, Result: results[i%len(results)]}
		r.Record(&o)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.WritePrometheus(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
