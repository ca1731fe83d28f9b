package sim

import (
	"fmt"
	"math"
	"strings"
	"time"

	"edgeproxy/cache/prefetch"
)

// Storer is a Policy that can also store an object no request asked for:
// what a prefetch does. Store goes through the policy's admission, as a
// miss does.
type Storer interface {
	Policy
	// Contains reports whether object id is stored.
	Contains(id int32) bool
	// Store stores object id as a miss would, and reports whether the
	// policy admitted it.
	Store(id int32) bool
}

// PrefetchConfig is a prefetcher under simulation: the learner the proxy
// runs (prefetch.Predictor over a prefetch.Graph) with its options, and
// the proxy's bound on what it fetches.
type PrefetchConfig struct {
	Options   prefetch.Options
	MaxObject int64 // objects larger than this are not prefetched (prefetch.max_object); 0: no bound
	// Lag is how many requests of the trace are answered while a
	// prefetch is in flight: it is stored before request i+Lag+1 if
	// issued after request i. A request for the object meanwhile joins
	// the prefetch (collapsed forwarding): a miss, but no second fetch,
	// and the prefetch counts as not used. Zero: prefetches land at once.
	// A serial replay through the proxy behaves like a Lag of a few
	// requests (bench/trace/README.md).
	Lag int
	// Delay is the same in the log's time: a prefetch issued at time T
	// is stored before the first request logged at T+Delay or later
	// (with a Lag too, once both have passed). A browser asks for what a
	// page embeds within a second or two of the page.
	Delay time.Duration
}

// PrefetchResult is one simulation with prefetching beside the same policy
// without it, on the same trace and capacity.
//
// Definitions (issue 17): a prefetch is used if the next request for its
// object is a hit, that is, before the object was evicted; precision is
// used / prefetches. Uplink is the bytes of client misses (less those
// that joined a prefetch in flight, with a Lag) plus the bytes prefetched.
// Misses removed is the share of the misses without
// prefetching that prefetching removed, net of the misses its evictions
// caused, in requests and in bytes; extra uplink is the uplink prefetching
// adds, (miss bytes + prefetch bytes − miss bytes without) / miss bytes
// without. Of the prefetched bytes, the used ones would have been fetched
// anyway, later; the wasted ones (not used before eviction) are the cost.
type PrefetchResult struct {
	Result
	Base Result `json:"base"` // the same policy without prefetching

	Threshold     float64 `json:"threshold"`
	Prefetches    int64   `json:"prefetches"`     // candidates fetched: not stored at the time
	PrefetchBytes int64   `json:"prefetch_bytes"` // their bytes
	Stored        int64   `json:"prefetch_stored"`
	Used          int64   `json:"prefetch_used"` // used before evicted
	UsedBytes     int64   `json:"prefetch_used_bytes"`

	Collapsed      int64 `json:"collapsed"` // misses that joined a prefetch in flight (Lag)
	CollapsedBytes int64 `json:"collapsed_bytes"`

	Misses        int64 `json:"misses"`
	MissBytes     int64 `json:"miss_bytes"`
	BaseMisses    int64 `json:"base_misses"`
	BaseMissBytes int64 `json:"base_miss_bytes"`
	// Misses without prefetching that no causal predictor working from the
	// same client's earlier requests can remove: the first request of each
	// object, and a client's first request within Span (or its first
	// ever), with their bytes.
	FirstMisses        int64 `json:"first_misses"`
	FirstMissBytes     int64 `json:"first_miss_bytes"`
	SessionStarts      int64 `json:"session_start_misses"`
	SessionStartsBytes int64 `json:"session_start_miss_bytes"`

	MissesRemoved    float64 `json:"misses_removed"`
	MissBytesRemoved float64 `json:"miss_bytes_removed"`
	ExtraUplink      float64 `json:"extra_uplink"`
	PrefetchUplink   float64 `json:"prefetch_uplink"` // prefetch bytes / base miss bytes
	WastedUplink     float64 `json:"wasted_uplink"`   // prefetch bytes not used before eviction / base miss bytes
	Precision        float64 `json:"precision"`
	BytePrecision    float64 `json:"byte_precision"` // UsedBytes / PrefetchBytes
}

