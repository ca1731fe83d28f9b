package engine

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"time"

	"edgeproxy/codec"
	"edgeproxy/engine/origin"
)

// Parents on the worker path (issues 12, 14). Cache fills, revalidations,
// background fetches and cache-free misses of http URLs run on the loop's
// origin client and reach their parent through hopOnLoop (hop.go); what
// runs on a worker (https URLs, streamed uploads, requests whose dst rules
// wait for the resolved address) goes through the worker-side origin
// client to the parent the same hashing picks (runViaParent):
//
//   - http: to the parent, with the absolute-form request head and the
//     parent's Proxy-Authorization that hopOnLoop sends;
//   - https: inside a CONNECT tunnel through the parent (connectVia), TLS to
//     the origin inside.
//
// CONNECT from clients goes through the parent the same way (tunnelVia).

// parentRefusal is a parent's answer other than 2xx to CONNECT.
type parentRefusal struct{ code int }

func (e *parentRefusal) Error() string {
	return "engine: the parent proxy answered CONNECT with " + strconv.Itoa(e.code)
}

// status is what the client gets: the parent's refusal as it was (403,
// 502, 503, 504...), except that the parent's own demand for credentials
// (407) is this proxy's configuration error, and any other code a gateway
// failure.
func (e *parentRefusal) status() int {
	switch e.code {
	case 403, 502, 503, 504:
		return e.code
	}
	return 502
}

// maxParentHead bounds the response head a parent may send to CONNECT.
const maxParentHead = 16 << 10

