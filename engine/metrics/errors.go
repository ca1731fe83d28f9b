package metrics

import "errors"

// ErrCollector means the collector emitted a sample that could not be
// exported: an odd label list, an invalid label name, or a metric name
// taken by a built-in family or by an earlier sample of another type. The
// sample is left out and the rest of the output is written.
var ErrCollector = errors.New("metrics: bad collector sample")