// RunPrefetch plays t through base (a fresh policy, without prefetching)
// and through p with the prefetcher cfg describes, as the proxy runs it:
// for each request, in order, p answers it; the predictor observes it
// (client, URL, logged time); then each prediction it returns whose
// object p does not hold and is no larger than MaxObject is fetched:
// stored through p's admission.
func RunPrefetch(name string, t *Trace, capacity int64, base Policy, p Storer, cfg PrefetchConfig) PrefetchResult {
	res := PrefetchResult{Threshold: cfg.Options.Threshold}
	res.runBase(name, t, capacity, base, cfg.Options.Span)
	res.Result = Result{Policy: name + "+prefetch", Capacity: capacity}
	pr := prefetch.NewPredictor(cfg.Options)
	pending := make([]bool, t.Objects)  // stored by a prefetch, not yet asked for
	inflight := make([]int8, t.Objects) // 1: a prefetch in flight; 2: and a request joined it
	type fetch struct {
		due int   // request index
		at  int64 // logged unix ms
		id  int32
	}
	var queue []fetch // prefetches in flight, in order of issue
	land := func(id int32) {
		joined := inflight[id] == 2
		inflight[id] = 0
		if p.Store(id) {
			res.Stored++
			pending[id] = !joined
		}
	}
	index := make(map[string]int32, t.Objects)
	for id, u := range t.URLs {
		index[u] = int32(id)
	}
	var (
		set    []prefetch.Candidate
		client []byte
	)
	for i, id := range t.IDs {
		for len(queue) > 0 && queue[0].due <= i && queue[0].at <= t.Times[i] {
			land(queue[0].id)
			queue = queue[1:]
		}
		size := t.Sizes[id]
		res.Requests++
		res.Bytes += size
		hit := false
		if inflight[id] != 0 {
			inflight[id] = 2
			res.Collapsed++
			res.CollapsedBytes += size
		} else {
			hit = p.Access(i)
		}
		if hit {
			res.Hits++
			res.HitBytes += size
		} else {
			res.Misses++
			res.MissBytes += size
		}
		if pending[id] {
			pending[id] = false
			if hit {
				res.Used++
				res.UsedBytes += size
			}
		}
		client = appendClient(client[:0], t.Clients[i])
		set = pr.Observe(string(client), t.URLs[id], time.UnixMilli(t.Times[i]), set[:0])
		for _, c := range set {
			cid, ok := index[c.URL]
			if !ok || inflight[cid] != 0 || p.Contains(cid) || cfg.MaxObject > 0 && t.Sizes[cid] > cfg.MaxObject {
				continue
			}
			res.Prefetches++
			res.PrefetchBytes += t.Sizes[cid]
			if cfg.Lag <= 0 && cfg.Delay <= 0 {
				land(cid)
				continue
			}
			inflight[cid] = 1
			queue = append(queue, fetch{due: i + 1 + max(cfg.Lag, 0), at: t.Times[i] + cfg.Delay.Milliseconds(), id: cid})
		}
	}
	res.derive()
	return res
}

// runBase plays t through base, as Run does, into res.Base, and counts
// the misses no same-client predictor can remove.
func (res *PrefetchResult) runBase(name string, t *Trace, capacity int64, base Policy, span time.Duration) {
	res.Base = Result{Policy: name, Capacity: capacity}
	seen := make([]bool, t.Objects)
	last := make(map[int32]int64)
	for i, id := range t.IDs {
		size := t.Sizes[id]
		res.Base.Requests++
		res.Base.Bytes += size
		hit := base.Access(i)
		c := t.Clients[i]
		prev, ok := last[c]
		last[c] = t.Times[i]
		first := !seen[id]
		seen[id] = true
		switch {
		case hit:
			res.Base.Hits++
			res.Base.HitBytes += size
		case first:
			res.FirstMisses++
			res.FirstMissBytes += size
		case !ok || span > 0 && t.Times[i]-prev > span.Milliseconds():
			res.SessionStarts++
			res.SessionStartsBytes += size
		}
	}
	res.Base.HitRatio = float64(res.Base.Hits) / math.Max(1, float64(res.Base.Requests))
	res.Base.ByteHitRatio = float64(res.Base.HitBytes) / math.Max(1, float64(res.Base.Bytes))
}

