package origin

import (
	"time"

	"edgeproxy/codec"
)

// reader follows the responses to one exchange at a time through the bytes
// its connection received: every head (1xx first), then the body. It is the
// framing logic of both drivers, Conn on an event loop and Client on a
// goroutine, so that the two apply the same rules to the same bytes.
type reader struct {
	state    uint8
	parser   codec.ResponseParser
	resp     codec.Response
	body     codec.BodyDecoder
	rest     []byte // during OnHead and OnBody: the bytes read and not yet decoded
	gotByte  bool   // a response byte of the current exchange arrived
	expect   bool   // the request body waits for 100 Continue
	bodySent bool   // the request body was written
	progress time.Time
}

// carrier is what a reader asks of the connection it reads for.
type carrier interface {
	// sendBody sends a request body held back for 100 Continue, or arranges
	// for it to be sent.
	sendBody()
	// current reports whether ex is still the connection's exchange: a
	// handler may cancel or detach it from inside a callback.
	current(ex *Exchange) bool
}

// begin prepares the reader for ex's response.
func (r *reader) begin(ex *Exchange) {
	r.state = stHead
	r.gotByte = false
	r.parser.Reset()
	hasBody := len(ex.Body) > 0 || ex.BodyStream != nil
	r.expect = ex.ExpectContinue && hasBody
	r.bodySent = !hasBody
}

// read parses heads and decodes body bytes from buf, handing them to ex's
// handler; it returns the bytes consumed. It stops early when the handler
// gives up ex, and at the end of the body: what follows in buf is no part of
// this exchange.
func (r *reader) read(c carrier, ex *Exchange, buf []byte, maxHeader int, now time.Time) (used int, err error) {
	h := ex.Handler
	for r.state == stHead {
		if len(buf) > used {
			r.gotByte = true
		}
		n, err := r.parser.Parse(buf[used:], &r.resp, ex.HeadRequest, maxHeader)
		if err == codec.ErrNeedMore {
			return used, nil
		}
		if err != nil {
			return used, malformed(err)
		}
		resp := &r.resp
		used += n
		switch {
		case resp.Status == 101 && !ex.Upgrade:
			return used, ErrUpgrade
		case resp.Status == 100 && r.expect:
			c.sendBody()
		}
		r.rest = buf[used:]
		err = h.OnHead(ex, resp)
		r.rest = nil
		if err != nil {
			return used, err
		}
		if !c.current(ex) {
			return used, nil
		}
		if resp.Interim() {
			continue
		}
		r.progress = now
		if resp.Status == 101 {
			r.state = stUpgraded
			r.body.Start(codec.FramingClose, -1)
		} else {
			r.state = stBody
			r.body.Reset(resp)
		}
	}
	for !r.body.Done() && used < len(buf) {
		k, data, _, err := r.body.Decode(buf[used:])
		used += k
		if len(data) > 0 {
			r.progress = now
			r.rest = buf[used:]
			err := h.OnBody(ex, data)
			r.rest = nil
			if err != nil {
				return used, err
			}
			if !c.current(ex) {
				return used, nil
			}
		}
		if err != nil {
			return used, malformed(err)
		}
		if k == 0 {
			break
		}
	}
	return used, nil
}

// reusable reports whether a connection whose response just ended, excess
// bytes having followed it, may carry another exchange: only at an exact
// message boundary, with the request body sent and no close on either side.
func (r *reader) reusable(ex *Exchange, excess int) bool {
	return excess == 0 && !r.resp.Close && !ex.Close && r.bodySent
}

// lifetime is how long a connection may idle: maxIdle, or less when the
// origin announced a shorter Keep-Alive timeout (ka seconds).
func lifetime(maxIdle time.Duration, ka int) time.Duration {
	d := maxIdle
	if ka > 0 {
		t := time.Duration(ka) * time.Second
		margin := min(keepAliveMargin, t/2)
		d = min(d, t-margin)
	}
	return d
}
