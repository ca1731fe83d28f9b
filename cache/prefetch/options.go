package prefetch

import (
	"fmt"
	"time"
)

// Options configures a Graph. The zero value of each field selects its
// default; negative values are errors for Validate and defaults for New.
type Options struct {
	// Window is w, the number of a client's previous requests that a request
	// is credited to. If zero, DefaultWindow is used; at most MaxWindow.
	Window int

	// Span, if positive, bounds how long after a client's request A its
	// request B counts for the arc A → B: B is credited to the requests
	// among its client's last Window that were made within Span before it.
	// Zero means no bound (the window alone decides).
	Span time.Duration

	// Threshold is k: arcs with p(A→B) ≥ k form A's prefetch set. If zero,
	// DefaultThreshold is used; at most 1.
	Threshold float64

	// MinCount is the number of requests of A, since the last ageing, below
	// which A has no prefetch set, and of sequences A → B below which B is
	// not in it: one request followed by B gives p = 1, which predicts
	// little. (On the sample traces, arcs seen once brought in most of the
	// wasted prefetch bytes: a one-time download after a page whose images
	// are requested twice has p = 0.5 from every image.) If zero, 1 is used (p alone decides).
	MinCount int

	// Proof is how many of a client's predictions it must have followed
	// (asked for while pending) before a Predictor fetches its
	// predictions. If zero, none: every client's are fetched.
	Proof int

	// ClientPrecision is the share of the predictions made for a client
	// that it must have followed for a Predictor to fetch its
	// predictions, counted from a prior of one in two. If zero, none.
	ClientPrecision float64

	// MaxNodes bounds the URLs the graph knows. If zero, DefaultMaxNodes.
	MaxNodes int

	// MaxArcs bounds the successors kept per URL. If zero, DefaultMaxArcs.
	MaxArcs int

	// MaxClients bounds the client windows kept. If zero, DefaultMaxClients.
	MaxClients int

	// AgeEvery is the number of observations between two halvings of every
	// count. If zero, 10 × MaxNodes is used.
	AgeEvery int
}

// Defaults of the proxy's prefetch.* keys that Options leaves to its
// users (zero Span, Proof and ClientPrecision mean none there), chosen on
// the blog-2016 log so that prefetching removes more misses than the
// uplink it adds (bench/trace/README.md).
const (
	DefaultSpan            = 5 * time.Second
	DefaultProof           = 1
	DefaultClientPrecision = 0.2
	DefaultMinCount        = 2
	DefaultMaxObject       = 256 << 10
)

// Defaults for the zero values of Options, and the largest window.
const (
	DefaultWindow     = 16
	DefaultThreshold  = 0.3
	DefaultMaxNodes   = 1 << 16
	DefaultMaxArcs    = 16
	DefaultMaxClients = 1 << 14
	MaxWindow         = 64
)

// Validate reports the first field out of range, wrapping ErrOptions.
func (o Options) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%w: %s %v, want %s", ErrOptions, field, v, want)
	}
	switch {
	case o.Window < 0 || o.Window > MaxWindow:
		return bad("window", o.Window, fmt.Sprintf("0 to %d", MaxWindow))
	case o.Span < 0:
		return bad("span", o.Span, "≥ 0")
	case o.Threshold < 0 || o.Threshold > 1 || o.Threshold != o.Threshold:
		return bad("threshold", o.Threshold, "0 to 1")
	case o.MinCount < 0:
		return bad("min_count", o.MinCount, "≥ 0")
	case o.Proof < 0:
		return bad("proof", o.Proof, "≥ 0")
	case o.ClientPrecision < 0 || o.ClientPrecision > 1 || o.ClientPrecision != o.ClientPrecision:
		return bad("client_precision", o.ClientPrecision, "0 to 1")
	case o.MaxNodes < 0:
		return bad("max_nodes", o.MaxNodes, "≥ 0")
	case o.MaxArcs < 0:
		return bad("max_arcs", o.MaxArcs, "≥ 0")
	case o.MaxClients < 0:
		return bad("max_clients", o.MaxClients, "≥ 0")
	case o.AgeEvery < 0:
		return bad("age_every", o.AgeEvery, "≥ 0")
	}
	return nil
}

// withDefaults fills in zero (and out-of-range) fields.
func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	o.Window = min(o.Window, MaxWindow)
	if o.Threshold <= 0 || o.Threshold != o.Threshold {
		o.Threshold = DefaultThreshold
	}
	o.Threshold = min(o.Threshold, 1)
	o.MinCount = max(o.MinCount, 1)
	o.Proof = max(o.Proof, 0)
	if o.ClientPrecision < 0 || o.ClientPrecision != o.ClientPrecision {
		o.ClientPrecision = 0
	}
	o.ClientPrecision = min(o.ClientPrecision, 1)
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	if o.MaxArcs <= 0 {
		o.MaxArcs = DefaultMaxArcs
	}
	if o.MaxClients <= 0 {
		o.MaxClients = DefaultMaxClients
	}
	if o.AgeEvery <= 0 {
		o.AgeEvery = 10 * o.MaxNodes
	}
	return o
}
