package engine

// collect hands the metrics registry the values read at scrape time: the
// connections and workers in use, the cache's tiers, the access log.
func (s *Server) collect(emit func(name, help, typ string, value float64, labels ...string)) {
	emit("client_connections", "Open client connections, tunnels and uploads included.", "gauge", float64(s.conns.Load()))
	emit("exchanges_in_flight", "Requests and tunnels being served by workers.", "gauge", float64(s.inflight.Load()))
	emit("workers_running", "Worker goroutines busy with origin fetches, uploads and tunnels.", "gauge", float64(s.pool.Running()))
	emit("workers_capacity", "The worker pool's size (workers).", "gauge", float64(s.pool.Cap()))
	if s.cache != nil {
		c := s.cache.Stats()
		emit("cache_objects", "Objects in the cache by tier.", "gauge", float64(c.SmallEntries), "tier", "memory")
		emit("cache_objects", "Objects in the cache by tier.", "gauge", float64(c.LargeObjects), "tier", "large")
		emit("cache_bytes", "Bytes held by the cache by tier (the memory tier is preallocated).", "gauge", float64(c.SmallCapacity), "tier", "memory")
		emit("cache_bytes", "Bytes held by the cache by tier (the memory tier is preallocated).", "gauge", float64(c.LargeBytes), "tier", "large")
		emit("cache_evictions_total", "Objects evicted by tier.", "counter", float64(c.SmallEvictions), "tier", "memory")
		emit("cache_evictions_total", "Objects evicted by tier.", "counter", float64(c.LargeEvictions), "tier", "large")
		emit("cache_lookups_total", "Cache lookups by result.", "counter", float64(c.Hits), "result", "hit")
		emit("cache_lookups_total", "Cache lookups by result.", "counter", float64(c.Misses), "result", "miss")
		emit("cache_stores_total", "Objects stored.", "counter", float64(c.Stores))
	}
	if s.disk != nil {
		s.disk.collect(emit)
	}
	if s.alog != nil {
		emit("access_log_dropped_total", "Access log records dropped because the log could not keep up.", "counter", float64(s.alog.Dropped()))
	}
	reloadOK := 1.0
	if s.LastReload() != nil {
		reloadOK = 0
	}
	emit("config_last_reload_successful", "Whether the last configuration reload succeeded.", "gauge", reloadOK)
}
