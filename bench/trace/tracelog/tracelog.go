// Package tracelog reads real access logs, Squid native or Common/Combined
// Log Format, gzip-compressed or not, into records that keep what a faithful
// replay or a cache simulation needs: time, client, method, status, size
// and the URL exactly as logged.
//
// The lines are parsed by the prefetch package (prefetch.ReadLines), which
// passes every well-formed line with its status: the trace tools need every
// line's status to answer what the log says.
package tracelog

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"edgeproxy/cache/prefetch"
)

// Formats of a log, as the prefetch package names them.
const (
	FormatSquid  = prefetch.FormatSquid
	FormatCommon = prefetch.FormatCommon
)

// ErrFormat means a log is in neither format.
var ErrFormat = errors.New("tracelog: not a Squid native or Common Log Format log")

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

// Read reads a log, detecting its format from its first lines. The lines
// are parsed by the prefetch package's reader, which also backs
// `edgeproxy prefetch-report`.
func Read(r io.Reader) (*Log, error) {
	br := bufio.NewReaderSize(r, prefetch.MaxLine)
	head, err := br.Peek(prefetch.MaxLine)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	format, err := prefetch.DetectFormat(head)
	if err != nil {
		return nil, ErrFormat
	}
	l := &Log{Format: format}
	st, err := prefetch.ReadLines(br, format, func(line *prefetch.Line) {
		l.Records = append(l.Records, Record{
			Time: line.Time, Client: string(line.Client), Method: string(line.Method),
			Status: line.Status, Size: line.Bytes, URL: string(line.URL),
		})
	})
	l.Lines, l.Malformed = st.Lines, st.Malformed
	return l, err
}
