package origin

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 12: a body detached from inside OnBody, as a cache fill does once
// its client falls behind, goes on where the loop stopped: the bytes handed
// to OnBody so far and those the Detached reads make the whole body, decoded
// to its exact end; a cut-short one reads ErrClosed.
func TestDetachMidBody(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	var chunked strings.Builder
	for i := 0; i < len(big); i += 10000 {
		part := big[i:min(len(big), i+10000)]
		chunked.WriteString(strconv.FormatInt(int64(len(part)), 16) + "\r\n" + part + "\r\n")
	}
	chunked.WriteString("0\r\n\r\n")
	for _, tc := range []struct {
		name, resp string
		err        error
	}{
		{"length", ok(big) + injected, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked.String() + injected, nil},
		{"close delimited", "HTTP/1.1 200 OK\r\n\r\n" + big, nil},
		{"truncated", "HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n" + big, ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, false, nil)
			o := startRawOrigin(t, func(c *rawConn) {
				c.readRequest()
				c.write(tc.resp)
			})
			got := make(chan *Detached, 1)
			rec := &recorder{done: make(chan struct{})}
			rec.onBody = func(ex *Exchange, _ []byte) error {
				d, err := ex.Detach()
				if err != nil {
					return err
				}
				got <- d
				return nil
			}
			ex := request(o.addr, "GET", "/")
			ex.Handler = rec
			h.start(ex)
			var d *Detached
			select {
			case d = <-got:
			case <-rec.done:
				t.Fatalf("exchange ended without a detach: %v", rec.err)
			case <-time.After(10 * time.Second):
				t.Fatal("no detach")
			}
			defer d.Close()
			rest, err := io.ReadAll(d)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			var first string
			h.onLoop(func() { first = rec.body.String() })
			if len(first) == 0 || first+string(rest) != big {
				t.Fatalf("body: %d bytes on the loop and %d detached, want %d in all, in order", len(first), len(rest), len(big))
			}
			select {
			case <-rec.done:
				t.Fatal("OnDone ran after Detach")
			default:
			}
		})
	}
}
