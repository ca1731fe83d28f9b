// Package tracelog reads real access logs, Squid native or Common/Combined
// Log Format, gzip-compressed or not, into records that keep what a faithful
// replay or a cache simulation needs: time, client, method, status, size
// and the URL exactly as logged.
//
// The prefetch package's reader passes only GET lines without their status;
// the trace tools need every line's status to answer what the log says.
package tracelog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Formats of a log.
const (
	FormatSquid  = "squid"
	FormatCommon = "common"
)

// ErrFormat means a log is in neither format.
var ErrFormat = errors.New("tracelog: not a Squid native or Common Log Format log")

// maxLine bounds a log line; a longer one is counted malformed.
const maxLine = 64 << 10

// Record is one logged request.
type Record struct {
	Time   time.Time
	Client string
	Method string
	Status int    // logged status; 0 when the log has none (Squid's TCP_DENIED/0 …)
	Size   int64  // logged response bytes (Squid: with headers; CLF: body)
	URL    string // as logged: absolute (Squid) or origin-form (CLF)
}

// Log is a whole log read into memory.
type Log struct {
	Format    string
	Records   []Record
	Lines     int // lines read, empty ones included
	Malformed int // lines in neither format, or longer than 64 KiB
}

// ReadFile reads the log at path; a name ending in .gz is decompressed.
func ReadFile(path string) (*Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if len(path) > 3 && path[len(path)-3:] == ".gz" {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	l, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Read reads a log, detecting its format from its first lines.
func Read(r io.Reader) (*Log, error) {
	br := bufio.NewReaderSize(r, maxLine)
	head, err := br.Peek(maxLine)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	l := &Log{}
	parse, format := detect(head)
	if parse == nil {
		return nil, ErrFormat
	}
	l.Format = format
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			l.Lines++
			l.Malformed++
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return l, nil
			}
			if err != nil {
				return l, err
			}
			continue
		}
		if len(line) > 0 {
			l.Lines++
			line = bytes.TrimRight(line, "\r\n")
			if len(bytes.TrimSpace(line)) > 0 {
				if rec, ok := parse(line); ok {
					l.Records = append(l.Records, rec)
				} else {
					l.Malformed++
				}
			}
		}
		if err == io.EOF {
			return l, nil
		}
		if err != nil {
			return l, err
		}
	}
}

type parser func(line []byte) (Record, bool)

// detect picks the format most of the first 20 lines parse in.
func detect(head []byte) (parser, string) {
	squid, common := 0, 0
	for n := 0; n < 20 && len(head) > 0; {
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		head = rest
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n++
		if _, ok := parseSquid(line); ok {
			squid++
		}
		if _, ok := parseCommon(line); ok {
			common++
		}
	}
	switch {
	case squid == 0 && common == 0:
		return nil, ""
	case squid >= common:
		return parseSquid, FormatSquid
	default:
		return parseCommon, FormatCommon
	}
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

// parseSquid parses a Squid native line,
//
//	time.ms elapsed client code/status bytes method URL user hier/peer type
func parseSquid(line []byte) (Record, bool) {
	var f [10][]byte
	if fields(line, f[:]) < 9 {
		return Record{}, false
	}
	sec, ms, found := bytes.Cut(f[0], []byte("."))
	s, err1 := strconv.ParseInt(string(sec), 10, 64)
	m, err2 := strconv.ParseInt(string(ms), 10, 64)
	if !found || err1 != nil || err2 != nil || len(ms) != 3 || m < 0 {
		return Record{}, false
	}
	if _, err := strconv.ParseInt(string(f[1]), 10, 64); err != nil {
		return Record{}, false
	}
	code, status, found := bytes.Cut(f[3], []byte("/"))
	st, err := strconv.Atoi(string(status))
	if !found || len(code) == 0 || err != nil || st < 0 || st > 999 {
		return Record{}, false
	}
	n, err := strconv.ParseInt(string(f[4]), 10, 64)
	if err != nil || n < 0 || bytes.IndexByte(f[8], '/') < 0 {
		return Record{}, false
	}
	return Record{
		Time: time.UnixMilli(s*1000 + m), Client: string(f[2]), Method: string(f[5]),
		Status: st, Size: n, URL: string(f[6]),
	}, true
}

// clfTime is the time layout of Common Log Format.
const clfTime = "02/Jan/2006:15:04:05 -0700"

// parseCommon parses a Common or Combined Log Format line,
//
//	host ident user [02/Jan/2006:15:04:05 -0700] "METHOD URL PROTO" status bytes ...
//
// A bytes field of "-" counts as 0.
func parseCommon(line []byte) (Record, bool) {
	var rec Record
	var head [3][]byte
	if fields(line, head[:]) < 3 {
		return rec, false
	}
	open := bytes.IndexByte(line, '[')
	end := bytes.IndexByte(line, ']')
	if open < 0 || end < open {
		return rec, false
	}
	t, err := time.Parse(clfTime, string(line[open+1:end]))
	if err != nil {
		return rec, false
	}
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
	var tail [3][]byte
	if fields(rest, tail[:]) < 2 || len(tail[0]) != 3 {
		return rec, false
	}
	st, err := strconv.Atoi(string(tail[0]))
	if err != nil || st < 0 {
		return rec, false
	}
	var n int64
	if string(tail[1]) != "-" {
		if n, err = strconv.ParseInt(string(tail[1]), 10, 64); err != nil || n < 0 {
			return rec, false
		}
	}
	return Record{Time: t, Client: string(head[0]), Method: string(rl[0]), Status: st, Size: n, URL: string(rl[1])}, true
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
