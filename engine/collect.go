package engine

// collect hands the metrics registry the values read at scrape time: the
// connections and workers in use, the cache's tiers, the access log.
func (s *Server) collect(emit func(name, help, typ string, value float64, labels ...string)) {
	// The registry writes these two itself; they are set here, just before
	// it reads them. Busy workers are the exchanges, uploads and tunnels in
	// flight: the pool's own Running counts idle workers until they expire.
	s.stats.ClientConns().Set(s.conns.Load())
	s.stats.Workers().Set(s.inflight.Load())
	emit("workers_capacity", "The worker pool's size (workers).", "gauge", float64(s.pool.Cap()))
	if s.cache != nil {
		c := s.cache.Stats()
		emit("cache_objects", "Objects in the cache by tier.", "gauge", float64(c.SmallEntries), "tier", "memory")
		emit("cache_objects", "Objects in the cache by tier.", "gauge", float64(c.LargeObjects), "tier", "large")
		const held = "Bytes stored in the cache by tier (memory: estimated as its entries times the mean entry stored)."
		emit("cache_bytes", held, "gauge", float64(c.SmallBytes), "tier", "memory")
		emit("cache_bytes", held, "gauge", float64(c.LargeBytes), "tier", "large")
		const capacity = "Configured size of each cache tier (the memory tier is allocated at start-up)."
		emit("cache_capacity_bytes", capacity, "gauge", float64(c.SmallCapacity), "tier", "memory")
		emit("cache_capacity_bytes", capacity, "gauge", float64(c.LargeCapacity), "tier", "large")
		emit("cache_evictions_total", "Objects evicted by tier.", "counter", float64(c.SmallEvictions), "tier", "memory")
		emit("cache_evictions_total", "Objects evicted by tier.", "counter", float64(c.LargeEvictions), "tier", "large")
		emit("cache_stores_total", "Objects stored.", "counter", float64(c.Stores))
		emit("cache_large_refused_total", "Large objects the edge policy did not store: worth less than what they would evict.", "counter", float64(c.LargeRefused))
	}
	if a := s.cache.Admission(); a.Enabled() {
		st := a.Stats()
		emit("cache_admission_total", "Admission votes on objects that would displace stored ones, by decision.", "counter", float64(st.Admitted-st.GhostAdmits), "decision", "admitted")
		emit("cache_admission_total", "Admission votes on objects that would displace stored ones, by decision.", "counter", float64(st.GhostAdmits), "decision", "ghost")
		emit("cache_admission_total", "Admission votes on objects that would displace stored ones, by decision.", "counter", float64(st.Rejected), "decision", "rejected")
		emit("cache_admission_bytes", "Memory of the admission sketch and ghost list.", "gauge", float64(st.SketchBytes+st.GhostBytes))
	}
	if ra := s.ahead; ra != nil {
		emitBudget(emit, "refresh_ahead", "refreshes of popular objects before expiry", ra.budget)
	}
	if p := s.pf; p != nil {
		emitBudget(emit, "prefetch", "prefetches", p.budget)
		emit("prefetch_hits_total", "Prefetched objects used before they were evicted: the first hit on each object a prefetch stored.", "counter", float64(p.hits.Load()))
		if s.cache != nil {
			emit("prefetch_stored_total", "Objects a prefetch stored (prefetch_hits_total / this is the precision).", "counter", float64(s.cache.Stats().PrefetchStores))
		}
		emit("prefetch_skipped_fresh_total", "Predicted objects already fresh in the cache.", "counter", float64(p.fresh.Load()))
		emit("prefetch_skipped_unstorable_total", "Predicted objects not fetched because their last prefetch stored nothing.", "counter", float64(p.skipUnstorable.Load()))
		emit("prefetch_skipped_schedule_total", "Predicted objects not fetched outside prefetch.schedule.", "counter", float64(p.offHours.Load()))
		emit("prefetch_feed_dropped_total", "Requests the learner missed because its feed was full.", "counter", float64(p.dropped.Load()))
		emit("prefetch_seed_records_total", "Requests learned from prefetch.seed_log.", "counter", float64(p.seeded.Load()))
		g := p.graph.Stats()
		emit("prefetch_graph_nodes", "URLs the learner knows.", "gauge", float64(g.Nodes))
		emit("prefetch_graph_arcs", "Arcs of the learned dependency graph.", "gauge", float64(g.Arcs))
		emit("prefetch_graph_bytes", "Estimated memory of the learned graph.", "gauge", float64(g.Bytes))
		emit("prefetch_learned_total", "Requests the learner has observed.", "counter", float64(g.Observed))
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

// emitBudget exports a background budget's counters under prefix.
func emitBudget(emit func(name, help, typ string, value float64, labels ...string), prefix, what string, b *budget) {
	emit(prefix+"_started_total", "Background "+what+" started.", "counter", float64(b.started.Load()))
	skipped := "Background " + what + " not started, by the limit that stopped them."
	emit(prefix+"_skipped_total", skipped, "counter", float64(b.skipLoad.Load()), "reason", "load")
	emit(prefix+"_skipped_total", skipped, "counter", float64(b.skipConcurrency.Load()), "reason", "concurrency")
	emit(prefix+"_skipped_total", skipped, "counter", float64(b.skipBandwidth.Load()), "reason", "bandwidth")
	emit(prefix+"_running", "Background "+what+" in flight.", "gauge", float64(b.running.Load()))
	emit(prefix+"_bytes_total", "Bytes fetched by background "+what+".", "counter", float64(b.bytesDone.Load()))
}
