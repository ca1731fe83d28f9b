package engine

import (
	"time"

	"edgeproxy/engine/config"
)

// Kinds of background exchange: fetches no client waits for.
const (
	bgNone       uint8 = iota // a client's exchange
	bgRevalidate              // stale-while-revalidate or refresh-ahead
	bgPrefetch                // the prefetcher's fetch of a predicted object
)

// refreshAhead keeps popular objects fresh: a hit on an object in the last
// lead_percent of its freshness lifetime, whose key is requested at least
// min_rate times a second, revalidates it in the background, so that the
// requests after its expiry are hits too. Varnish and nginx leave that to
// the first client after expiry (or to stale-while-revalidate, which the
// origin must ask for); Akamai calls it prefresh.
type refreshAhead struct {
	rates   *rateMeter
	minRate float64
	lead    int64 // percent of the freshness lifetime
	budget  *budget
}

// rateWindow is the length of the rate meter's windows.
const rateWindow = 10 * time.Second

func newRefreshAhead(c *config.RefreshAhead, load func() float64) *refreshAhead {
	if !*c.Enabled {
		return nil
	}
	return &refreshAhead{
		rates:   newRateMeter(rateWindow),
		minRate: c.MinRate,
		lead:    int64(c.LeadPercent),
		budget:  newBudget(c.MaxConcurrent, int64(c.MaxBandwidth), c.MaxLoad, load),
	}
}

// due reports whether the fresh object hs just served, hashed to h, should
// be refreshed now, and if so has taken a place in the budget: the caller
// must end it with budget.done. It runs on the loop for every hit and
// allocates nothing; the rate and the budget are consulted only in the lead
// window.
func (ra *refreshAhead) due(hs *hitState, h uint64, now time.Time) bool {
	if hs.ttl <= 0 { // stale, served under the client's max-stale
		return false
	}
	lifetime := hs.ttl + hs.age
	if int64(hs.ttl)*100 > int64(lifetime)*ra.lead {
		return false
	}
	if ra.rates.rate(h, now.UnixNano()) < ra.minRate {
		return false
	}
	return ra.budget.take(now)
}
