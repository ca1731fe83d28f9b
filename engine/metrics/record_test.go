package metrics

import (
	"net/netip"
	"strconv"
	"testing"
	"time"
)

var (
	clientA = netip.MustParseAddr("192.0.2.1")
	clientB = netip.MustParseAddr("2001:db8::2")
)

// labels renders a key as method/status/result for comparisons.
func labels(k reqKey) string {
	return k.method() + "/" + string(appendStatus(nil, k.status())) + "/" + k.result()
}

func TestRecordCounters(t *testing.T) {
	tests := []struct {
		name              string
		in                []Outcome
		want              map[string]int64
		hits              int64
		bytesIn, bytesOut int64
		prefetch          int64
	}{
		{
			name: "hit",
			in:   []Outcome{{Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 80, BytesOut: 1000, Hit: true}},
			want: map[string]int64{"GET/200/TCP_HIT": 1},
			hits: 1, bytesIn: 80, bytesOut: 1000,
		},
		{
			name: "same label set adds up",
			in: []Outcome{
				{Method: "GET", Status: 200, Result: "TCP_MISS", BytesOut: 10},
				{Method: "GET", Status: 200, Result: "TCP_MISS", BytesOut: 20},
			},
			want:     map[string]int64{"GET/200/TCP_MISS": 2},
			bytesOut: 30,
		},
		{
			name: "unknown labels are bounded",
			in: []Outcome{
				{Method: "BREW", Status: 418, Result: "TCP_TEAPOT"},
				{Method: "get", Status: 1000, Result: ""},
			},
			want: map[string]int64{"OTHER/418/OTHER": 1, "OTHER/000/NONE": 1},
		},
		{
			name: "negative sizes count as zero",
			in:   []Outcome{{Method: "CONNECT", Status: 200, Result: "TCP_TUNNEL", BytesIn: -5, BytesOut: -7}},
			want: map[string]int64{"CONNECT/200/TCP_TUNNEL": 1},
		},
		{
			name:     "prefetch is counted apart",
			in:       []Outcome{{Method: "GET", Status: 200, Result: "TCP_MISS", BytesOut: 99, Prefetch: true}},
			want:     map[string]int64{},
			prefetch: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			for i := range tt.in {
				r.Record(&tt.in[i])
			}
			c := r.sum()
			got := make(map[string]int64)
			for k, n := range c.reqs {
				got[labels(k)] = n
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for k, n := range tt.want {
				if got[k] != n {
					t.Errorf("%s: got %d, want %d", k, got[k], n)
				}
			}
			if c.hits != tt.hits || c.bytesIn != tt.bytesIn || c.bytesOut != tt.bytesOut || c.prefetch != tt.prefetch {
				t.Errorf("got hits=%d in=%d out=%d prefetch=%d, want %d %d %d %d",
					c.hits, c.bytesIn, c.bytesOut, c.prefetch, tt.hits, tt.bytesIn, tt.bytesOut, tt.prefetch)
			}
		})
	}
}

func TestObserveOriginBuckets(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int // bucket index; nBuckets is +Inf
	}{
		{-time.Second, 0},
		{0, 0},
		{time.Millisecond, 0}, // le is inclusive
		{time.Millisecond + 1, 1},
		{40 * time.Millisecond, 5},
		{time.Second, 9},
		{30 * time.Second, nBuckets - 1},
		{30*time.Second + 1, nBuckets},
		{time.Hour, nBuckets},
	}
	for _, tt := range tests {
		r := New()
		r.ObserveOrigin(tt.d)
		c := r.sum()
		if c.origin[tt.want] != 1 || c.originCount() != 1 {
			t.Errorf("%v: got buckets %v, want 1 in bucket %q", tt.d, c.origin, bucketLabels[tt.want])
		}
	}
}

