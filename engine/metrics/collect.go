package metrics

import (
	"fmt"
	"strings"
)

// Prefix begins the name of every metric a Registry exports.
const Prefix = "edgeproxy_"

// builtin are the metric names WritePrometheus writes itself; a collector
// may not reuse them.
var builtin = map[string]bool{
	"edgeproxy_requests_total":                true,
	"edgeproxy_bytes_total":                   true,
	"edgeproxy_cache_hits_total":              true,
	"edgeproxy_cache_lookups_total":           true,
	"edgeproxy_build_info":                    true,
	"edgeproxy_prefetch_requests_total":       true,
	"edgeproxy_scheme_requests_total":         true,
	"edgeproxy_origin_latency_seconds":        true,
	"edgeproxy_origin_latency_seconds_bucket": true,
	"edgeproxy_origin_latency_seconds_sum":    true,
	"edgeproxy_origin_latency_seconds_count":  true,
	"edgeproxy_client_connections":            true,
	"edgeproxy_origin_fetches_in_flight":      true,
	"edgeproxy_tunnels":                       true,
	"edgeproxy_workers_busy":                  true,
	"edgeproxy_accounting_tracked":            true,
	"edgeproxy_accounting_overflow_total":     true,
}

// SetCollector installs f, which WritePrometheus and WriteJSON call at each
// scrape to add values the engine keeps itself: cache size and objects,
// worker pool capacity, config reloads. f calls emit once per sample:
//
//	emit("cache_objects", "Objects in the cache.", "gauge", 1234)
//	emit("reloads_total", "Config reloads.", "counter", 2, "result", "ok")
//
// name gets Prefix unless it has it; typ is "counter", "gauge" or
// "untyped" ("" is untyped); labels alternate names and values. Samples of
// one name form one family, so give them one help and type. emit is valid
// only during the call to f. Calls to f are serialised, but they run on the
// scraping goroutine, concurrently with the rest of the engine. A nil f
// removes the collector.
func (r *Registry) SetCollector(f func(emit func(name, help, typ string, value float64, labels ...string))) {
	r.cmu.Lock()
	r.collect = f
	r.cmu.Unlock()
}

// A family is the samples a collector emitted under one name.
type family struct {
	name, help, typ string
	samples         []sample
}

type sample struct {
	labels []string // name, value, name, value...
	value  float64
}

// collected calls the collector and groups its samples by family, in the
// order the names were first emitted. Samples that cannot be exported are
// left out and reported by an error wrapping ErrCollector.
func (r *Registry) collected() ([]*family, error) {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	if r.collect == nil {
		return nil, nil
	}
	var (
		fams    []*family
		byName  = make(map[string]*family)
		first   string
		dropped int
	)
	r.collect(func(name, help, typ string, value float64, labels ...string) {
		if !strings.HasPrefix(name, Prefix) {
			name = Prefix + name
		}
		if typ == "" {
			typ = "untyped"
		}
		f := byName[name]
		ok := validSample(name, typ, labels) && (f == nil || f.typ == typ)
		if !ok {
			if dropped == 0 {
				first = name
			}
			dropped++
			return
		}
		if f == nil {
			f = &family{name: name, help: help, typ: typ}
			byName[name] = f
			fams = append(fams, f)
		}
		ls := make([]string, len(labels))
		for i, l := range labels {
			ls[i] = strings.ToValidUTF8(l, "\uFFFD")
		}
		f.samples = append(f.samples, sample{labels: ls, value: value})
	})
	if dropped > 0 {
		return fams, fmt.Errorf("%w: %q and %d more dropped", ErrCollector, first, dropped-1)
	}
	return fams, nil
}

// validSample reports whether a sample can be written: a free, valid metric
// name, a known type, and pairs of distinct, valid label names.
func validSample(name, typ string, labels []string) bool {
	if builtin[name] || !validName(name, true) || len(labels)%2 != 0 {
		return false
	}
	switch typ {
	case "counter", "gauge", "untyped":
	default:
		return false
	}
	for i := 0; i < len(labels); i += 2 {
		l := labels[i]
		if !validName(l, false) || strings.HasPrefix(l, "__") {
			return false
		}
		for j := 0; j < i; j += 2 {
			if labels[j] == l {
				return false
			}
		}
	}
	return true
}

// validName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*, the
// Prometheus metric name syntax, or without the colons a label name.
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		case c == ':' && colon:
		default:
			return false
		}
	}
	return true
}
