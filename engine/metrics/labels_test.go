package metrics

import "testing"

func TestMethodLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET", "GET"},
		{"HEAD", "HEAD"},
		{"POST", "POST"},
		{"CONNECT", "CONNECT"},
		{"PURGE", "PURGE"},
		{"get", "OTHER"}, // methods are case-sensitive, RFC 9110 §9.1
		{"PROPFIND", "OTHER"},
		{"", "OTHER"},
		{"GET ", "OTHER"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := methods[methodIndex(tt.in)]; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResultLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TCP_HIT", "TCP_HIT"},
		{"TCP_MEM_HIT", "TCP_MEM_HIT"},
		{"TCP_MISS", "TCP_MISS"},
		{"TCP_REFRESH_UNMODIFIED", "TCP_REFRESH_UNMODIFIED"},
		{"TCP_REFRESH_MODIFIED", "TCP_REFRESH_MODIFIED"},
		{"TCP_DENIED", "TCP_DENIED"},
		{"TCP_TUNNEL", "TCP_TUNNEL"},
		{"TCP_REDIRECT", "TCP_REDIRECT"},
		{"NONE", "NONE"},
		{"", "NONE"},
		{"TCP_MISS_ABORTED", "TCP_MISS_ABORTED"},
		{"TCP_TUNNEL_TIMEDOUT", "TCP_TUNNEL_TIMEDOUT"},
		{"NONE_ABORTED", "NONE_ABORTED"},
		{"_ABORTED", "OTHER"},
		{"TCP_MISS_ABORTED_ABORTED", "OTHER"},
		{"TCP_BOGUS", "OTHER"},
		{"TCP_BOGUS_TIMEDOUT", "OTHER"},
		{"tcp_hit", "OTHER"},
		{"OTHER", "OTHER"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := results[resultIndex(tt.in)]; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestResultTable checks that every code resultIndex can return maps back
// to itself, and that the packed key has room for every index.
func TestResultTable(t *testing.T) {
	for i, res := range results {
		if res == other {
			continue
		}
		if got := resultIndex(res); got != uint32(i) {
			t.Errorf("resultIndex(%q) = %d, want %d", res, got, i)
		}
	}
	if len(results) > 1<<12 || len(methods) > 1<<8 {
		t.Fatalf("tables too large for reqKey: %d results, %d methods", len(results), len(methods))
	}
}

func TestStatusLabel(t *testing.T) {
	tests := []struct {
		in   int
		want string
	}{
		{200, "200"},
		{100, "100"},
		{599, "599"},
		{0, "000"},
		{99, "000"},
		{600, "000"},
		{-1, "000"},
		{1 << 20, "000"},
	}
	for _, tt := range tests {
		k := makeKey(1, 2, statusLabel(tt.in))
		if got := string(appendStatus(nil, k.status())); got != tt.want {
			t.Errorf("status %d: got %q, want %q", tt.in, got, tt.want)
		}
		if k.method() != "GET" || k.result() != "TCP_HIT" {
			t.Errorf("status %d: key lost method or result: %q %q", tt.in, k.method(), k.result())
		}
	}
}
