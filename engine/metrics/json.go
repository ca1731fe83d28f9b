package metrics

import (
	"encoding/json"
	"io"
	"math"
	"strings"
)

// WriteJSON writes the counters WritePrometheus writes, the accounting
// maps and extra to w as one JSON object, for /stats:
//
//	{"requests": 12, "requests_by": [{"method": "GET", "status": 200,
//	 "result": "TCP_HIT", "count": 9}, ...], "cache_hits": 9,
//	 "prefetch_requests": 0, "requests_by_scheme": {"http": 12, "ftp": 0,
//	 "gopher": 0}, "bytes_in": 1200, "bytes_out": 51000,
//	 "origin_latency_seconds": {"count": 3, "sum": 0.31,
//	   "buckets": [{"le": "0.001", "count": 0}, ..., {"le": "+Inf", "count": 3}]},
//	 "client_connections": 4, "origin_fetches_in_flight": 1, "tunnels": 0,
//	 "workers_busy": 2,
//	 "accounting_tracked": {"clients": 3, "users": 1},
//	 "accounting_overflow": {"clients": 0, "users": 0},
//	 "collected": {"cache_objects": 1234, "reloads_total":
//	   [{"labels": {"result": "ok"}, "value": 2}]},
//	 "clients": {"192.0.2.7": {"requests": 12, "hits": 9, "bytes_in": 1200,
//	   "bytes_out": 51000}},
//	 "users": {"alice": {...}}}
//
// Bucket counts are cumulative, as in Prometheus. Status 0 stands for a
// status outside 100-599. Collector values are keyed by name without
// Prefix: a number for a single unlabelled sample, else a list; a value
// that is not finite is null. extra's keys are added at the top level,
// except those that name a field above, which are left out. Keys are
// sorted. It returns a write error, or failing that an error wrapping
// ErrCollector if collector samples were left out.
func (r *Registry) WriteJSON(w io.Writer, extra map[string]any) error {
	c := r.sum()
	fams, cerr := r.collected()
	clients, users := r.Accounts()

	type row struct {
		Method string `json:"method"`
		Status int    `json:"status"`
		Result string `json:"result"`
		Count  int64  `json:"count"`
	}
	rows := make([]row, 0, len(c.reqs))
	for _, k := range sortedKeys(c.reqs) {
		rows = append(rows, row{k.method(), k.status(), k.result(), c.reqs[k]})
	}

	type bucket struct {
		LE    string `json:"le"`
		Count int64  `json:"count"`
	}
	buckets := make([]bucket, len(c.origin))
	var cum int64
	for i, n := range c.origin {
		cum += n
		buckets[i] = bucket{bucketLabels[i], cum}
	}

	doc := map[string]any{
		"requests":          c.requests,
		"requests_by":       rows,
		"cache_hits":        c.hits,
		"prefetch_requests": c.prefetch,
		"requests_by_scheme": map[string]int64{
			Schemes[0]: c.schemes[0], Schemes[1]: c.schemes[1], Schemes[2]: c.schemes[2],
		},
		"bytes_in":  c.bytesIn,
		"bytes_out": c.bytesOut,
		"origin_latency_seconds": map[string]any{
			"count": cum, "sum": c.originSum, "buckets": buckets,
		},
		"client_connections":       r.clientConns.Value(),
		"origin_fetches_in_flight": r.originConns.Value(),
		"tunnels":                  r.tunnels.Value(),
		"workers_busy":             r.workers.Value(),
		"accounting_tracked": map[string]int64{
			"clients": r.clients.n.Load(), "users": r.users.n.Load(),
		},
		"accounting_overflow": map[string]int64{
			"clients": r.clients.overflowed().Requests,
			"users":   r.users.overflowed().Requests,
		},
		"collected": collectedJSON(fams),
		"clients":   clients,
		"users":     users,
	}
	for k, v := range extra {
		if _, taken := doc[k]; !taken {
			doc[k] = v
		}
	}
	if err := json.NewEncoder(w).Encode(doc); err != nil {
		return err
	}
	return cerr
}

// collectedJSON shapes the collector's families for WriteJSON.
func collectedJSON(fams []*family) map[string]any {
	type labelled struct {
		Labels map[string]string `json:"labels"`
		Value  *float64          `json:"value"`
	}
	out := make(map[string]any, len(fams))
	for _, f := range fams {
		name := strings.TrimPrefix(f.name, Prefix)
		if len(f.samples) == 1 && len(f.samples[0].labels) == 0 {
			out[name] = finite(f.samples[0].value)
			continue
		}
		list := make([]labelled, len(f.samples))
		for i, s := range f.samples {
			ls := make(map[string]string, len(s.labels)/2)
			for j := 0; j < len(s.labels); j += 2 {
				ls[s.labels[j]] = s.labels[j+1]
			}
			list[i] = labelled{ls, finite(s.value)}
		}
		out[name] = list
	}
	return out
}

// finite returns &v, or nil (JSON null) for NaN and infinities, which JSON
// cannot spell.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
