package prefetch

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// MaxLine bounds a log line. A longer line is counted malformed and skipped:
// no access log field is that long, and the bound keeps a corrupt file from
// costing more than one buffer.
const MaxLine = 64 << 10

// ReadStats counts the lines a log reader saw.
type ReadStats struct {
	Lines     int // lines read, empty ones included
	Records   int // lines passed to fn: GET requests for ReadSquid and ReadCommon
	Skipped   int // well-formed lines of other methods (CONNECT, POST, HEAD …)
	Malformed int // lines that are not in the format, or longer than MaxLine
}

// RecordFunc receives one GET request of a log: the client address, the URL
// as logged, the time of the request and the response bytes logged.
type RecordFunc func(client, url string, t time.Time, bytes int64)

// Line is one well-formed access-log line. Its byte slices are views into
// the line as read and are valid only during the call that receives them.
type Line struct {
	Client, Method, URL []byte
	Time                time.Time
	Status              int   // logged status (Squid: after the slash, 0 for TCP_DENIED/0 …)
	Bytes               int64 // logged response bytes
}

// lineParser parses one line without its newline; ok false means malformed.
type lineParser func(line []byte) (rec Line, ok bool)

// ReadSquid reads a log in Squid's native format,
//
//	time.ms elapsed client code/status bytes method URL user hier/peer type
//
// fields separated by one or more spaces, and calls fn for each GET. It
// returns the first read error other than io.EOF.
func ReadSquid(r io.Reader, fn RecordFunc) (ReadStats, error) {
	return readGETs(r, parseSquid, fn)
}

// ReadCommon reads a log in Common or Combined Log Format,
//
//	host ident user [02/Jan/2006:15:04:05 -0700] "METHOD URL PROTO" status bytes ...
//
// (anything after bytes, such as Combined's referer and user agent, is
// ignored) and calls fn for each GET. A bytes field of "-" counts as 0.
func ReadCommon(r io.Reader, fn RecordFunc) (ReadStats, error) {
	return readGETs(r, parseCommon, fn)
}

// ReadLines reads a log in format (FormatSquid or FormatCommon, as
// DetectFormat names them) and calls fn for every well-formed line, whatever
// its method; ReadStats.Records counts those calls. It returns ErrFormat for
// any other format, else the first read error other than io.EOF.
func ReadLines(r io.Reader, format string, fn func(*Line)) (ReadStats, error) {
	var parse lineParser
	switch format {
	case FormatSquid:
		parse = parseSquid
	case FormatCommon:
		parse = parseCommon
	default:
		return ReadStats{}, ErrFormat
	}
	return readLog(r, parse, func(l *Line) bool {
		fn(l)
		return true
	})
}

// readGETs passes fn the GET lines of a log and counts the others skipped.
func readGETs(r io.Reader, parse lineParser, fn RecordFunc) (ReadStats, error) {
	return readLog(r, parse, func(l *Line) bool {
		if string(l.Method) != "GET" {
			return false
		}
		fn(string(l.Client), string(l.URL), l.Time, l.Bytes)
		return true
	})
}

// readLog parses each line of r and passes the well-formed ones to use,
// which reports whether it took the line (a record) or passed it by
// (skipped).
func readLog(r io.Reader, parse lineParser, use func(*Line) bool) (ReadStats, error) {
	var st ReadStats
	br := bufio.NewReaderSize(r, MaxLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			st.Lines++
			st.Malformed++
			if err = skipLine(br); err != nil {
				return st, ignoreEOF(err)
			}
			continue
		}
		if len(line) > 0 {
			st.Lines++
			readLine(bytes.TrimRight(line, "\r\n"), parse, use, &st)
		}
		if err != nil {
			return st, ignoreEOF(err)
		}
	}
}

func readLine(line []byte, parse lineParser, use func(*Line) bool, st *ReadStats) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	rec, ok := parse(line)
	switch {
	case !ok:
		st.Malformed++
	case use(&rec):
		st.Records++
	default:
		st.Skipped++
	}
}

