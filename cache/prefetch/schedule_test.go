package prefetch

import (
	"errors"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 22, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		text      string
		allowed   []time.Time
		forbidden []time.Time
	}{
		{"any", []time.Time{at(0, 0), at(12, 0), at(23, 59)}, nil},
		{"", []time.Time{at(3, 0)}, nil},
		{"01:00-05:30", []time.Time{at(1, 0), at(5, 29)}, []time.Time{at(0, 59), at(5, 30), at(12, 0)}},
		{"22:00-06:00", []time.Time{at(22, 0), at(23, 59), at(0, 0), at(5, 59)}, []time.Time{at(6, 0), at(21, 59), at(12, 0)}},
		{"00:00-07:00, 13:00-14:00", []time.Time{at(6, 59), at(13, 30)}, []time.Time{at(7, 0), at(14, 0)}},
		{"20:00-24:00", []time.Time{at(23, 59)}, []time.Time{at(0, 0), at(19, 59)}},
	} {
		s, err := ParseSchedule(c.text)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		for _, a := range c.allowed {
			if !s.Allows(a) {
				t.Errorf("%q forbids %s", c.text, a.Format("15:04"))
			}
		}
		for _, f := range c.forbidden {
			if s.Allows(f) {
				t.Errorf("%q allows %s", c.text, f.Format("15:04"))
			}
		}
		if again, err := ParseSchedule(s.String()); err != nil || again.String() != s.String() {
			t.Errorf("%q: String %q does not read back (%v)", c.text, s.String(), err)
		}
	}
	for _, bad := range []string{"22:00", "25:00-01:00", "1:5-2:00", "10:00-10:00", "a-b", "24:00-01:00", "10:60-11:00"} {
		if _, err := ParseSchedule(bad); !errors.Is(err, ErrSchedule) {
			t.Errorf("%q: %v, want ErrSchedule", bad, err)
		}
	}
}
