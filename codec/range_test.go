package codec

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		size int64
		want string // the ranges as "a-b a-b", or the error
	}{
		{"bytes=0-499", 10000, "0-499"},
		{"bytes=500-999", 10000, "500-999"},
		{"bytes=-500", 10000, "9500-9999"},
		{"bytes=9500-", 10000, "9500-9999"},
		{"bytes=0-0,-1", 10000, "0-0 9999-9999"},
		{"bytes=500-600, 601-999", 10000, "500-600 601-999"},
		{"bytes = 0-1", 10, ErrRange.Error()},
		{" bytes=0-1 ", 10, "0-1"},
		{"BYTES=0-1", 10, "0-1"},
		{"bytes=0-99999", 100, "0-99"},
		{"bytes=-200", 100, "0-99"},
		{"bytes=0-1,,", 10, "0-1"},
		{"bytes=0-1,20-30", 10, "0-1"},
		{"bytes=99999999999999999999-", 10, ErrRangeNotSatisfiable.Error()},
		{"bytes=0-99999999999999999999", 10, "0-9"},
		{"bytes=10-", 10, ErrRangeNotSatisfiable.Error()},
		{"bytes=10-20", 10, ErrRangeNotSatisfiable.Error()},
		{"bytes=-0", 10, ErrRangeNotSatisfiable.Error()},
		{"bytes=0-", 0, ErrRangeNotSatisfiable.Error()},
		{"bytes=-5", 0, ErrRangeNotSatisfiable.Error()},
		{"bytes=", 10, ErrRange.Error()},
		{"bytes=,", 10, ErrRange.Error()},
		{"bytes 0-1", 10, ErrRange.Error()},
		{"items=0-1", 10, ErrRange.Error()},
		{"bytes=1-0", 10, ErrRange.Error()},
		{"bytes=a-b", 10, ErrRange.Error()},
		{"bytes=1", 10, ErrRange.Error()},
		{"bytes=-", 10, ErrRange.Error()},
		{"bytes=--1", 10, ErrRange.Error()},
		{"bytes=0-1-2", 10, ErrRange.Error()},
		{"bytes=0 -1", 10, ErrRange.Error()},
		{"bytes=+1-2", 10, ErrRange.Error()},
		{"bytes=0-,0-", 10, ErrRange.Error()},
		{"bytes=" + strings.Repeat("0-0,", 16), 100, strings.TrimSpace(strings.Repeat("0-0 ", 16))},
		{"bytes=" + strings.Repeat("1-1,", 17), 100, ErrRange.Error()},
		{"", 10, ErrRange.Error()},
	} {
		t.Run(tc.in, func(t *testing.T) {
			rs, err := ParseRange([]byte(tc.in), tc.size, nil)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				var parts []string
				for _, r := range rs {
					parts = append(parts, fmt.Sprintf("%d-%d", r.Start, r.End))
				}
				got = strings.Join(parts, " ")
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseRangeAllocs(t *testing.T) {
	v := []byte("bytes=0-99,200-299,-50")
	dst := make([]ByteRange, 0, MaxRanges)
	allocs := testing.AllocsPerRun(100, func() {
		dst, _ = ParseRange(v, 1000, dst)
	})
	if allocs != 0 {
		t.Fatalf("ParseRange allocates %v times, want 0", allocs)
	}
}

func TestAppendContentRange(t *testing.T) {
	if got, want := string(AppendContentRange(nil, ByteRange{0, 499}, 1234)), "Content-Range: bytes 0-499/1234\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := string(AppendContentRangeUnsatisfied(nil, 1234)), "Content-Range: bytes */1234\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (ByteRange{10, 19}).Len(); got != 10 {
		t.Errorf("Len: got %d, want 10", got)
	}
}
