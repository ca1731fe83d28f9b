package codec

import (
	"net/http"
	"testing"
	"time"
)

// Issue 11: whatever the day, its date parses. Every day of 2024 and the
// first days of 2025 (every weekday, every month, one- and two-digit days
// of the month, 29 February), just after midnight and just before, in each
// of the three formats of RFC 9110 §5.6.7, reads back as the same instant,
// as net/http reads it. Tests elsewhere build dates from the clock, so this
// is what keeps them from depending on the day they run.
func TestParseHTTPDateEveryDay(t *testing.T) {
	formats := []struct{ name, layout string }{
		{"IMF-fixdate", http.TimeFormat},
		{"RFC 850", "Monday, 02-Jan-06 15:04:05 GMT"},
		{"asctime", time.ANSIC},
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 400; d++ {
		day := start.AddDate(0, 0, d)
		for _, at := range []time.Time{day, day.Add(24*time.Hour - time.Second)} {
			for _, f := range formats {
				in := at.Format(f.layout)
				got, ok := ParseHTTPDate([]byte(in))
				if !ok || !got.Equal(at) {
					t.Errorf("%s: ParseHTTPDate(%q) = %v, %v; want %v", f.name, in, got, ok, at)
				}
				if std, err := http.ParseTime(in); err != nil || !std.Equal(got) {
					t.Errorf("%s: ParseHTTPDate(%q) = %v, net/http says %v (%v)", f.name, in, got, std, err)
				}
			}
			if got := string(AppendHTTPDate(nil, at)); got != at.Format(http.TimeFormat) {
				t.Errorf("AppendHTTPDate(%v): got %q, want %q", at, got, at.Format(http.TimeFormat))
			}
		}
	}
}
