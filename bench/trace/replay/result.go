package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Result is what a replay measured.
type Result struct {
	Format    string  `json:"format"`
	Lines     int     `json:"log_lines"`
	Malformed int     `json:"log_malformed"`
	Skipped   int     `json:"log_skipped"` // lines of methods other than GET
	Clients   int     `json:"clients"`
	Seconds   float64 `json:"seconds"`

	Serial       bool    `json:"serial"`
	Speed        float64 `json:"speed"`
	Requests     int64   `json:"requests"`
	Mismatched   int64   `json:"size_mismatched"` // answers whose size was not the logged one: an older stored version
	Errors       int64   `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
	Hits         int64   `json:"hits"`
	HitRatio     float64 `json:"hit_ratio"`
	Bytes        int64   `json:"bytes"` // body bytes the clients received
	HitBytes     int64   `json:"hit_bytes"`
	ByteHitRatio float64 `json:"byte_hit_ratio"`

	OriginRequests int64 `json:"origin_requests"`
	UplinkBytes    int64 `json:"uplink_bytes"` // body bytes the origin served, prefetches included
	OriginNotFound int64 `json:"origin_not_found"`

	Prefetches          int64   `json:"prefetches"`
	PrefetchUseful      int64   `json:"prefetch_useful"` // used before evicted: the next client request for the URL was a hit
	PrefetchPrecision   float64 `json:"prefetch_precision"`
	PrefetchBytes       int64   `json:"prefetch_bytes"`
	WastedPrefetchBytes int64   `json:"wasted_prefetch_bytes"`
}

// result gathers the counts of r and o.
func (r *replayer) result(o *origin, t *trace) *Result {
	res := &Result{
		Format:         t.format,
		Lines:          t.lines,
		Malformed:      t.malformed,
		Skipped:        t.skipped,
		Serial:         r.cfg.Serial,
		Speed:          r.cfg.Speed,
		Mismatched:     r.mismatched.Load(),
		Clients:        len(t.clients),
		Requests:       r.requests.Load(),
		Errors:         r.errs.Load(),
		Hits:           r.hits.Load(),
		Bytes:          r.bytes.Load(),
		HitBytes:       r.hitBytes.Load(),
		OriginRequests: o.requests.Load(),
		UplinkBytes:    o.bytes.Load(),
		OriginNotFound: o.notFound.Load(),
	}
	if p := r.firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	res.HitRatio = ratio(res.Hits, res.Requests)
	res.ByteHitRatio = ratio(res.HitBytes, res.Bytes)
	o.mu.Lock()
	for _, p := range o.prefetches {
		res.Prefetches++
		res.PrefetchBytes += p.bytes
		if p.useful {
			res.PrefetchUseful++
		} else {
			res.WastedPrefetchBytes += p.bytes
		}
	}
	o.mu.Unlock()
	res.PrefetchPrecision = ratio(res.PrefetchUseful, res.Prefetches)
	return res
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// WriteText writes res for a person.
func (res *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "log\t%s, %d lines, %d malformed, %d other methods, %d clients\n", res.Format, res.Lines, res.Malformed, res.Skipped, res.Clients)
	fmt.Fprintf(tw, "requests\t%d in %.1f s (%d errors, %d answered with another size than logged)\n", res.Requests, res.Seconds, res.Errors, res.Mismatched)
	fmt.Fprintf(tw, "hit ratio\t%.4f (%d hits)\n", res.HitRatio, res.Hits)
	fmt.Fprintf(tw, "byte hit ratio\t%.4f (%d of %d bytes)\n", res.ByteHitRatio, res.HitBytes, res.Bytes)
	fmt.Fprintf(tw, "uplink\t%d bytes in %d origin requests\n", res.UplinkBytes, res.OriginRequests)
	fmt.Fprintf(tw, "prefetches\t%d, %d useful: precision %.4f\n", res.Prefetches, res.PrefetchUseful, res.PrefetchPrecision)
	fmt.Fprintf(tw, "prefetch bytes\t%d, %d wasted\n", res.PrefetchBytes, res.WastedPrefetchBytes)
	return tw.Flush()
}
