package prefetch

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is when prefetching may run: a set of daily time ranges in local
// time, or any time. The zero Schedule allows any time.
type Schedule struct {
	spans []span // minutes since midnight; empty: any time
}

// span is [from, to) in minutes since midnight; from > to wraps midnight.
type span struct{ from, to int }

// AnyTime is the text of the Schedule that always allows prefetching.
const AnyTime = "any"

// ParseSchedule reads a schedule: "any", or comma-separated ranges
// "HH:MM-HH:MM" in local time, such as "22:00-06:00" (a range whose end is
// before its start runs over midnight) or "00:00-07:00, 13:00-14:00". The
// end of a range is excluded; "24:00" may end one.
func ParseSchedule(text string) (Schedule, error) {
	text = strings.TrimSpace(text)
	if text == "" || text == AnyTime {
		return Schedule{}, nil
	}
	var s Schedule
	for part := range strings.SplitSeq(text, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return Schedule{}, fmt.Errorf("%w: %q is not HH:MM-HH:MM", ErrSchedule, part)
		}
		f, err := clock(from, false)
		if err != nil {
			return Schedule{}, err
		}
		t, err := clock(to, true)
		if err != nil {
			return Schedule{}, err
		}
		if f == t {
			return Schedule{}, fmt.Errorf("%w: %q is empty (write %q for always)", ErrSchedule, part, AnyTime)
		}
		s.spans = append(s.spans, span{f, t})
	}
	return s, nil
}

// clock parses "HH:MM" into minutes since midnight; end allows "24:00".
func clock(text string, end bool) (int, error) {
	text = strings.TrimSpace(text)
	h, m, ok := strings.Cut(text, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	switch {
	case !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 || err1 != nil || err2 != nil:
		return 0, fmt.Errorf("%w: %q is not a time of day (HH:MM)", ErrSchedule, text)
	case end && hh == 24 && mm == 0:
		return 24 * 60, nil
	case hh < 0 || hh > 23 || mm < 0 || mm > 59:
		return 0, fmt.Errorf("%w: %q is not a time of day (00:00 to 23:59)", ErrSchedule, text)
	}
	return hh*60 + mm, nil
}

// Allows reports whether prefetching may run at t (in t's location).
func (s Schedule) Allows(t time.Time) bool {
	if len(s.spans) == 0 {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	for _, sp := range s.spans {
		if sp.from < sp.to && sp.from <= m && m < sp.to || sp.from > sp.to && (m >= sp.from || m < sp.to) {
			return true
		}
	}
	return false
}

// String returns the schedule in the form ParseSchedule reads.
func (s Schedule) String() string {
	if len(s.spans) == 0 {
		return AnyTime
	}
	parts := make([]string, len(s.spans))
	for i, sp := range s.spans {
		parts[i] = fmt.Sprintf("%02d:%02d-%02d:%02d", sp.from/60, sp.from%60, sp.to/60, sp.to%60)
	}
	return strings.Join(parts, ",")
}
