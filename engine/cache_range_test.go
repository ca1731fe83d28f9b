package engine

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rangeBody is the 100-byte object the range tests cut.
var rangeBody = strings.Repeat("0123456789", 4) + strings.Repeat("abcdefghij", 3) + strings.Repeat("ABCDEFGHIJ", 3)

// RFC 9110 §14: Range requests are answered from a stored 200: one range
// as 206 with Content-Range, several as multipart/byteranges, an
// unsatisfiable one as 416, and If-Range decides between 206 and 200.
func TestRFC9110_14_RangeFromCache(t *testing.T) {
	lm := httpDate(time.Now().Add(-time.Hour))
	o := startCountingOrigin(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"r1"`)
		w.Header().Set("Last-Modified", lm)
		if d := r.URL.Query().Get("lm"); d != "" {
			w.Header().Set("Last-Modified", d)
		}
		w.Header().Set("Content-Type", "text/x-range")
		_, _ = io.WriteString(w, rangeBody)
	})
	s := startProxy(t, nil)
	u := o.URL + "/range"
	if _, got := cacheGet(t, s, u); got != rangeBody {
		t.Fatalf("GET: got %q", got)
	}

	single := []struct {
		name, fields string
		status       int
		body, crange string
	}{
		{"first ten", "Range: bytes=0-9", 206, rangeBody[:10], "bytes 0-9/100"},
		{"middle", "Range: bytes=40-59", 206, rangeBody[40:60], "bytes 40-59/100"},
		{"open end", "Range: bytes=90-", 206, rangeBody[90:], "bytes 90-99/100"},
		{"suffix", "Range: bytes=-5", 206, rangeBody[95:], "bytes 95-99/100"},
		{"last past the end", "Range: bytes=95-500", 206, rangeBody[95:], "bytes 95-99/100"},
		{"unsatisfiable", "Range: bytes=200-300", 416, "", "bytes */100"},
		{"If-Range other ETag", "Range: bytes=0-9\r\nIf-Range: \"r2\"", 200, rangeBody, ""},
		{"If-Range matching ETag", "Range: bytes=0-9\r\nIf-Range: \"r1\"", 206, rangeBody[:10], "bytes 0-9/100"},
		{"If-Range matching date", "Range: bytes=0-9\r\nIf-Range: " + lm, 206, rangeBody[:10], "bytes 0-9/100"},
		{"If-Range other date", "Range: bytes=0-9\r\nIf-Range: " + httpDate(time.Now().Add(-2*time.Hour)), 200, rangeBody, ""},
		{"malformed range ignored", "Range: bytes=x-y", 200, rangeBody, ""},
	}
	for _, tc := range single {
		t.Run(tc.name, func(t *testing.T) {
			resp, got := cacheGet(t, s, u, tc.fields)
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			wantHit(t, resp, "range answer")
			if got != tc.body {
				t.Errorf("body: got %q, want %q", got, tc.body)
			}
			if cr := resp.Header.Get("Content-Range"); cr != tc.crange {
				t.Errorf("Content-Range: got %q, want %q", cr, tc.crange)
			}
			if tc.status != 416 && resp.ContentLength != int64(len(tc.body)) {
				t.Errorf("Content-Length: got %d, want %d", resp.ContentLength, len(tc.body))
			}
		})
	}

	// Issue 11: a date starting with W ("Wed, …") was taken for a weak
	// entity-tag, so a matching date got 200 every Wednesday. Each weekday
	// has its own URL whose Last-Modified falls on that day, whatever today is.
	for d := 0; d < 7; d++ {
		day := time.Now().Add(-time.Duration(d+1) * 24 * time.Hour).Truncate(time.Second)
		date := httpDate(day)
		t.Run("If-Range date on "+day.Weekday().String(), func(t *testing.T) {
			du := u + "?lm=" + url.QueryEscape(date)
			if _, got := cacheGet(t, s, du); got != rangeBody {
				t.Fatalf("GET: got %q", got)
			}
			resp, got := cacheGet(t, s, du, "Range: bytes=0-9\r\nIf-Range: "+date)
			if resp.StatusCode != 206 || got != rangeBody[:10] {
				t.Errorf("matching date: got %d %q, want 206 %q", resp.StatusCode, got, rangeBody[:10])
			}
			resp, got = cacheGet(t, s, du, "Range: bytes=0-9\r\nIf-Range: "+httpDate(day.Add(-time.Hour)))
			if resp.StatusCode != 200 || got != rangeBody {
				t.Errorf("other date: got %d, want 200 and the whole body", resp.StatusCode)
			}
			resp, _ = cacheGet(t, s, du, "Range: bytes=0-9\r\nIf-Range: W/\"r1\"")
			if resp.StatusCode != 200 {
				t.Errorf("weak entity-tag: got %d, want 200", resp.StatusCode)
			}
		})
	}

	t.Run("multiple ranges", func(t *testing.T) {
		resp, got := cacheGet(t, s, u, "Range: bytes=0-4,10-14,90-99")
		if resp.StatusCode != 206 {
			t.Fatalf("status: got %d, want 206", resp.StatusCode)
		}
		wantHit(t, resp, "multipart answer")
		if resp.ContentLength != int64(len(got)) {
			t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(got))
		}
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/byteranges" || params["boundary"] == "" {
			t.Fatalf("Content-Type: got %q, want multipart/byteranges with a boundary", resp.Header.Get("Content-Type"))
		}
		mr := multipart.NewReader(strings.NewReader(got), params["boundary"])
		want := [][2]int{{0, 4}, {10, 14}, {90, 99}}
		for i := 0; ; i++ {
			part, err := mr.NextPart()
			if err == io.EOF {
				if i != len(want) {
					t.Errorf("parts: got %d, want %d", i, len(want))
				}
				break
			}
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			if i >= len(want) {
				t.Fatalf("more than %d parts", len(want))
			}
			data, _ := io.ReadAll(part)
			r := want[i]
			if wantCR := fmt.Sprintf("bytes %d-%d/100", r[0], r[1]); part.Header.Get("Content-Range") != wantCR {
				t.Errorf("part %d Content-Range: got %q, want %q", i, part.Header.Get("Content-Range"), wantCR)
			}
			if ct := part.Header.Get("Content-Type"); ct != "text/x-range" {
				t.Errorf("part %d Content-Type: got %q, want %q", i, ct, "text/x-range")
			}
			if string(data) != rangeBody[r[0]:r[1]+1] {
				t.Errorf("part %d: got %q, want %q", i, data, rangeBody[r[0]:r[1]+1])
			}
		}
	})
	wantOrigin(t, o, 1+7, "every range answered from the cache (one fill per weekday URL)")
}
