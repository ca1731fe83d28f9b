package metrics

import (
	"cmp"
	"io"
	"math"
	"slices"
	"strconv"
)

// WritePrometheus writes every metric to w in the Prometheus text
// exposition format, version 0.0.4 (Content-Type
// "text/plain; version=0.0.4; charset=utf-8"), built in memory and written
// with one Write. Families, in order:
//
//	edgeproxy_requests_total{method,status,result}  counter
//	edgeproxy_bytes_total{direction="in"|"out"}     counter
//	edgeproxy_cache_hits_total                      counter
//	edgeproxy_cache_lookups_total{result="hit"|"miss"} counter
//	edgeproxy_prefetch_requests_total               counter
//	edgeproxy_scheme_requests_total{scheme}         counter, http, ftp or gopher
//	edgeproxy_origin_latency_seconds                histogram, 1 ms to 30 s
//	edgeproxy_client_connections                    gauge
//	edgeproxy_origin_fetches_in_flight              gauge
//	edgeproxy_tunnels                               gauge
//	edgeproxy_workers_busy                          gauge
//	edgeproxy_accounting_tracked{table}             gauge, clients or users
//	edgeproxy_accounting_overflow_total{table}      counter, requests put in OtherKey
//
// then the collector's families, then go_*, process_* and
// edgeproxy_build_info from the Prometheus Go client's collectors. A write error is returned; failing that,
// an error wrapping ErrCollector if collector samples were left out.
func (r *Registry) WritePrometheus(w io.Writer) error {
	c := r.sum()
	fams, cerr := r.collected()

	b := make([]byte, 0, 4096+128*len(c.reqs))
	b = appendHead(b, "edgeproxy_requests_total", "Requests completed, by method, status and Squid result code.", "counter")
	for _, k := range sortedKeys(c.reqs) {
		b = append(b, "edgeproxy_requests_total{method=\""...)
		b = append(b, k.method()...)
		b = append(b, "\",status=\""...)
		b = appendStatus(b, k.status())
		b = append(b, "\",result=\""...)
		b = append(b, k.result()...)
		b = append(b, "\"} "...)
		b = appendInt(b, c.reqs[k])
	}

	b = appendHead(b, "edgeproxy_bytes_total", "Bytes received from clients (in) and sent to them (out), heads and bodies.", "counter")
	b = append(b, "edgeproxy_bytes_total{direction=\"in\"} "...)
	b = appendInt(b, c.bytesIn)
	b = append(b, "edgeproxy_bytes_total{direction=\"out\"} "...)
	b = appendInt(b, c.bytesOut)
	b = appendScalar(b, "edgeproxy_cache_hits_total", "Requests served from the cache.", "counter", c.hits)
	b = appendHead(b, "edgeproxy_cache_lookups_total", "Requests looked up in the cache, by result: hit (served from the cache, the same count as edgeproxy_cache_hits_total) or miss.", "counter")
	b = append(b, "edgeproxy_cache_lookups_total{result=\"hit\"} "...)
	b = appendInt(b, c.hits)
	b = append(b, "edgeproxy_cache_lookups_total{result=\"miss\"} "...)
	b = appendInt(b, max(c.lookups-c.hits, 0))
	b = appendScalar(b, "edgeproxy_prefetch_requests_total", "Requests made by the prefetcher, not counted elsewhere.", "counter", c.prefetch)
	b = appendHead(b, "edgeproxy_scheme_requests_total", "Requests completed, by URL scheme: ftp, gopher, and http for the rest (https and CONNECT included).", "counter")
	for i, name := range Schemes {
		b = append(b, "edgeproxy_scheme_requests_total{scheme=\""...)
		b = append(b, name...)
		b = append(b, "\"} "...)
		b = appendInt(b, c.schemes[i])
	}

	b = appendHistogram(b, c)

	b = appendScalar(b, "edgeproxy_client_connections", "Open client connections.", "gauge", r.clientConns.Value())
	b = appendScalar(b, "edgeproxy_origin_fetches_in_flight", "Origin fetches in flight.", "gauge", r.originConns.Value())
	b = appendScalar(b, "edgeproxy_tunnels", "Open CONNECT tunnels.", "gauge", r.tunnels.Value())
	b = appendScalar(b, "edgeproxy_workers_busy", "Busy workers of the worker pool.", "gauge", r.workers.Value())

	b = appendHead(b, "edgeproxy_accounting_tracked", "Clients or users accounted one by one; past the cap, traffic is accounted under \"other\".", "gauge")
	b = appendTable(b, "edgeproxy_accounting_tracked", "clients", r.clients.n.Load())
	b = appendTable(b, "edgeproxy_accounting_tracked", "users", r.users.n.Load())
	b = appendHead(b, "edgeproxy_accounting_overflow_total", "Requests accounted under \"other\" because their client or user table was full.", "counter")
	b = appendTable(b, "edgeproxy_accounting_overflow_total", "clients", r.clients.overflowed().Requests)
	b = appendTable(b, "edgeproxy_accounting_overflow_total", "users", r.users.overflowed().Requests)

	for _, f := range fams {
		b = appendHead(b, f.name, f.help, f.typ)
		for _, s := range f.samples {
			b = append(b, f.name...)
			for i := 0; i < len(s.labels); i += 2 {
				if i == 0 {
					b = append(b, '{')
				} else {
					b = append(b, ',')
				}
				b = append(b, s.labels[i]...)
				b = append(b, "=\""...)
				b = appendEscaped(b, s.labels[i+1], true)
				b = append(b, '"')
			}
			if len(s.labels) > 0 {
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = appendFloat(b, s.value)
			b = append(b, '\n')
		}
	}
	b, rerr := r.runtime.appendText(b)
	if _, err := w.Write(b); err != nil {
		return err
	}
	if cerr == nil {
		cerr = rerr
	}
	return cerr
}

// appendHistogram appends edgeproxy_origin_latency_seconds with cumulative
// buckets; the +Inf bucket equals the count by construction.
func appendHistogram(b []byte, c *counters) []byte {
	const name = "edgeproxy_origin_latency_seconds"
	b = appendHead(b, name, "Time from sending a request to the origin to receiving its response head.", "histogram")
	var cum int64
	for i, n := range c.origin {
		cum += n
		b = append(b, name+"_bucket{le=\""...)
		b = append(b, bucketLabels[i]...)
		b = append(b, "\"} "...)
		b = appendInt(b, cum)
	}
	b = append(b, name+"_sum "...)
	b = appendFloat(b, c.originSum)
	b = append(b, '\n')
	b = append(b, name+"_count "...)
	return appendInt(b, cum)
}

// appendHead appends the HELP and TYPE lines of a family.
func appendHead(b []byte, name, help, typ string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// appendScalar appends a family of one unlabelled sample.
func appendScalar(b []byte, name, help, typ string, v int64) []byte {
	b = appendHead(b, name, help, typ)
	b = append(b, name...)
	b = append(b, ' ')
	return appendInt(b, v)
}

func appendTable(b []byte, name, table string, v int64) []byte {
	b = append(b, name...)
	b = append(b, "{table=\""...)
	b = append(b, table...)
	b = append(b, "\"} "...)
	return appendInt(b, v)
}

// appendInt appends v and a newline.
func appendInt(b []byte, v int64) []byte {
	return append(strconv.AppendInt(b, v, 10), '\n')
}

// appendStatus appends a status as three digits; 0 is "000".
func appendStatus(b []byte, s int) []byte {
	if s == 0 {
		return append(b, "000"...)
	}
	return strconv.AppendInt(b, int64(s), 10)
}

// appendFloat appends v as the format spells it: shortest round-trip
// digits, "+Inf", "-Inf" or "NaN".
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendEscaped appends s with backslash and newline escaped, and in a
// label value the double quote too, as the text format requires.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// sortedKeys returns the label sets ordered by method, status, result
// label value, so output is stable from one scrape to the next.
func sortedKeys(m map[reqKey]int64) []reqKey {
	keys := make([]reqKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y reqKey) int {
		return cmp.Or(cmp.Compare(x.method(), y.method()),
			cmp.Compare(x.status(), y.status()),
			cmp.Compare(x.result(), y.result()))
	})
	return keys
}

// bucketLabels are the le labels of the origin buckets, "0.001" to "30"
// and "+Inf".
var bucketLabels = func() (l [nBuckets + 1]string) {
	for i, d := range originBounds {
		l[i] = strconv.FormatFloat(d.Seconds(), 'g', -1, 64)
	}
	l[nBuckets] = "+Inf"
	return l
}()
