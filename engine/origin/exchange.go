package origin

import (
	"io"
	"net"

	"edgeproxy/codec"
)

// Handler receives an exchange's response, on the event loop.
type Handler interface {
	// OnHead gets each response head: every 1xx first (r.Interim(), or a
	// 101 to a request that asked to upgrade), then the final one. r and
	// its views are valid only during the call. An error aborts the
	// exchange: its connection closes and OnDone gets the error.
	OnHead(ex *Exchange, r *codec.Response) error
	// OnBody gets the body bytes as they arrive, with any chunked framing
	// removed; after a 101, the bytes of the upgraded stream. data is valid
	// only during the call. An error aborts as for OnHead.
	OnBody(ex *Exchange, data []byte) error
	// OnDone ends the exchange, exactly once unless Cancel was called: err
	// is nil when the response arrived whole, and the connection is back in
	// the pool if it may be reused. The exchange may be reused from here.
	OnDone(ex *Exchange, err error)
}

// Exchange is one request to an origin and its response. The caller fills
// the exported fields and passes it to Pool.Do; it must keep the exchange
// and the bytes it refers to untouched until OnDone or Cancel, since a
// retry writes them again.
type Exchange struct {
	// Addr is the origin's "host:port", the key of its idle connections.
	Addr string
	// Head is the request head, ending in CRLF CRLF.
	Head []byte
	// Body is the whole request body, written after Head, or nil.
	Body []byte
	// BodyStream, for Client only, is a request body read as it is sent,
	// in place of Body: BodyLength bytes, or with BodyLength -1 a body of
	// unknown length sent chunked (Head must say Content-Length or
	// Transfer-Encoding: chunked to match). A read error other than io.EOF
	// ends the exchange with that error. An exchange with a BodyStream is
	// never retried: its body is spent.
	BodyStream io.Reader
	BodyLength int64
	// Key, for Client only, names the idle connections ex may use, when
	// more than Addr tells them apart: the scheme for TLS, the source
	// address for a transparent dial. If empty, Addr.
	Key string
	// Dial, for Client only, connects for ex in place of Config.Dial: a
	// TLS handshake, a connection from the client's own address.
	Dial func(addr string) (net.Conn, error)
	// HeadRequest means the method is HEAD: the response has no body.
	HeadRequest bool
	// Idempotent allows one retry on a fresh connection when a reused one
	// fails before any response byte. Set it with Idempotent(method).
	Idempotent bool
	// Upgrade means the request asked to upgrade to a protocol the caller
	// relays; only then is a 101 accepted (otherwise ErrUpgrade).
	Upgrade bool
	// Close means the request carries Connection: close; the connection is
	// not reused.
	Close bool
	// ExpectContinue means Head carries Expect: 100-continue: Body is held
	// back until the origin's 100, or ExpectWait. A final response that
	// comes first leaves the body unsent, and the connection is not reused.
	ExpectContinue bool
	// Handler receives the response.
	Handler Handler

	p        *Pool
	conn     *Conn
	bc       *blockingConn // the connection under Client.Do
	retried  bool          // already retried once
	canceled bool
	ended    bool
}

// Cancel abandons ex: its connection closes if a response is under way (its
// rest could not be told from the next one), or, still dialing, goes to the
// pool once open. No callback runs afterwards.
func (ex *Exchange) Cancel() {
	if ex.ended || ex.canceled {
		return
	}
	ex.canceled = true
	if bc := ex.bc; bc != nil {
		ex.bc = nil
		bc.close()
		return
	}
	oc := ex.conn
	ex.conn = nil
	if oc == nil || oc.ex != ex {
		return
	}
	oc.ex = nil
	if oc.state != stDialing {
		oc.close()
	}
}

// Write sends b to the origin on an upgraded stream, after a 101.
func (ex *Exchange) Write(b []byte) error {
	if bc := ex.bc; bc != nil {
		if bc.state != stUpgraded {
			return net.ErrClosed
		}
		_, err := bc.nc.Write(b)
		return err
	}
	oc := ex.conn
	if oc == nil || oc.state != stUpgraded || oc.c == nil {
		return net.ErrClosed
	}
	_, err := oc.c.Write(b)
	return err
}

// Reused reports whether the exchange runs on a connection that served an
// earlier one.
func (ex *Exchange) Reused() bool {
	if ex.bc != nil {
		return ex.bc.served > 1
	}
	return ex.conn != nil && ex.conn.served > 1
}

// Received returns, during OnHead, how many bytes already arrived after the
// head: a handler can tell that the whole body is here and write the head
// and body to its client at once. 0 at any other time.
func (ex *Exchange) Received() int {
	if ex.bc != nil {
		return len(ex.bc.rest)
	}
	if ex.conn == nil {
		return 0
	}
	return len(ex.conn.rest)
}

// Peer returns the origin's address, or nil before the connection is open.
func (ex *Exchange) Peer() net.Addr {
	if ex.bc != nil {
		return ex.bc.nc.RemoteAddr()
	}
	if ex.conn == nil || ex.conn.c == nil {
		return nil
	}
	return ex.conn.c.RemoteAddr()
}

// finish ends ex with err, once.
func (ex *Exchange) finish(err error) {
	if ex.ended || ex.canceled {
		return
	}
	ex.ended = true
	ex.conn = nil
	ex.bc = nil
	ex.Handler.OnDone(ex, err)
}
