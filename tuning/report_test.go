package tuning

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	settings := []Setting{
		{Name: "net.core.somaxconn", Current: "4096", Recommended: ">= 8192", OK: false, Effect: "stalls"},
		{Name: "RLIMIT_NOFILE", Current: "1048576", Recommended: ">= 3024", OK: true, Effect: "EMFILE"},
		{Name: "fs.nr_open", Current: Unavailable, Recommended: ">= 3024", OK: false, Effect: "limit"},
	}
	var b strings.Builder
	Report(&b, settings)
	want := "" +
		"SETTING             CURRENT      RECOMMENDED  STATUS   EFFECT\n" +
		"net.core.somaxconn  4096         >= 8192      CHANGE   stalls\n" +
		"RLIMIT_NOFILE       1048576      >= 3024      ok       EMFILE\n" +
		"fs.nr_open          unavailable  >= 3024      unknown  limit\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWarnings(t *testing.T) {
	h := fakeHost(stockFiles(), 65536, 65536)
	tests := []struct {
		name string
		load Load
		want []string
	}{
		{
			name: "load above the stock host",
			load: Load{MaxConnections: 50000, Backlog: 8192, EventLoops: 4},
			want: []string{
				"net.core.somaxconn is 4096, want >= 8192: accept queue overflows drop SYNs and handshake ACKs under burst: clients see 1s/3s connect stalls",
				"net.ipv4.ip_local_port_range is 32768 60999 (28232 ports), want >= 50000 ports: too few ports for origin connections to one origin address: dials fail with EADDRNOTAVAIL",
				"RLIMIT_NOFILE is 65536, want >= 101024: accept and origin dials fail with EMFILE once the connections' sockets exceed it",
				"cgroup cpu quota is 2.5 CPUs, want none or >= 4 CPUs: event loops beyond the quota are throttled for the rest of each period: latency spikes",
			},
		},
		{
			name: "load within the stock host",
			load: Load{MaxConnections: 100, Backlog: 1024, EventLoops: 2},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := warnings(h, tt.load)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d warnings %q, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got %q, want %q", got[i], tt.want[i])
				}
			}
		})
	}
}
