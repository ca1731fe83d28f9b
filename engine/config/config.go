package config

import (
	"os"
	"regexp"
	"slices"

	"edgeproxy/engine/acl"
)

// Config is the whole configuration of one edgeproxy process. The yaml tag of
// each field is its key in the file. A zero field means its default, so a
// zero Config passed through Validate is the default configuration; Load,
// Parse and Default return a Config that has been validated, with every
// default filled in and every pointer non-nil.
type Config struct {
	// Listen is the host:port the proxy accepts clients on. An empty host
	// listens on every interface; port 0 picks a free port.
	// If empty, "127.0.0.1:3128" is used.
	Listen string `yaml:"listen"`

	// Listeners are the addresses the proxy accepts clients on, each with
	// its mode: forward (clients configured to use the proxy), intercept
	// (NAT-redirected traffic) or tproxy (TPROXY-delivered traffic). When
	// set, it replaces Listen; if empty, Listen is one forward listener.
	Listeners []Listener `yaml:"listeners"`

	// Admin is the host:port of the admin listener (metrics, health), or
	// "off" to run without one. If empty, "127.0.0.1:9128" is used; in a
	// file, an explicit empty value is refused.
	Admin string `yaml:"admin"`

	// Name identifies this proxy in Via and X-Cache headers, so it must be
	// an HTTP token (no spaces, commas or slashes). If empty, the host name
	// is used, or "edgeproxy" when the host name is unknown or not a token.
	Name string `yaml:"name"`

	// Workers bounds the origin fetches in flight at once, from 1 to
	// 1,000,000. If zero, 1024 is used.
	Workers int `yaml:"workers"`

	// EventLoops is the number of event loops serving client connections,
	// from 1 to 256. If zero, there is one per CPU the Go runtime uses
	// (runtime.GOMAXPROCS); the engine resolves it at start-up.
	EventLoops int `yaml:"event_loops"`

	// UnderscoresInHeaders forwards request header fields whose name holds
	// an underscore. Off by default, as nginx's `underscores_in_headers
	// off`: such fields are dropped before forwarding, because a backend
	// that maps "_" and "-" to the same variable (CGI, PHP, many frameworks)
	// would otherwise take X_Forwarded_User for X-Forwarded-User.
	UnderscoresInHeaders bool `yaml:"underscores_in_headers"`

	// ForwardedFor says what the proxy does with X-Forwarded-For.
	// If empty, ForwardedOn is used.
	ForwardedFor ForwardedFor `yaml:"forwarded_for"`

	// Timeouts bounds how long each side of a connection may stay silent.
	Timeouts Timeouts `yaml:"timeouts"`

	// Limits bounds the memory and connections a client can make the proxy
	// spend.
	Limits Limits `yaml:"limits"`

	// Tunnel governs CONNECT requests.
	Tunnel Tunnel `yaml:"tunnel"`

	// FTP governs ftp:// URLs, which the proxy fetches itself.
	FTP FTP `yaml:"ftp"`

	// Gopher governs gopher:// URLs, which the proxy fetches itself.
	Gopher Gopher `yaml:"gopher"`

	// Cache sizes and tunes the response cache.
	Cache Cache `yaml:"cache"`

	// RefreshAhead revalidates popular objects before they expire.
	RefreshAhead RefreshAhead `yaml:"refresh_ahead"`

	// Prefetch learns from the access records and prefetches.
	Prefetch Prefetch `yaml:"prefetch"`

	// Engine tunes the event loops for bare metal.
	Engine Engine `yaml:"engine"`

	// ACL names the files of client networks allowed and denied.
	ACL ACL `yaml:"acl"`

	// Rules are the destination rules, checked in order; the first that
	// matches decides. With none, every destination is allowed that the
	// fixed destination policy allows (acl.safe_ports, no loopback unless
	// acl.allow_local_destinations, never the proxy's own ports; CONNECT
	// only to tunnel.allowed_ports). When none matches, the opposite of the
	// last rule's action applies, as in Squid.
	Rules []acl.RuleConfig `yaml:"rules"`

	// Auth configures proxy authentication; with no file, none is asked.
	Auth Auth `yaml:"auth"`

	// Log configures the access log.
	Log Log `yaml:"log"`

	// PAC configures the proxy auto-configuration file served at
	// /proxy.pac and /wpad.dat.
	PAC PAC `yaml:"pac"`

	// Errors configures the HTML error pages browsers are shown.
	Errors Errors `yaml:"errors"`

	// Cluster makes this node one of several that act as one cache.
	Cluster Cluster `yaml:"cluster"`

	// Upstream configures parent proxies.
	Upstream Upstream `yaml:"upstream"`
}