// connectVia opens a tunnel to target (host:port) through parent m: it
// sends CONNECT with m's credentials and reads the answer, all before
// deadline. It runs on a worker.
func (h *hops) connectVia(m *member, target string, deadline time.Time) (net.Conn, error) {
	c, err := h.dial(m, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	m.requests.Add(1)
	_ = c.SetDeadline(deadline)
	req := make([]byte, 0, 128)
	req = append(req, "CONNECT "...)
	req = append(req, target...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, target...)
	req = append(req, "\r\n"...)
	if m.auth != "" {
		req = codec.AppendHeaderString(req, "Proxy-Authorization", m.auth)
	}
	req = append(req, "\r\n"...)
	if _, err := c.Write(req); err != nil {
		_ = c.Close()
		return nil, err
	}
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= maxParentHead {
				_ = c.Close()
				return nil, &parentRefusal{code: 502}
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if end := bytes.Index(buf, []byte("\r\n\r\n")); end >= 0 {
			code := 0
			if len(buf) >= 12 && bytes.HasPrefix(buf, []byte("HTTP/1.")) {
				code, _ = strconv.Atoi(string(buf[9:12]))
			}
			if code < 200 || code > 299 {
				_ = c.Close()
				return nil, &parentRefusal{code: code}
			}
			_ = c.SetDeadline(time.Time{})
			if rest := buf[end+4:]; len(rest) > 0 {
				return &prefixConn{Conn: c, rest: bytes.Clone(rest)}, nil
			}
			return c, nil
		}
		if err != nil {
			_ = c.Close()
			return nil, err
		}
	}
}

// prefixConn returns bytes read past a parent's CONNECT answer before
// those still on the connection.
type prefixConn struct {
	net.Conn
	rest []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// tunnelVia opens a CONNECT tunnel to target through the parent the
// hashing picks, moving to the next parent when one cannot be reached. ok
// is false when the tunnel goes direct: there are no parents, or none is
// up and never_direct is off.
func (h *hops) tunnelVia(target string, deadline time.Time) (c net.Conn, ok bool, err error) {
	if h == nil || h.atab == nil {
		return nil, false, nil
	}
	for range h.parents {
		m, err := h.parentFor([]byte(target))
		if m == nil {
			return nil, err != nil, err
		}
		c, err = h.connectVia(m, target, deadline)
		if !errors.Is(err, ErrHopUnreachable) {
			return c, true, err
		}
		h.failover.Add(1)
	}
	return nil, true, ErrHopUnreachable
}

// runViaParent is runDirect for an exchange with parents to go through:
// the parent dr.hopKey hashes to, an http request in absolute form with the
// parent's credentials on a connection to the parent, an https one inside a
// CONNECT tunnel through it (connectVia), TLS to the origin inside. A
// parent that cannot be reached is marked down (hops.dial) and the next in
// rendezvous order is tried: a failed dial sent nothing, so even a streamed
// body is still whole. With no parent up, the exchange goes direct, or ends
// with ErrNoParent under never_direct.
func (s *Server) runViaParent(oex *origin.Exchange, dr *directRequest) {
	h := s.hops
	inner := oex.Handler
	hh := &hopHandler{Handler: inner}
	oex.Handler = hh
	defer func() { oex.Handler = inner }()
	for range h.parents {
		m, err := h.parentFor(dr.hopKey)
		if err != nil {
			oex.Handler = inner
			inner.OnDone(oex, err)
			return
		}
		dr.via = m
		s.aimDirect(oex, dr, m)
		hh.unreachable = false
		s.direct.Do(oex)
		if !hh.unreachable {
			return
		}
		h.failover.Add(1)
	}
	oex.Handler = inner
	inner.OnDone(oex, ErrHopUnreachable)
}

// viaFor records the parent a worker-side exchange went through, for the
// access log.
func (ex *exchange) viaFor(dr *directRequest) {
	if dr.via != nil {
		ex.hop = &hopRoute{m: dr.via}
	}
}

// aimDirect points a worker-side exchange at parent m, or at its origin
// when m is nil.
func (s *Server) aimDirect(oex *origin.Exchange, dr *directRequest, m *member) {
	connect := s.set.origin.connect
	switch {
	case m == nil:
		oex.Addr, oex.Key, oex.Head = dr.addr, dr.key, dr.head
		oex.Dial = s.directDial(dr, route{})
	case dr.tls:
		oex.Addr, oex.Key, oex.Head = dr.addr, m.key+" "+dr.key, dr.head
		oex.Dial = s.tlsDial(dr, func(addr string) (net.Conn, error) {
			return s.hops.connectVia(m, addr, time.Now().Add(connect))
		})
	default:
		oex.Addr, oex.Key = m.addr, m.key
		oex.Head = withCredentials(absoluteHead(dr.head, dr.hopKey), m.auth)
		oex.Dial = func(string) (net.Conn, error) { return s.hops.dial(m, connect) }
		m.requests.Add(1)
	}
}

// hopHandler passes an exchange's callbacks on, except the end of one whose
// parent could not be reached before anything arrived: runViaParent then
// tries the next parent.
type hopHandler struct {
	origin.Handler
	began       bool // a response head arrived
	unreachable bool // the exchange ended unreachable, unseen by Handler
}

func (h *hopHandler) OnHead(ex *origin.Exchange, r *codec.Response) error {
	h.began = true
	return h.Handler.OnHead(ex, r)
}

func (h *hopHandler) OnDone(ex *origin.Exchange, err error) {
	if !h.began && errors.Is(err, ErrHopUnreachable) {
		h.unreachable = true
		return
	}
	h.Handler.OnDone(ex, err)
}

// absoluteHead is head, an origin-form request head, with target as its
// absolute-form request target, as a parent proxy needs it (RFC 9112
// §3.2.2).
func absoluteHead(head, target []byte) []byte {
	sp := bytes.IndexByte(head, ' ')
	line := bytes.Index(head, crlf)
	if sp < 0 || line < sp {
		return head
	}
	out := make([]byte, 0, len(head)+len(target)+16)
	out = append(out, head[:sp+1]...)
	out = append(out, target...)
	out = append(out, " HTTP/1.1"...)
	return append(out, head[line:]...)
}

// withCredentials adds a parent's Proxy-Authorization to head, which it may
// reuse, unless auth is empty.
func withCredentials(head []byte, auth string) []byte {
	if auth == "" {
		return head
	}
	h := make([]byte, 0, len(head)+len(auth)+24)
	h = append(h, head[:len(head)-2]...)
	h = codec.AppendHeaderString(h, "Proxy-Authorization", auth)
	return append(h, "\r\n"...)
}