// skipLine discards the rest of an over-long line.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

func ignoreEOF(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// fields splits b at runs of spaces into at most len(dst) fields, the last
// holding the rest of the line, and returns how many it found.
func fields(b []byte, dst [][]byte) int {
	n := 0
	for n < len(dst) {
		b = bytes.TrimLeft(b, " ")
		if len(b) == 0 {
			break
		}
		if n == len(dst)-1 {
			dst[n] = b
			return n + 1
		}
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			i = len(b)
		}
		dst[n] = b[:i]
		b = b[i:]
		n++
	}
	return n
}

// parseSquid parses a Squid native line. The content type, last, may hold
// spaces or be missing; the nine fields before it must be there.
func parseSquid(line []byte) (Line, bool) {
	var f [10][]byte
	if fields(line, f[:]) < 9 {
		return Line{}, false
	}
	t, ok := parseUnixMillis(f[0])
	if !ok || !isNumber(f[1]) {
		return Line{}, false
	}
	code, status, found := bytes.Cut(f[3], []byte("/"))
	if !found || len(code) == 0 || !isNumber(status) || len(status) > 3 {
		return Line{}, false // an HTTP status has three digits, Squid's "0" one
	}
	n, err := strconv.ParseInt(string(f[4]), 10, 64)
	if err != nil || n < 0 || bytes.IndexByte(f[8], '/') < 0 {
		return Line{}, false
	}
	st, _ := strconv.Atoi(string(status))
	return Line{Client: f[2], Method: f[5], URL: f[6], Time: t, Status: st, Bytes: n}, true
}

// parseUnixMillis parses Squid's "seconds.millis" time stamp.
func parseUnixMillis(b []byte) (time.Time, bool) {
	sec, ms, found := bytes.Cut(b, []byte("."))
	if !found || !isNumber(sec) || len(ms) != 3 || !isNumber(ms) {
		return time.Time{}, false
	}
	s, err := strconv.ParseInt(string(sec), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	m, _ := strconv.Atoi(string(ms))
	return time.UnixMilli(s*1000 + int64(m)), true
}

func isNumber(b []byte) bool {
	if len(b) == 0 || len(b) > 18 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clfTime is the time layout of Common Log Format.
const clfTime = "02/Jan/2006:15:04:05 -0700"

// parseCommon parses a Common or Combined Log Format line.
func parseCommon(line []byte) (Line, bool) {
	var rec Line
	var head [3][]byte
	if fields(line, head[:]) < 3 {
		return rec, false
	}
	rec.Client = head[0]
	open := bytes.IndexByte(line, '[')
	end := bytes.IndexByte(line, ']')
	if open < 0 || end < open {
		return rec, false
	}
	t, err := time.Parse(clfTime, string(line[open+1:end]))
	if err != nil {
		return rec, false
	}
	rec.Time = t
	rest := bytes.TrimLeft(line[end+1:], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return rec, false
	}
	req, rest, ok := cutQuoted(rest[1:])
	if !ok {
		return rec, false
	}
	var rl [3][]byte
	if fields(req, rl[:]) < 2 {
		return rec, false
	}
	rec.Method, rec.URL = rl[0], rl[1]
	var tail [3][]byte
	if fields(rest, tail[:]) < 2 || !isNumber(tail[0]) || len(tail[0]) != 3 {
		return rec, false
	}
	rec.Status, _ = strconv.Atoi(string(tail[0]))
	if string(tail[1]) != "-" {
		n, err := strconv.ParseInt(string(tail[1]), 10, 64)
		if err != nil || n < 0 {
			return rec, false
		}
		rec.Bytes = n
	}
	return rec, true
}

// cutQuoted returns the text up to the closing quote of a string whose
// opening quote is already consumed, and the text after it. A backslash
// escapes the next byte, as httpd writes '"' inside the request line.
func cutQuoted(b []byte) (inside, rest []byte, ok bool) {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}