// Errors configures the HTML error pages, sent instead of one line of text
// when the request's Accept lists text/html.
type Errors struct {
	// TemplateDir is a directory of html/template files that replace the
	// built-in pages: error.html for every page, or a file named after one
	// page (ERR_ACCESS_DENIED.html, ERR_CONNECT_FAIL.html, ...) for that
	// page alone. A template that does not parse or run is a start-up (or
	// reload) error naming the file. If empty, the built-in page is used.
	TemplateDir string `yaml:"template_dir"`
}

// ACL holds the client address lists: one IPv4/IPv6 address or CIDR per
// line, # starts a comment.
type ACL struct {
	// AllowFile lists the client networks that may use the proxy. If empty,
	// loopback and the private ranges may.
	AllowFile string `yaml:"allow_file"`
	// DenyFile lists addresses refused even inside an allowed network.
	DenyFile string `yaml:"deny_file"`
	// AdminFile lists the client networks that may send PURGE on the proxy
	// port. If empty, loopback only.
	AdminFile string `yaml:"admin_file"`
	// AllowLocalDestinations lets requests and tunnels reach loopback
	// destinations (127.0.0.0/8, ::1, 0.0.0.0, ::, and names resolving to
	// them), which are refused by default as Squid's `http_access deny
	// to_localhost` does. The proxy's own listen and admin ports stay
	// unreachable through the proxy even with it set.
	AllowLocalDestinations bool `yaml:"allow_local_destinations"`
	// SafePorts lists the ports absolute-URI requests may reach, each a
	// port ("443") or an inclusive range ("1025-65535"), as Squid's
	// `http_access deny !Safe_ports`. If nil, Squid's Safe_ports: 80, 21,
	// 443, 70, 210, 280, 488, 591, 777 and 1025-65535; a non-nil pointer to
	// an empty list refuses every port. CONNECT is governed by
	// tunnel.allowed_ports instead.
	SafePorts *[]string `yaml:"safe_ports"`
}

// Auth configures proxy authentication (RFC 9110 §11.7).
type Auth struct {
	// Realm is the protection space named in challenges. If empty,
	// "edgeproxy" is used.
	Realm string `yaml:"realm"`
	// BasicFile is an htpasswd file: every hash Apache's htpasswd writes
	// (bcrypt, apr1 MD5, SHA-1, SHA-256/512-crypt, crypt(3) DES). A line
	// with a hash that cannot be checked is skipped with a warning.
	BasicFile string `yaml:"basic_file"`
	// DigestFile is an htdigest file (user:realm:HA1), for Digest with MD5
	// and, for lines with a SHA-256 HA1, SHA-256.
	DigestFile string `yaml:"digest_file"`
	// CacheTTL is how long verified credentials are remembered, so that a
	// bcrypt hash is not checked on every request. If zero, 5m is used.
	CacheTTL Duration `yaml:"cache_ttl"`
	// MaxFailures is how many failed authentications one client address
	// (an IPv6 /64) may make in a row, from 1 to 1,000,000; beyond it the
	// proxy answers 403 at once, without hashing, until the address has
	// regained attempts. If zero, 10 is used.
	MaxFailures int `yaml:"max_failures"`
	// FailureWindow is how long an address takes to regain all of
	// MaxFailures attempts (one every FailureWindow/MaxFailures). If zero,
	// 1m is used.
	FailureWindow Duration `yaml:"failure_window"`
	// HashWorkers is how many goroutines check costly (bcrypt, apr1)
	// passwords, apart from the origin workers, from 1 to 1,024. If zero,
	// half the CPUs the Go runtime uses (runtime.GOMAXPROCS), at least 1;
	// the engine resolves it at start-up.
	HashWorkers int `yaml:"hash_workers"`
	// HashQueue is how many costly password checks may wait for a hash
	// worker, from 1 to 1,000,000; when it is full the proxy answers 503 at
	// once. If zero, 64 is used.
	HashQueue int `yaml:"hash_queue"`
}

