package engine

import (
	"errors"
	"net"

	"github.com/panjf2000/gnet/v2"

	"edgeproxy/engine/origin"
)

// newOriginConfig is the configuration every loop's origin pool shares.
// Dials run on the worker pool, so their number is bounded like every other
// blocking job, and go through the destination dialer: its DNS cache, and
// the check of the resolved address (acl.allow_local_destinations) at dial
// time, as for the worker-side client and tunnels.
func (s *Server) newOriginConfig(maxHeader int) origin.Config {
	t := s.set.origin
	return origin.Config{
		Dial: func(addr string) (net.Conn, error) {
			if m := s.hops.byKey(addr); m != nil {
				return s.hops.dial(m, t.connect) // a peer or parent: exempt from the destination check
			}
			c, err := s.dest.DialTimeout(addr, t.connect)
			if err != nil && isTimeout(err) {
				return nil, errors.Join(ErrConnectTimeout, err)
			}
			return c, err
		},
		Go:          s.pool.Submit,
		HeadTimeout: t.firstByte,
		IdleTimeout: t.idle,
		MaxHeader:   maxHeader,
		MaxConns:    s.set.workers,
		Stats:       &s.originStats,
	}
}

// routeOpen, routeTraffic and routeClose hand the events of an origin
// connection to its Conn; ok is false for a client connection.
func routeOpen(c gnet.Conn) (gnet.Action, bool) {
	oc, ok := origin.Owner(c)
	if !ok {
		return gnet.None, false
	}
	return oc.OnOpen(c), true
}

func routeTraffic(c gnet.Conn) (gnet.Action, bool) {
	oc, ok := origin.Owner(c)
	if !ok {
		return gnet.None, false
	}
	return oc.OnTraffic(), true
}

func routeClose(c gnet.Conn) bool {
	oc, ok := origin.Owner(c)
	if ok {
		oc.OnClose()
	}
	return ok
}

// originStatus maps the errors of the origin package (RFC 9110 §15.6: 502
// for an invalid response, 504 for none in time).
func originStatus(err error) (int, string, bool) {
	switch {
	case errors.Is(err, origin.ErrMalformed):
		return 502, "the origin sent an invalid response", true
	case errors.Is(err, origin.ErrUpgrade):
		return 502, "the origin switched protocols unasked", true
	case errors.Is(err, origin.ErrHeadTimeout), errors.Is(err, origin.ErrIdleTimeout):
		return 504, "origin did not answer in time", true
	case errors.Is(err, origin.ErrClosed):
		return 502, "the origin closed the connection without a response", true
	case errors.Is(err, origin.ErrTooManyConns):
		return 503, "the proxy is at its limit of origin connections", true
	}
	return 0, "", false
}