func TestAccounts(t *testing.T) {
	r := New()
	mapped := netip.AddrFrom16(clientA.As16()) // ::ffff:192.0.2.1
	for _, o := range []Outcome{
		{Client: clientA, User: "alice", BytesIn: 10, BytesOut: 100, Hit: true},
		{Client: mapped, User: "alice", BytesIn: 1, BytesOut: 2},
		{Client: clientB, BytesIn: 5, BytesOut: 50},
		{Client: netip.MustParseAddr("fe80::1%eth0"), BytesIn: 3},
		{BytesIn: 7}, // no client, no user
	} {
		r.Record(&o)
	}
	clients, users := r.Accounts()
	wantClients := map[string]Account{
		"192.0.2.1":   {Requests: 2, Hits: 1, BytesIn: 11, BytesOut: 102},
		"2001:db8::2": {Requests: 1, BytesIn: 5, BytesOut: 50},
		"fe80::1":     {Requests: 1, BytesIn: 3}, // zone ignored
	}
	wantUsers := map[string]Account{"alice": {Requests: 2, Hits: 1, BytesIn: 11, BytesOut: 102}}
	checkAccounts(t, "clients", clients, wantClients)
	checkAccounts(t, "users", users, wantUsers)

	r.ResetAccounts()
	clients, users = r.Accounts()
	checkAccounts(t, "clients after reset", clients, map[string]Account{})
	checkAccounts(t, "users after reset", users, map[string]Account{})
	if n := r.sum().requests; n != 5 {
		t.Errorf("ResetAccounts changed requests_total: got %d, want 5", n)
	}
}

func TestAccountsOverflow(t *testing.T) {
	r := New()
	r.clients = newTable(2, hashAddr, nil)
	r.users = newTable(1, hashString, cloneString)
	for i := range 5 {
		o := Outcome{Client: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), User: string(rune('a' + i)), BytesOut: 1}
		r.Record(&o)
		r.Record(&o)
	}
	clients, users := r.Accounts()
	if len(clients) != 3 || clients[OtherKey].Requests != 6 {
		t.Errorf("clients: got %v, want 2 tracked and %q with 6 requests", clients, OtherKey)
	}
	if len(users) != 2 || users[OtherKey].Requests != 8 || users["a"].Requests != 2 {
		t.Errorf("users: got %v, want a with 2 requests and %q with 8", users, OtherKey)
	}
	if n := r.clients.n.Load(); n != 2 {
		t.Errorf("tracked clients: got %d, want 2", n)
	}

	r.ResetAccounts()
	o := Outcome{Client: clientB}
	r.Record(&o)
	clients, _ = r.Accounts()
	checkAccounts(t, "clients after reset", clients, map[string]Account{"2001:db8::2": {Requests: 1}})
}

func checkAccounts(t *testing.T, what string, got, want map[string]Account) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s[%q]: got %+v, want %+v", what, k, got[k], w)
		}
	}
}

// TestRecordAllocs proves that a request with a known label set, client
// and user allocates nothing, as a cache hit must not.
func TestRecordAllocs(t *testing.T) {
	r := New()
	o := &Outcome{Method: "GET", Status: 200, Result: "TCP_HIT", BytesIn: 90, BytesOut: 4096,
		Client: clientB, User: "alice", Hit: true}
	r.Record(o)
	if n := testing.AllocsPerRun(1000, func() { r.Record(o) }); n != 0 {
		t.Errorf("Record: got %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { r.ObserveOrigin(3 * time.Millisecond) }); n != 0 {
		t.Errorf("ObserveOrigin: got %v allocs, want 0", n)
	}
	g := r.ClientConns()
	if n := testing.AllocsPerRun(1000, func() { g.Add(1); g.Add(-1) }); n != 0 {
		t.Errorf("Gauge.Add: got %v allocs, want 0", n)
	}
}

func TestGauges(t *testing.T) {
	r := New()
	for _, g := range []*Gauge{r.ClientConns(), r.OriginConns(), r.Tunnels(), r.Workers()} {
		g.Add(3)
		g.Add(-1)
		if got := g.Value(); got != 2 {
			t.Errorf("got %d, want 2", got)
		}
		g.Set(7)
		if got := g.Value(); got != 7 {
			t.Errorf("got %d, want 7", got)
		}
	}
}

// TestStripeSpread checks that neighbouring addresses and similar user
// names spread over the stripes, so that loops serving one subnet do not
// queue on one lock.
func TestStripeSpread(t *testing.T) {
	tests := []struct {
		name string
		hash func(i int) uint64
	}{
		{"ipv4 last octet", func(i int) uint64 { return hashAddr(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}).As16()) }},
		{"ipv4 third octet", func(i int) uint64 { return hashAddr(netip.AddrFrom4([4]byte{10, 0, byte(i), 1}).As16()) }},
		{"ipv6 interface id", func(i int) uint64 {
			return hashAddr(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}).As16())
		}},
		{"user names", func(i int) uint64 { return hashString("user" + strconv.Itoa(i)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[uint64]bool)
			for i := range 256 {
				seen[tt.hash(i)%nStripes] = true
			}
			if len(seen) < nStripes/2 {
				t.Errorf("256 keys hit %d stripes, want at least %d", len(seen), nStripes/2)
			}
		})
	}
}