// Log configures the access log.
type Log struct {
	// Format is squid (Squid's native format), common or combined. If
	// empty, squid is used.
	Format string `yaml:"format"`
	// Path is the access log file, "-" for standard output, or "off". If
	// empty, "-" is used.
	Path string `yaml:"path"`
}

// LogOff is the value of Log.Path that disables the access log.
const LogOff = "off"

// PAC configures the proxy auto-configuration file.
type PAC struct {
	// DirectDomains are reached without the proxy: each matches itself and
	// its subdomains.
	DirectDomains []string `yaml:"direct_domains"`
	// Cluster makes the file send each URL straight to its owner among
	// cluster.peers, computed in the browser with the nodes' own CARP hash,
	// with the other nodes as fallbacks in the order that takes over. It
	// needs cluster.peers. If false, the file names the proxy it came from.
	Cluster bool `yaml:"cluster"`
}

// Engine holds event-loop settings for tuned machines.
type Engine struct {
	// PinCPUs locks each event loop to its own OS thread and pins that
	// thread to one CPU, spreading the loops over the CPUs the process may
	// use. Off by default: it pays only when interrupts are steered away
	// from those CPUs (see tuning/README.md).
	PinCPUs bool `yaml:"pin_cpus"`
}

// AdminOff is the value of Config.Admin that disables the admin listener.
const AdminOff = "off"

// ForwardedFor is the treatment of the X-Forwarded-For request header.
type ForwardedFor string

// The accepted values of Config.ForwardedFor; they are Squid's.
const (
	// ForwardedOn appends the client's address to X-Forwarded-For.
	ForwardedOn ForwardedFor = "on"
	// ForwardedOff appends "unknown" instead of the client's address.
	ForwardedOff ForwardedFor = "off"
	// ForwardedTransparent passes the client's header on unchanged.
	ForwardedTransparent ForwardedFor = "transparent"
	// ForwardedDelete removes the header.
	ForwardedDelete ForwardedFor = "delete"
)

// Timeouts holds the deadlines of the proxy's connections. Each must be
// greater than zero; a zero field means its default.
type Timeouts struct {
	// ClientHeader is how long a client may take to send a whole request
	// head, from its first byte. If zero, 30s is used.
	ClientHeader Duration `yaml:"client_header"`
	// KeepaliveIdle is how long an idle client connection is kept open
	// between requests. If zero, 60s is used.
	KeepaliveIdle Duration `yaml:"keepalive_idle"`
	// OriginConnect bounds DNS resolution plus TCP connect to an origin.
	// If zero, 10s is used.
	OriginConnect Duration `yaml:"origin_connect"`
	// OriginFirstByte bounds the wait for the first byte of an origin's
	// response once the request is sent. If zero, 60s is used.
	OriginFirstByte Duration `yaml:"origin_first_byte"`
	// ClientBody is the grace window of a streamed request body: the body
	// must keep arriving at Limits.MinBodyRate once this window has passed,
	// or the request gets 408 and its worker is freed (Apache's
	// mod_reqtimeout body=20,MinRate=500). Only time spent waiting for the
	// client counts, not time the origin takes to accept the body.
	// If zero, 20s is used.
	ClientBody Duration `yaml:"client_body"`
	// OriginIdle bounds the gap between two reads or writes on an origin
	// or CONNECT tunnel connection. If zero, 120s is used.
	OriginIdle Duration `yaml:"origin_idle"`
	// Drain is how long a graceful stop waits for requests in flight.
	// If zero, 30s is used.
	Drain Duration `yaml:"drain"`
}

