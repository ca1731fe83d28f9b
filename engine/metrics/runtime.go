package metrics

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// runtimeMetrics are the families the maintained Prometheus Go client
// collects itself: go_* (the Go runtime: goroutines, GC, memory),
// process_* (CPU, resident memory, open descriptors, start time, read from
// /proc) and edgeproxy_build_info. They are gathered at each scrape and
// appended after the Registry's own families.
type runtimeMetrics struct {
	reg   *prometheus.Registry
	build *prometheus.GaugeVec
}

func newRuntimeMetrics() *runtimeMetrics {
	rm := &runtimeMetrics{
		reg: prometheus.NewRegistry(),
		build: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgeproxy_build_info",
			Help: "Always 1; the labels name the running build: its version, the Go version it was built with, and the VCS revision when known.",
		}, []string{"version", "goversion", "revision"}),
	}
	rm.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		rm.build,
	)
	rm.setVersion("dev")
	return rm
}

func (rm *runtimeMetrics) setVersion(version string) {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	rm.build.Reset()
	rm.build.WithLabelValues(version, runtime.Version(), rev).Set(1)
}

// appendText gathers the runtime families and appends them in the text
// format.
func (rm *runtimeMetrics) appendText(b []byte) ([]byte, error) {
	fams, err := rm.reg.Gather()
	buf := bytes.NewBuffer(b)
	for _, f := range fams {
		if _, werr := expfmt.MetricFamilyToText(buf, f); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		err = fmt.Errorf("%w: runtime metrics: %v", ErrCollector, err)
	}
	return buf.Bytes(), err
}

// SetBuildInfo sets the version label of edgeproxy_build_info, the
// binary's version as its main package knows it; "dev" until set.
func (r *Registry) SetBuildInfo(version string) {
	r.runtime.setVersion(version)
}
