package codec

import "strconv"

// AppendHeader appends the field line name ": " value CRLF. name must be a
// token; any CR or LF in value is written as a space, as net/http does, so a
// value relayed from elsewhere cannot inject a field line or end the head.
func AppendHeader(dst []byte, name string, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	return appendValue(dst, value)
}

// AppendHeaderString is AppendHeader for a string value.
func AppendHeaderString(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	start := len(dst)
	dst = append(dst, value...)
	return endValue(dst, start)
}

// AppendField is AppendHeader for a name held as bytes, such as a field
// relayed from a parsed message.
func AppendField(dst []byte, name, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	return appendValue(dst, value)
}

// AppendHeaderInt appends the field line name ": " v CRLF.
func AppendHeaderInt(dst []byte, name string, v int64) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, '\r', '\n')
}

func appendValue(dst, value []byte) []byte {
	start := len(dst)
	dst = append(dst, value...)
	return endValue(dst, start)
}

// endValue blanks CR and LF in the value written from start and ends the line.
func endValue(dst []byte, start int) []byte {
	for i := start; i < len(dst); i++ {
		if dst[i] == '\r' || dst[i] == '\n' {
			dst[i] = ' '
		}
	}
	return append(dst, '\r', '\n')
}

// IsHopByHop reports whether name, compared case-insensitively, is one of the
// fields that describe a single connection and must not be forwarded
// (RFC 9110 §7.6.1), the same table as net/http/httputil's reverse proxy.
// A proxy removes these and, first, every field the Connection field lists
// (see Request.ConnectionLists and ListHasBytes).
func IsHopByHop(name []byte) bool {
	switch len(name) {
	case 2:
		// TE is hop-by-hop and listed in Connection by its sender
		// (RFC 9110 §10.1.4); dropped even when the sender forgot.
		return EqualFold(name, "te")
	case 7:
		// Trailer announces fields of a chunked body this hop may re-frame.
		// Upgrade applies to this connection only (RFC 9110 §7.8).
		return EqualFold(name, "trailer") || EqualFold(name, "upgrade")
	case 10:
		// Keep-Alive is the HTTP/1.0 persistence field (RFC 2068 §19.7.1).
		return EqualFold(name, "connection") || EqualFold(name, "keep-alive")
	case 16:
		// Proxy-Connection was never standard, yet old clients still send it
		// to proxies in place of Connection.
		return EqualFold(name, "proxy-connection")
	case 17:
		return EqualFold(name, "transfer-encoding")
	case 18:
		// Proxy-Authenticate is addressed to the client of this hop
		// (RFC 9110 §11.7.1).
		return EqualFold(name, "proxy-authenticate")
	case 19:
		// Proxy-Authorization holds credentials for this proxy, not for the
		// next one (RFC 9110 §11.7.2).
		return EqualFold(name, "proxy-authorization")
	}
	return false
}

// ConnectionLists reports whether any Connection field of r lists name,
// compared case-insensitively (RFC 9110 §7.6.1), without allocating. The
// engine drops a field when this or IsHopByHop says so.
func (r *Request) ConnectionLists(name []byte) bool {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, "connection") && ListHasBytes(r.Headers[i].Value, name) {
			return true
		}
	}
	return false
}

// IsHopByHop reports whether the field called name must not be forwarded:
// it is in the fixed table of IsHopByHop or listed by r's Connection field.
func (r *Request) IsHopByHop(name []byte) bool {
	return IsHopByHop(name) || r.ConnectionLists(name)
}