// Limits bounds what a single client can make the proxy hold.
type Limits struct {
	// MaxHeaderBytes bounds a request head, request line included, from
	// 1KiB to 1MiB. If zero, 64KiB is used.
	MaxHeaderBytes Size `yaml:"max_header_bytes"`
	// MaxRequestLine bounds the request line, from 256B to MaxHeaderBytes.
	// If zero, 8KiB is used.
	MaxRequestLine Size `yaml:"max_request_line"`
	// MaxResponseHeader bounds an origin's response head, status line
	// included, from 1KiB to 1MiB; a larger one is answered 502 and its
	// connection closed. If zero, 64KiB is used.
	MaxResponseHeader Size `yaml:"max_response_header"`
	// MaxHeaders bounds the number of header fields in a request, from 1 to
	// 10,000. If zero, 100 is used.
	MaxHeaders int `yaml:"max_headers"`
	// MaxConnections bounds the client connections open at once, from 1 to
	// 10,000,000. If zero, 10,000 is used.
	MaxConnections int `yaml:"max_connections"`
	// MaxBodyBuffer is the largest request body buffered whole before it is
	// forwarded; larger or chunked bodies are streamed. At most 16MiB.
	// If zero, 64KiB is used.
	MaxBodyBuffer Size `yaml:"max_body_buffer"`
	// MaxPipeline bounds the bytes of pipelined requests a connection may
	// queue while one of its requests is in flight. At most 16MiB.
	// If zero, 256KiB is used.
	MaxPipeline Size `yaml:"max_pipeline"`
	// MaxConnectionsPerClient bounds the connections one client address may
	// have open at once; more get 503 and are closed. From 0 to
	// MaxConnections; zero means no per-address limit.
	MaxConnectionsPerClient int `yaml:"max_connections_per_client"`
	// MaxWorkersPerClient bounds the workers (origin fetches, streamed
	// uploads and CONNECT tunnels) one client address may hold at once; a
	// request past it gets 503 at once, as nginx's limit_conn answers, and
	// other clients are unaffected. From 0 to Workers; zero means a quarter
	// of Workers (at least 1).
	MaxWorkersPerClient int `yaml:"max_workers_per_client"`
	// MinBodyRate is the rate, in bytes per second, a streamed request body
	// must keep up once Timeouts.ClientBody has passed: every MinBodyRate
	// bytes received extend the body's time by one second. If zero, 500 is
	// used.
	MinBodyRate Size `yaml:"min_body_rate"`
}

// Tunnel governs CONNECT requests.
type Tunnel struct {
	// AllowedPorts lists the destination ports CONNECT may reach, each from
	// 1 to 65535. If nil, only 443 is allowed; a non-nil pointer to an empty
	// list refuses CONNECT to every port.
	AllowedPorts *[]int `yaml:"allowed_ports"`
}

// Allows reports whether CONNECT to port is permitted. A nil AllowedPorts
// means the default list, [443].
func (t Tunnel) Allows(port int) bool {
	if t.AllowedPorts == nil {
		return port == 443
	}
	return slices.Contains(*t.AllowedPorts, port)
}

// FTP governs ftp:// URLs (RFC 959): GET and HEAD fetch a file or list a
// directory, PUT stores a file. Control and data connections take
// timeouts.origin_connect to connect and timeouts.origin_idle for any wait
// for a reply or data.
type FTP struct {
	// AllowedPorts lists the ports ftp:// URLs may name, each from 1 to
	// 65535. If nil, only 21 is allowed; a non-nil pointer to an empty list
	// refuses every ftp:// URL.
	AllowedPorts *[]int `yaml:"allowed_ports"`
	// Upload allows PUT to ftp:// URLs (STOR). When it is on, the rules:
	// list decides as for any request (a rule can match method PUT and the
	// host); when it is off, every PUT to an ftp:// URL is refused with 403.
	// If false, uploads are refused.
	Upload bool `yaml:"upload"`
	// AnonymousPassword is the password sent with the user "anonymous"
	// when the URL and the request carry no credentials. If empty,
	// "edgeproxy@" is used.
	AnonymousPassword string `yaml:"anonymous_password"`
}

