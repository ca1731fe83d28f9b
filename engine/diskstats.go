package engine

// dirStats is one directory in /stats.
type dirStats struct {
	Path           string  `json:"path"`
	InService      bool    `json:"in_service"`
	Error          string  `json:"error,omitempty"`
	Objects        int64   `json:"objects"`
	Bytes          int64   `json:"bytes"`
	Capacity       int64   `json:"capacity"`
	Hits           int64   `json:"hits"`
	Misses         int64   `json:"misses"`
	Served         int64   `json:"served"`
	Promoted       int64   `json:"promoted"`
	SlowPauses     int64   `json:"slow_pauses"`
	SlowSkips      int64   `json:"slow_skips"`
	Stored         int64   `json:"stored"`
	Busy           int64   `json:"busy"`
	Skipped        int64   `json:"skipped"`
	Errors         int64   `json:"errors"`
	Corrupt        int64   `json:"corrupt"`
	ReadLatencyUS  int64   `json:"read_latency_us"`
	WriteLatencyUS int64   `json:"write_latency_us"`
	Rebuilding     bool    `json:"rebuilding"`
	RebuildDone    float64 `json:"rebuild_progress"`
}

// stats reports every directory for /stats.
func (t *diskTier) stats() []dirStats {
	out := make([]dirStats, 0, len(t.dirs))
	for _, d := range t.dirs {
		ds := dirStats{Path: d.path, Skipped: d.skipped.Load(), Served: d.served.Load(), Promoted: d.promoted.Load(),
			SlowPauses: d.slowPauses.Load(), SlowSkips: d.slowSkips.Load(), RebuildDone: 1}
		if d.st == nil {
			ds.Error = d.openErr.Error()
			out = append(out, ds)
			continue
		}
		s := d.st.Stats()
		ds.InService = !s.Failed
		if s.Err != nil {
			ds.Error = s.Err.Error()
		}
		ds.Objects, ds.Bytes, ds.Capacity = s.Objects, s.Bytes, s.Capacity
		ds.Hits, ds.Misses, ds.Stored, ds.Busy = s.Hits, s.Misses, s.Puts, s.Busy
		ds.Errors, ds.Corrupt = s.Errors, s.Corrupt
		ds.ReadLatencyUS, ds.WriteLatencyUS = s.ReadLatency.Microseconds(), s.WriteLatency.Microseconds()
		ds.Rebuilding = s.Rebuilding
		if s.Rebuilding {
			ds.RebuildDone = 0
			if s.RebuildTotal > 0 {
				ds.RebuildDone = float64(s.RebuildScanned) / float64(s.RebuildTotal)
			}
		}
		out = append(out, ds)
	}
	return out
}

// collect emits the disk tier's metrics, one series per directory (label
// dir), each metric's series together as the text format wants.
func (t *diskTier) collect(emit func(name, help, typ string, value float64, labels ...string)) {
	ds := t.stats()
	each := func(name, help, typ string, v func(*dirStats) int64, labels ...string) {
		for i := range ds {
			emit(name, help, typ, float64(v(&ds[i])), append([]string{"dir", ds[i].Path}, labels...)...)
		}
	}
	b := func(x bool) int64 {
		if x {
			return 1
		}
		return 0
	}
	each("disk_objects", "Objects on disk by directory.", "gauge", func(d *dirStats) int64 { return d.Objects })
	each("disk_bytes", "Body bytes on disk by directory.", "gauge", func(d *dirStats) int64 { return d.Bytes })
	each("disk_capacity_bytes", "Bytes a directory's segment ring occupies.", "gauge", func(d *dirStats) int64 { return d.Capacity })
	each("disk_lookups_total", "Disk index lookups by result.", "counter", func(d *dirStats) int64 { return d.Hits }, "result", "hit")
	each("disk_lookups_total", "Disk index lookups by result.", "counter", func(d *dirStats) int64 { return d.Misses }, "result", "miss")
	each("disk_hits_served_total", "Responses sent from disk.", "counter", func(d *dirStats) int64 { return d.Served })
	each("disk_promotions_total", "Disk hits copied into memory.", "counter", func(d *dirStats) int64 { return d.Promoted })
	each("disk_slow_pauses_total", "Times the directory was skipped for a while after a read slower than 500ms.", "counter", func(d *dirStats) int64 { return d.SlowPauses })
	each("disk_slow_skips_total", "Lookups answered as misses while the directory was paused for slowness.", "counter", func(d *dirStats) int64 { return d.SlowSkips })
	each("disk_writes_total", "Objects offered to disk by result: stored, busy (refused by write pacing), skipped (queue full).", "counter", func(d *dirStats) int64 { return d.Stored }, "result", "stored")
	each("disk_writes_total", "Objects offered to disk by result: stored, busy (refused by write pacing), skipped (queue full).", "counter", func(d *dirStats) int64 { return d.Busy }, "result", "busy")
	each("disk_writes_total", "Objects offered to disk by result: stored, busy (refused by write pacing), skipped (queue full).", "counter", func(d *dirStats) int64 { return d.Skipped }, "result", "skipped")
	each("disk_errors_total", "Disk reads and writes that failed.", "counter", func(d *dirStats) int64 { return d.Errors })
	each("disk_corrupt_total", "Records dropped at read for a failed checksum.", "counter", func(d *dirStats) int64 { return d.Corrupt })
	for i := range ds {
		emit("disk_read_latency_seconds", "Moving average of one disk read.", "gauge", float64(ds[i].ReadLatencyUS)/1e6, "dir", ds[i].Path)
	}
	for i := range ds {
		emit("disk_write_latency_seconds", "Moving average of one record's disk write.", "gauge", float64(ds[i].WriteLatencyUS)/1e6, "dir", ds[i].Path)
	}
	for i := range ds {
		emit("disk_rebuild_progress", "Share of the segments the index rebuild has scanned (1 when done).", "gauge", ds[i].RebuildDone, "dir", ds[i].Path)
	}
	each("disk_failed", "Whether a directory is out of service after an I/O error.", "gauge", func(d *dirStats) int64 { return b(!d.InService) })
}
