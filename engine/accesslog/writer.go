package accesslog

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Writer tuning. A Writer flushes every FlushInterval, or sooner once
// FlushSize bytes wait; past MaxBuffered unwritten bytes it drops records.
const (
	FlushInterval = time.Second
	FlushSize     = 64 << 10
	MaxBuffered   = 4 << 20
)

// maxLine bounds the stack buffer Log formats into; a longer line (a huge
// URL) spills to the heap, which is correct, just slower.
const maxLine = 1024

// Writer is an asynchronous access log. Log may be called from any number
// of goroutines and never waits for I/O; Reopen and Close may block on it and
// belong to other goroutines (a signal handler, shutdown).
type Writer struct {
	format Format
	path   string // file reopened by Reopen; "" for stdout or New

	mu     sync.Mutex // protects buf, lines and closed; held only to append or swap
	buf    []byte
	lines  uint64 // records in buf
	closed bool

	dropped atomic.Uint64
	err     atomic.Pointer[error] // last write or reopen error

	// Owned by the flusher goroutine.
	out   io.Writer
	file  *os.File // out when it is a file the Writer opened; else nil
	spare []byte

	interval          time.Duration
	flushSize, maxBuf int

	kick      chan struct{}   // buffer passed flushSize
	reopen    chan chan error // Reopen requests
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open starts a Writer appending to path, created with mode 0640 if absent,
// in format f; path "-" means standard output.
func Open(path string, f Format) (*Writer, error) {
	if path == "-" {
		return newWriter(os.Stdout, nil, "", f, FlushInterval, FlushSize, MaxBuffered), nil
	}
	file, err := openFile(path)
	if err != nil {
		return nil, err
	}
	return newWriter(file, file, path, f, FlushInterval, FlushSize, MaxBuffered), nil
}

// New starts a Writer writing to out in format f. Reopen does nothing for
// it, and Close does not close out.
func New(out io.Writer, f Format) *Writer {
	return newWriter(out, nil, "", f, FlushInterval, FlushSize, MaxBuffered)
}

func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("accesslog: %w", err)
	}
	return f, nil
}

func newWriter(out io.Writer, file *os.File, path string, f Format, interval time.Duration, flushSize, maxBuf int) *Writer {
	w := &Writer{
		format:    f,
		path:      path,
		buf:       make([]byte, 0, flushSize+maxLine),
		out:       out,
		file:      file,
		spare:     make([]byte, 0, flushSize+maxLine),
		interval:  interval,
		flushSize: flushSize,
		maxBuf:    maxBuf,
		kick:      make(chan struct{}, 1),
		reopen:    make(chan chan error),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	go w.run()
	return w
}

// Log queues r. It formats on the caller's stack, holds the Writer's mutex
// only to copy the line, and never blocks on I/O: when MaxBuffered bytes
// already wait, or after Close, the record is dropped and counted.
func (w *Writer) Log(r *Record) {
	var stack [maxLine]byte
	line := w.format.Append(stack[:0], r)
	w.mu.Lock()
	if w.closed || len(w.buf)+len(line) > w.maxBuf {
		w.mu.Unlock()
		w.dropped.Add(1)
		return
	}
	w.buf = append(w.buf, line...)
	w.lines++
	full := len(w.buf) >= w.flushSize
	w.mu.Unlock()
	if full {
		select {
		case w.kick <- struct{}{}:
		default: // a flush is already due
		}
	}
}

// Dropped returns how many records were lost: refused because the buffer
// was full or the Writer closed, or in a batch whose write failed.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Err returns the last error met writing or reopening, or nil.
func (w *Writer) Err() error {
	if p := w.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Reopen flushes what is buffered to the current file, then closes it and
// opens path again, so that after logrotate renames the file the log goes
// on in a new one. If the open fails, logging continues to the old file and
// the error is returned. It waits for a write in progress, so call it from
// a signal-handling goroutine, not an event loop. It does nothing for
// standard output or a Writer made by New.
func (w *Writer) Reopen() error {
	ch := make(chan error, 1)
	select {
	case w.reopen <- ch:
		return <-ch
	case <-w.done:
		return ErrClosed
	}
}

// Close flushes what is buffered, stops the Writer and closes the file it
// opened. Later calls to Log are counted as dropped. Close is idempotent and
// returns the file's close error, if any.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
		<-w.done
	})
	return w.closeErr
}

// run is the flusher goroutine.
func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.flush()
		case <-w.kick:
			w.flush()
		case ch := <-w.reopen:
			w.flush()
			ch <- w.reopenFile()
		case <-w.stop:
			w.flush()
			if w.file != nil {
				w.closeErr = w.file.Close()
			}
			return
		}
	}
}

// flush swaps the buffers and writes the full one with the mutex released.
func (w *Writer) flush() {
	w.mu.Lock()
	b, n := w.buf, w.lines
	w.buf, w.lines = w.spare[:0], 0
	w.mu.Unlock()
	if len(b) > 0 {
		if _, err := w.out.Write(b); err != nil {
			w.dropped.Add(n)
			w.setErr(err)
		}
	}
	w.spare = b[:0]
}

func (w *Writer) reopenFile() error {
	if w.file == nil {
		return nil
	}
	f, err := openFile(w.path)
	if err != nil {
		w.setErr(err)
		return err
	}
	old := w.file
	w.file, w.out = f, f
	if err := old.Close(); err != nil {
		w.setErr(err)
	}
	return nil
}

func (w *Writer) setErr(err error) { w.err.Store(&err) }