func (res *PrefetchResult) derive() {
	res.BaseMisses = res.Base.Requests - res.Base.Hits
	res.BaseMissBytes = res.Base.Bytes - res.Base.HitBytes
	res.HitRatio = float64(res.Hits) / math.Max(1, float64(res.Requests))
	res.ByteHitRatio = float64(res.HitBytes) / math.Max(1, float64(res.Bytes))
	bm, bb := math.Max(1, float64(res.BaseMisses)), math.Max(1, float64(res.BaseMissBytes))
	res.MissesRemoved = float64(res.BaseMisses-res.Misses) / bm
	res.MissBytesRemoved = float64(res.BaseMissBytes-res.MissBytes) / bb
	res.ExtraUplink = float64(res.MissBytes-res.CollapsedBytes+res.PrefetchBytes-res.BaseMissBytes) / bb
	res.PrefetchUplink = float64(res.PrefetchBytes) / bb
	res.WastedUplink = float64(res.PrefetchBytes-res.UsedBytes) / bb
	res.Precision = float64(res.Used) / math.Max(1, float64(res.Prefetches))
	res.BytePrecision = float64(res.UsedBytes) / math.Max(1, float64(res.PrefetchBytes))
}

// appendClient appends a client's name for the learner: its number.
func appendClient(dst []byte, c int32) []byte {
	for {
		dst = append(dst, byte('0'+c%10))
		if c /= 10; c == 0 {
			return dst
		}
	}
}

// CurveTable renders prefetch results, one row each (typically one per
// threshold), as a markdown table: misses removed in requests and bytes,
// extra uplink, the prefetched and wasted bytes, and precision, all
// against the same policy without prefetching.
func CurveTable(rows []PrefetchResult) string {
	var b strings.Builder
	b.WriteString("| threshold | misses removed (requests) | misses removed (bytes) | extra uplink | prefetched | wasted | precision | HR | BHR |\n")
	b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	pc := func(x float64) string { return fmt.Sprintf("%+.1f%%", 100*x) }
	for _, r := range rows {
		fmt.Fprintf(&b, "| %.2f | %s | %s | %s | %.1f%% | %.1f%% | %.2f | %.3f (%.3f) | %.3f (%.3f) |\n",
			r.Threshold, pc(r.MissesRemoved), pc(r.MissBytesRemoved), pc(r.ExtraUplink),
			100*r.PrefetchUplink, 100*r.WastedUplink, r.Precision,
			r.HitRatio, r.Base.HitRatio, r.ByteHitRatio, r.Base.ByteHitRatio)
	}
	return b.String()
}

// Unpredictable describes the share of r's base misses no same-client
// predictor can remove.
func (r PrefetchResult) Unpredictable() string {
	bm, bb := math.Max(1, float64(r.BaseMisses)), math.Max(1, float64(r.BaseMissBytes))
	return fmt.Sprintf("of %d misses without prefetching (%.1f MiB), %.1f%% (%.1f%% of bytes) are an object's first request and %.1f%% (%.1f%%) a client's first request in a session",
		r.BaseMisses, float64(r.BaseMissBytes)/(1<<20),
		100*float64(r.FirstMisses)/bm, 100*float64(r.FirstMissBytes)/bb,
		100*float64(r.SessionStarts)/bm, 100*float64(r.SessionStartsBytes)/bb)
}
