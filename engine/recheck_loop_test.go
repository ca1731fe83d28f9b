package engine

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"edgeproxy/engine/acl"
	"edgeproxy/engine/config"
)

// Issue 12: a dst rule left to decide on the resolved address (issue 11)
// holds for requests fetched on the loop too: cache-free misses and
// cacheable ones. (The cache-free loop path used to skip it.)
func TestDstRuleOnResolvedNameOnLoop(t *testing.T) {
	o := &echoOrigin{}
	origin := startOrigin(t, o)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(origin, "http://"))
	for _, cacheOn := range []bool{false, true} {
		var calls atomic.Int64
		s := startProxyWith(t, func(c *config.Config) {
			c.Rules = []acl.RuleConfig{{Action: "deny", Name: "no-loopback", Dst: []string{"127.0.0.0/8"}}, {Action: "allow"}}
			c.Cache.Enabled = &cacheOn
		}, fakeNames(&calls))
		for _, req := range []string{
			"GET http://origin.test:" + port + "/x HTTP/1.1\r\nHost: origin.test\r\n\r\n",
			"POST http://origin.test:" + port + "/up HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 3\r\n\r\nabc",
		} {
			rc := dialRaw(t, s)
			rc.send(req)
			method := strings.Fields(req)[0]
			resp := rc.response(method)
			if body := bodyOf(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "no-loopback") {
				t.Errorf("cache %v, %.60q: got %d %q, want 403 by no-loopback", cacheOn, req, resp.StatusCode, body)
			}
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) != 0 {
		t.Errorf("the origin saw %d requests", len(o.seen))
	}
}
