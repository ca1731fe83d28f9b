package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"edgeproxy/engine/acl"
	"edgeproxy/engine/config"
)

// fakeNames makes s resolve every name under ".test" to 127.0.0.1, and
// counts the lookups.
func fakeNames(calls *atomic.Int64) func(*Server) {
	return func(s *Server) {
		s.dest.Resolver.Lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
			calls.Add(1)
			if strings.HasSuffix(host, ".test") {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
	}
}

func strictDest(c *config.Config) { c.ACL.AllowLocalDestinations = false }

// Issue 11: a name that resolves to loopback is refused, for forwards and
// tunnels, with a page naming the key; with the key set it is served, and
// the name is resolved once.
func TestNameResolvingToLoopbackRefused(t *testing.T) {
	o := &echoOrigin{}
	origin := startOrigin(t, o)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(origin, "http://"))
	var calls atomic.Int64
	s := startProxyWith(t, strictDest, fakeNames(&calls))
	rc := dialRaw(t, s)
	rc.send("GET http://origin.test:" + port + "/x HTTP/1.1\r\nHost: origin.test\r\n\r\n")
	resp := rc.response("GET")
	if body := bodyOf(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "acl.allow_local_destinations") {
		t.Errorf("GET: got %d %q, want 403 naming acl.allow_local_destinations", resp.StatusCode, body)
	}
	rc = dialRaw(t, s)
	rc.send("CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n")
	if resp := rc.response("CONNECT"); resp.StatusCode != 403 {
		t.Errorf("CONNECT: got %d, want 403", resp.StatusCode)
	}
	o.mu.Lock()
	if len(o.seen) != 0 {
		t.Errorf("the origin saw %d requests", len(o.seen))
	}
	o.mu.Unlock()

	calls.Store(0)
	s = startProxyWith(t, nil, fakeNames(&calls))
	c := proxyClient(s)
	for i := 0; i < 2; i++ {
		resp, err := c.Get("http://origin.test:" + port + "/y")
		if err != nil {
			t.Fatal(err)
		}
		if body := bodyOf(t, resp); body != "hello /y" {
			t.Errorf("with allow_local_destinations: got %q", body)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("origin.test looked up %d times, want 1", n)
	}
}

// Issue 11: a dst rule decides on the address a name resolves to, for a
// buffered request, a streamed upload and a tunnel; the rule that lets a
// name through on its address serves it.
func TestDstRuleOnResolvedName(t *testing.T) {
	o := &echoOrigin{}
	origin := startOrigin(t, o)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(origin, "http://"))
	var calls atomic.Int64
	s := startProxyWith(t, func(c *config.Config) {
		c.Rules = []acl.RuleConfig{{Action: "deny", Name: "no-loopback", Dst: []string{"127.0.0.0/8"}}, {Action: "allow"}}
		c.Tunnel.AllowedPorts = &[]int{443, 8443}
	}, fakeNames(&calls))
	for _, req := range []string{
		"GET http://origin.test:" + port + "/x HTTP/1.1\r\nHost: origin.test\r\n\r\n",
		"POST http://origin.test:" + port + "/up HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 3\r\n\r\nabc",
		"POST http://origin.test:" + port + "/up HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"CONNECT origin.test:8443 HTTP/1.1\r\nHost: origin.test:8443\r\n\r\n",
	} {
		rc := dialRaw(t, s)
		rc.send(req)
		method := strings.Fields(req)[0]
		resp := rc.response(method)
		if body := bodyOf(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "no-loopback") {
			t.Errorf("%.60q: got %d %q, want 403 by no-loopback", req, resp.StatusCode, body)
		}
	}
	o.mu.Lock()
	if len(o.seen) != 0 {
		t.Errorf("the origin saw %d requests", len(o.seen))
	}
	o.mu.Unlock()

	s = startProxyWith(t, func(c *config.Config) {
		c.Rules = []acl.RuleConfig{{Action: "allow", Name: "loopback-only", Dst: []string{"127.0.0.0/8"}}}
	}, fakeNames(&calls))
	resp, err := proxyClient(s).Get("http://origin.test:" + port + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	if body := bodyOf(t, resp); body != "hello /ok" {
		t.Errorf("allowed by dst: got %d %q", resp.StatusCode, body)
	}
}

// Issue 11: the origin clients that refresh-ahead and prefetching share with
// client requests (the loops' pools and the worker-side client, issue 12)
// connect only through the destination check.
func TestBackgroundClientChecked(t *testing.T) {
	origin := startOrigin(t, &echoOrigin{})
	s := startProxy(t, strictDest)
	c, err := s.originCfg.Dial(hostOf(origin))
	if c != nil {
		_ = c.Close()
	}
	if !errors.Is(err, acl.ErrLocalDestination) {
		t.Errorf("background fetch of a loopback origin: got %v, want ErrLocalDestination", err)
	}
}

// Issue 11: the safe-port rule refuses before anything is dialed, and is
// counted as a refusal.
func TestUnsafePortRefusedOnLoop(t *testing.T) {
	s := startProxy(t, nil)
	rc := dialRaw(t, s)
	rc.send("GET http://127.0.0.1:25/ HTTP/1.1\r\nHost: h\r\n\r\n")
	resp := rc.response("GET")
	if body := bodyOf(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "acl.safe_ports") {
		t.Errorf("got %d %q, want 403 naming acl.safe_ports", resp.StatusCode, body)
	}
	// The connection stays usable: the refusal had no body to skip.
	rc.send("GET http://127.0.0.1:22/ HTTP/1.1\r\nHost: h\r\n\r\n")
	if resp := rc.response("GET"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("second request: got %d, want 403", resp.StatusCode)
	}
}