// Allows reports whether an ftp:// URL may name port. A nil AllowedPorts
// means the default list, [21].
func (f FTP) Allows(port int) bool {
	if f.AllowedPorts == nil {
		return port == 21
	}
	return slices.Contains(*f.AllowedPorts, port)
}

// Gopher governs gopher:// URLs (RFC 1436). The connection takes
// timeouts.origin_connect to connect and timeouts.origin_idle for any wait
// for data.
type Gopher struct {
	// AllowedPorts lists the ports gopher:// URLs may name, each from 1 to
	// 65535. If nil, only 70 is allowed; a non-nil pointer to an empty list
	// refuses every gopher:// URL.
	AllowedPorts *[]int `yaml:"allowed_ports"`
	// MaxAge is how long a Gopher response stays fresh in the cache (sent
	// as Cache-Control: max-age); Gopher carries no dates to derive it
	// from. If zero, 5m is used.
	MaxAge Duration `yaml:"max_age"`
}

// Allows reports whether a gopher:// URL may name port. A nil AllowedPorts
// means the default list, [70].
func (g Gopher) Allows(port int) bool {
	if g.AllowedPorts == nil {
		return port == 70
	}
	return slices.Contains(*g.AllowedPorts, port)
}

// The values of cache.policy.
const (
	CachePolicyEdge = "edge"
	CachePolicyLRU  = "lru"
)

// Cache sizes and tunes the response cache.
type Cache struct {
	// Enabled turns caching on; with it off every request goes to the
	// origin. If nil, true is used.
	Enabled *bool `yaml:"enabled"`
	// Memory is the size of the in-memory store of small objects, at least
	// 1MiB. If zero, 256MiB is used.
	Memory Size `yaml:"memory"`
	// LargeMemory is the size of the in-memory store of large objects, at
	// least 1MiB. If zero, 1GiB is used.
	LargeMemory Size `yaml:"large_memory"`
	// MaxObject is the largest response body that is cached, at most
	// LargeMemory. If zero, 64MiB is used, or LargeMemory when that is
	// smaller.
	MaxObject Size `yaml:"max_object"`
	// maxObjectDefault is the value Validate gave MaxObject when it was
	// zero, so that a later Validate (after a flag changed LargeMemory)
	// still treats it as the default; 0 when MaxObject was set.
	maxObjectDefault Size
	// HeuristicPercent is the share of a response's age since Last-Modified
	// that it is considered fresh when it carries no explicit lifetime
	// (RFC 9111 §4.2.2), from 0 to 100; 0 disables heuristic freshness.
	// If nil, 10 is used.
	HeuristicPercent *int `yaml:"heuristic_percent"`
	// HeuristicMax caps a heuristic freshness lifetime. If zero, 24h is used.
	HeuristicMax Duration `yaml:"heuristic_max"`
	// Policy is the large-object tier's replacement policy: "edge"
	// (GreedyDual with priority refs/size^0.8 and aging; a new object is
	// stored only if it outranks everything it would evict) or "lru". If
	// empty, "edge" is used.
	Policy string `yaml:"policy"`
	// Admission turns on the admission policy: once a memory tier is full, a
	// new object displaces stored ones only if a frequency sketch says it is
	// likely to be requested again (more requests for bigger objects), and
	// an object evicted lately comes back with one request fewer. If nil,
	// true is used.
	Admission *bool `yaml:"admission"`
	// QuickAbortMin, QuickAbortMax and QuickAbortPct decide, as Squid's
	// quick_abort_* directives do, whether a cacheable fetch whose client
	// has gone away is finished for the cache or abandoned: it is finished
	// when at most QuickAbortMin bytes are left, abandoned when more than
	// QuickAbortMax are left, and otherwise finished once QuickAbortPct
	// percent has arrived. A body of unknown length is abandoned. A fetch
	// that other clients follow (collapsed forwarding) is always finished.
	// If nil, 16KiB, 16KiB and 95 are used; QuickAbortMin at cache.max_object
	// or more always finishes, as Squid's -1 does.
	QuickAbortMin *Size `yaml:"quick_abort_min"`
	QuickAbortMax *Size `yaml:"quick_abort_max"`
	QuickAbortPct *int  `yaml:"quick_abort_pct"`

	// RefreshRules give heuristic freshness by URL, like Squid's
	// refresh_pattern: the first rule whose pattern matches a request's
	// URL (scheme://host[:port]/path?query) sets the freshness of a
	// response without an explicit expiry. If empty, HeuristicPercent and
	// HeuristicMax apply to every URL.
	RefreshRules []RefreshRule `yaml:"refresh_rules"`
	// Dirs are the disk tier's directories, one per disk. Objects stored in
	// memory are also written to disk, and objects larger than MaxObject
	// (up to a quarter of a directory's size) go to disk only. If empty,
	// the cache lives in memory only.
	Dirs []CacheDir `yaml:"dirs"`
}

