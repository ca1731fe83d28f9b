package metrics

import "strings"

// Label tables. An Outcome's method and result are reduced to an index into
// these tables, so the label values of edgeproxy_requests_total come from a
// fixed set however odd the traffic, and Record compares strings without
// allocating.

// other is the label value of every method and result outside the tables.
const other = "OTHER"

// methods are the methods with their own label value; index 0 is other.
var methods = [...]string{
	other, "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
	"TRACE", "PATCH", "PURGE",
}

// methodIndex returns m's index in methods, or 0. Methods are
// case-sensitive (RFC 9110 §9.1), so "get" is OTHER.
func methodIndex(m string) uint32 {
	switch m {
	case "GET":
		return 1
	case "HEAD":
		return 2
	case "POST":
		return 3
	case "PUT":
		return 4
	case "DELETE":
		return 5
	case "CONNECT":
		return 6
	case "OPTIONS":
		return 7
	case "TRACE":
		return 8
	case "PATCH":
		return 9
	case "PURGE":
		return 10
	}
	return 0
}

// baseResults are Squid result codes as engine/accesslog writes them;
// index 0 is other. An empty result counts as "NONE", as accesslog logs it.
var baseResults = [...]string{
	other,
	"NONE",
	"TCP_HIT",
	"TCP_MEM_HIT",
	"TCP_MISS",
	"TCP_REFRESH_MODIFIED",
	"TCP_REFRESH_UNMODIFIED",
	"TCP_REFRESH_FAIL_OLD",
	"TCP_REFRESH_FAIL_ERR",
	"TCP_CLIENT_REFRESH_MISS",
	"TCP_IMS_HIT",
	"TCP_INM_HIT",
	"TCP_NEGATIVE_HIT",
	"TCP_SWAPFAIL_MISS",
	"TCP_DENIED",
	"TCP_TUNNEL",
	"TCP_REDIRECT",
}

// suffixes are the endings Squid appends to a result code; a code keeps its
// suffix as a label value, since an aborted miss is worth telling apart.
var suffixes = [...]string{"", "_ABORTED", "_TIMEDOUT"}

// results is every label value a result can take: baseResults crossed with
// suffixes, built once so a scrape formats no label strings. other takes no
// suffix ("TCP_BOGUS_ABORTED" is OTHER), so resultIndex never returns the
// index of other with a suffix.
var results = func() []string {
	out := make([]string, 0, len(baseResults)*len(suffixes))
	for _, suf := range suffixes {
		out = append(out, other)
		for _, b := range baseResults[1:] {
			out = append(out, b+suf)
		}
	}
	return out
}()

// baseIndex maps a code without suffix to its index in baseResults.
var baseIndex = func() map[string]uint32 {
	m := make(map[string]uint32, len(baseResults)+1)
	for i, b := range baseResults[1:] {
		m[b] = uint32(i + 1)
	}
	m[""] = 1
	return m
}()

// resultIndex returns res's index in results, or 0.
func resultIndex(res string) uint32 {
	suf := 0
	for i := 1; i < len(suffixes); i++ {
		if strings.HasSuffix(res, suffixes[i]) {
			res, suf = res[:len(res)-len(suffixes[i])], i
			break
		}
	}
	b, ok := baseIndex[res]
	if !ok || (res == "" && suf != 0) {
		return 0
	}
	return uint32(suf*len(baseResults)) + b
}

// statusLabel bounds a status to 100-599; anything else counts as 0 and is
// written "000", as accesslog writes a missing status.
func statusLabel(s int) uint32 {
	if s < 100 || s > 599 {
		return 0
	}
	return uint32(s)
}

// A reqKey packs the labels of edgeproxy_requests_total into one word so a
// shard's map uses the runtime's fast 32-bit key path:
// method<<24 | result<<12 | status.
type reqKey uint32

func makeKey(method, result, status uint32) reqKey {
	return reqKey(method<<24 | result<<12 | status)
}

func (k reqKey) method() string { return methods[k>>24] }
func (k reqKey) result() string { return results[k>>12&0xfff] }
func (k reqKey) status() int    { return int(k & 0xfff) }
