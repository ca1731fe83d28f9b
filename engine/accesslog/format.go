package accesslog

import (
	"net/netip"
	"strconv"
)

// AppendSquid appends r in Squid's native format, as Squid's
// Log::Format::SquidNative prints it with
// "%9d.%03d %6d %s %s/%03d %d %s %s %s %s/%s %s":
//
//	time.millis elapsed client code/status bytes method URL user hierarchy/peer type
//
// An empty user, peer or type is "-". Fields are kept to one token each:
// bytes outside printable ASCII (and, in the user name, '%', '[', ']' and
// space) are %-encoded as Squid's username quoting does; Squid itself leaves
// a space in a user name as is. The content type, the last field, is the
// media type alone, cut at the first ';', space or tab as Squid's
// HttpReply does ("text/html; charset=utf-8" logs as "text/html"), so that
// Calamaris and SARG, which split on spaces, read the line.
func AppendSquid(dst []byte, r *Record) []byte {
	ms := r.Time.UnixMilli()
	dst = appendPadded(dst, ms/1000, 9, ' ')
	dst = append(dst, '.')
	dst = appendPadded(dst, ms%1000, 3, '0')
	dst = append(dst, ' ')
	dst = appendPadded(dst, r.Elapsed.Milliseconds(), 6, ' ')
	dst = append(dst, ' ')
	dst = appendAddr(dst, r.Client)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.Code, CodeNone)
	dst = append(dst, '/')
	dst = appendPadded(dst, int64(r.Status), 3, '0')
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, r.Bytes, 10)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.Method, "-")
	dst = append(dst, ' ')
	dst = appendToken(dst, r.URL, "-")
	dst = append(dst, ' ')
	dst = appendUser(dst, r.User)
	dst = append(dst, ' ')
	dst = appendToken(dst, r.Hierarchy, HierNone)
	dst = append(dst, '/')
	dst = appendToken(dst, r.Peer, "-")
	dst = append(dst, ' ')
	dst = appendToken(dst, mediaType(r.ContentType), "-")
	return append(dst, '\n')
}

// mediaType is a Content-Type value up to its parameters: up to the first
// ';', space or tab, as Squid's HttpReply::hdrCacheInit keeps it.
func mediaType(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ';' || c == ' ' || c == '\t' {
			return s[:i]
		}
	}
	return s
}

// AppendCommon appends r in the common format as Squid's
// Log::Format::HttpdCommon prints it:
//
//	client - user [02/Jan/2006:15:04:05 -0700] "method URL proto" status bytes code:hierarchy
//
// The time is written in r.Time's location.
func AppendCommon(dst []byte, r *Record) []byte {
	dst = appendCLF(dst, r)
	dst = append(dst, ' ')
	return appendCodes(dst, r)
}

// AppendCombined appends r in the combined format as Squid's
// Log::Format::HttpdCombined prints it: common with "referer" "user-agent"
// before the Squid codes. Inside the quotes, '"' and '\' are escaped with a
// backslash and other bytes outside printable ASCII as \xHH, as httpd does;
// Squid copies them raw.
func AppendCombined(dst []byte, r *Record) []byte {
	dst = appendCLF(dst, r)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, r.Referer)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, r.UserAgent)
	dst = append(dst, ' ')
	return appendCodes(dst, r)
}

// appendCLF appends the seven fields of the common log format.
func appendCLF(dst []byte, r *Record) []byte {
	dst = appendAddr(dst, r.Client)
	dst = append(dst, " - "...)
	dst = appendUser(dst, r.User)
	dst = append(dst, " ["...)
	dst = r.Time.AppendFormat(dst, "02/Jan/2006:15:04:05 -0700")
	dst = append(dst, "] \""...)
	dst = appendToken(dst, r.Method, "-")
	dst = append(dst, ' ')
	dst = appendToken(dst, r.URL, "-")
	dst = append(dst, ' ')
	dst = appendToken(dst, r.Proto, "HTTP/1.1")
	dst = append(dst, "\" "...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	dst = append(dst, ' ')
	return strconv.AppendInt(dst, r.Bytes, 10)
}

// appendCodes appends "code:hierarchy" and the newline.
func appendCodes(dst []byte, r *Record) []byte {
	dst = appendToken(dst, r.Code, CodeNone)
	dst = append(dst, ':')
	dst = appendToken(dst, r.Hierarchy, HierNone)
	return append(dst, '\n')
}

// appendPadded appends v in decimal, right-aligned in width with pad, like
// printf's %6d (pad ' ') and %03d (pad '0').
func appendPadded(dst []byte, v int64, width int, pad byte) []byte {
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], v, 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, pad)
	}
	return append(dst, b...)
}

func appendAddr(dst []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(dst, '-')
	}
	return a.Unmap().WithZone("").AppendTo(dst)
}

const hexDigits = "0123456789abcdef"

// appendPct appends c as %hh.
func appendPct(dst []byte, c byte) []byte {
	return append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
}

// appendToken appends s as one space-free field, or fallback when s is
// empty. Bytes up to SP and from DEL up are %-encoded, so a request target
// or method can never add a field or a line; '%' itself is left alone, since
// URLs are already percent-encoded.
func appendToken(dst []byte, s, fallback string) []byte {
	if s == "" {
		return append(dst, fallback...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			dst = appendPct(dst, c)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// appendUser appends a user name as Squid's Format::QuoteUrlEncodeUsername
// does: CR and LF as \r and \n, backslash doubled, and control bytes, bytes
// from DEL up, '%', '[' and ']' %-encoded; "-" when empty. Space is
// %-encoded too, which Squid does not do, so the field stays one token.
func appendUser(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c <= ' ' || c >= 0x7f || c == '%' || c == '[' || c == ']':
			dst = appendPct(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendQuoted appends s in double quotes as httpd logs header values: '"'
// and '\' get a backslash, other bytes outside printable ASCII become \xhh.
// An empty s is "-", quoted, as Squid writes it.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	if s == "" {
		dst = append(dst, '-')
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < ' ' || c >= 0x7f:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