// RefreshRule is one entry of cache.refresh_rules.
type RefreshRule struct {
	// Pattern is a regular expression (Go's RE2 syntax) matched against
	// the URL. Required.
	Pattern string `yaml:"pattern"`
	// IgnoreCase matches the pattern without regard to case (Squid's -i).
	IgnoreCase bool `yaml:"ignore_case"`
	// Min is the lifetime of a response without Last-Modified, and the
	// least lifetime of one with it.
	Min Duration `yaml:"min"`
	// Percent of the time since Last-Modified is the lifetime of a
	// response with it, from 0 to 100.
	Percent int `yaml:"percent"`
	// Max caps the lifetime; it must be at least Min.
	Max Duration `yaml:"max"`
	// Immutable makes every matching response fresh for Max, whatever
	// its own expiry says, and makes a client's reload (no-cache,
	// max-age=0) answer from the cache: for URLs that name one version
	// forever, such as .deb packages.
	Immutable bool `yaml:"immutable"`
}

// Regexp compiles the rule's pattern; Validate has checked that it does.
func (r *RefreshRule) Regexp() (*regexp.Regexp, error) {
	p := r.Pattern
	if r.IgnoreCase {
		p = "(?i)" + p
	}
	return regexp.Compile(p)
}

// CacheDir is one directory of the disk tier.
type CacheDir struct {
	// Path is the directory, created if missing; relative paths are taken
	// from the working directory.
	Path string `yaml:"path"`
	// Size bounds the bytes the directory holds, at least 4MiB.
	Size Size `yaml:"size"`
}

// RefreshAhead configures the background revalidation of popular objects
// shortly before they go stale, so that their clients keep getting hits.
type RefreshAhead struct {
	// Enabled turns refresh-ahead on. If nil, true is used.
	Enabled *bool `yaml:"enabled"`
	// MinRate is the request rate, in requests per second, from which an
	// object counts as popular. If zero, 0.5 is used.
	MinRate float64 `yaml:"min_rate"`
	// LeadPercent is how early, as a share of its freshness lifetime, a
	// popular object is refreshed: 10 refreshes an object fresh for 10
	// minutes in its last minute. From 1 to 50; if zero, 10 is used.
	LeadPercent int `yaml:"lead_percent"`
	// MaxConcurrent bounds the refreshes in flight. If zero, 8 is used.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxBandwidth bounds the bytes per second refreshes fetch. If zero,
	// 10MiB is used.
	MaxBandwidth Size `yaml:"max_bandwidth"`
	// MaxLoad is the share of workers busy (0 to 1) above which no refresh
	// starts. If zero, 0.5 is used.
	MaxLoad float64 `yaml:"max_load"`
}

