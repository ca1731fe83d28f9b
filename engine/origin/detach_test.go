package origin

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"edgeproxy/codec"
)

// A body detached from the loop in OnHead reads decoded to its exact end,
// with the bytes the loop had already read after the head; a cut-short one
// reads ErrClosed.
func TestDetach(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	var chunked strings.Builder
	for i := 0; i < len(big); i += 10000 {
		part := big[i:min(len(big), i+10000)]
		chunked.WriteString(strconv.FormatInt(int64(len(part)), 16) + "\r\n" + part + "\r\n")
	}
	chunked.WriteString("0\r\n\r\n")
	for _, tc := range []struct {
		name, resp, want string
		err              error
	}{
		{"length", ok(big) + injected, big, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked.String() + injected, big, nil},
		{"close delimited", "HTTP/1.1 200 OK\r\n\r\n" + big, big, nil},
		{"truncated", "HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n" + big, big, ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, false, nil)
			o := startRawOrigin(t, func(c *rawConn) {
				c.readRequest()
				c.write(tc.resp)
			})
			got := make(chan *Detached, 1)
			rec := &recorder{done: make(chan struct{})}
			rec.onHead = func(ex *Exchange, r *codec.Response) error {
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
			body, err := io.ReadAll(d)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if string(body) != tc.want {
				t.Fatalf("body: got %d bytes, want %d", len(body), len(tc.want))
			}
			select {
			case <-rec.done:
				t.Fatal("OnDone ran after Detach")
			default:
			}
		})
	}
}