// Prefetch configures learning from the access records which objects
// clients ask for after which, and fetching those into the cache before
// they are asked for.
type Prefetch struct {
	// Enabled turns the learner and the prefetcher on. Off by default:
	// prefetching spends uplink bytes on predictions.
	Enabled bool `yaml:"enabled"`
	// Window is w: a request for B after A by the same client counts for the
	// arc A → B when B is among the client's next w requests. From 1 to 64;
	// if zero, 16 is used.
	Window int `yaml:"window"`
	// Threshold is k: B is in A's prefetch set when the share of A's
	// requests that B followed is at least k. Above 0, at most 1; if zero,
	// 0.3 is used: with the other defaults, on the blog-2016 log,
	// prefetching then removes more misses, in requests and in bytes, than
	// the uplink it adds, at caches of 1%, 5% and 10% of the distinct
	// bytes, whether a prefetch lands at once or a second later
	// (bench/trace/README.md).
	Threshold float64 `yaml:"threshold"`
	// MinCount is how many times A must have been requested (since counts
	// were last aged) before it has a prefetch set. If zero, 2 is used.
	MinCount int `yaml:"min_count"`
	// Span bounds how long after A a request for B by the same client
	// counts for the arc A → B, and how long a prediction waits for its
	// client: what a page embeds follows it within seconds. If zero, 5s is
	// used; a negative value leaves the window alone to decide.
	Span Duration `yaml:"span"`
	// Proof is how many of a client's predictions it must have followed
	// (asked for while they were pending) before the predictions made for
	// it are fetched; those still pending are fetched then. Crawlers,
	// which fetch pages and not what pages embed, never qualify. If zero,
	// 1 is used; a negative value fetches every client's predictions.
	Proof int `yaml:"proof"`
	// ClientPrecision is the share of the predictions made for a client
	// that it must have asked for (counted from a prior of one in two) for
	// its predictions to be fetched: a client that stops following them
	// gets none fetched until it follows them again. If zero, 0.2 is
	// used; a negative value fetches whatever the client's record.
	ClientPrecision float64 `yaml:"client_precision"`
	// Schedule is when prefetches may run: "any", or local time ranges such
	// as "22:00-06:00" or "00:00-07:00,13:00-14:00". If empty, "any".
	Schedule string `yaml:"schedule"`
	// MaxBandwidth bounds the bytes per second prefetches fetch. If zero,
	// 5MiB is used.
	MaxBandwidth Size `yaml:"max_bandwidth"`
	// MaxObject is the largest response a prefetch fetches (at most
	// cache.max_object): a bigger one is not read, and the URL is not tried
	// again for a while. If zero, 256KiB is used: predictions of larger
	// objects were less often used before eviction.
	MaxObject Size `yaml:"max_object"`
	// MaxConcurrent bounds the prefetches in flight. If zero, 4 is used.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxLoad is the share of workers busy (0 to 1) above which no prefetch
	// starts. If zero, 0.5 is used.
	MaxLoad float64 `yaml:"max_load"`
	// MaxNodes bounds the URLs the learner keeps. If zero, 65536 is used.
	MaxNodes int `yaml:"max_nodes"`
	// SeedLog is an access log (Squid native or Common/Combined Log Format)
	// the learner reads at start-up, before it learns from live requests.
	// If empty, it starts with nothing learned.
	SeedLog string `yaml:"seed_log"`
}

// Default returns the configuration used when there is no file: a proxy on
// 127.0.0.1:3128, its admin listener on 127.0.0.1:9128, and an in-memory
// cache.
func Default() *Config {
	c := new(Config)
	if err := c.Validate(); err != nil {
		// The defaults are constants checked by TestDefault; only an edit
		// that breaks them can get here.
		panic("config: the defaults do not validate: " + err.Error())
	}
	return c
}

// hostName returns the machine's host name if it is a usable proxy name, and
// "edgeproxy" otherwise.
func hostName() string {
	if h, err := os.Hostname(); err == nil && validName(h) {
		return h
	}
	return "edgeproxy"
}
