package codec

import "time"

// TimeFormat is the IMF-fixdate layout that HTTP dates are sent in
// (RFC 9110 §5.6.7).
const TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// AppendHTTPDate appends t as an IMF-fixdate.
func AppendHTTPDate(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, TimeFormat)
}

var months = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// ParseHTTPDate parses an HTTP date in any of the three formats a recipient
// must accept (RFC 9110 §5.6.7): IMF-fixdate, obsolete RFC 850 and asctime.
// It returns the time in UTC and ok=false for anything else. It does not
// allocate.
func ParseHTTPDate(b []byte) (t time.Time, ok bool) {
	b = TrimOWS(b)
	// Skip the day name: up to ", " (IMF-fixdate, RFC 850) or " " (asctime).
	i := 0
	for i < len(b) && b[i] != ',' && b[i] != ' ' {
		i++
	}
	if i == 0 || i >= len(b) {
		return t, false
	}
	var day, mon, year, hh, mm, ss int
	if b[i] == ',' {
		p := b[i+1:]
		if len(p) == 0 || p[0] != ' ' {
			return t, false
		}
		p = p[1:]
		if len(p) >= 11 && p[2] == ' ' && p[6] == ' ' { // 02 Jan 2006 15:04:05 GMT
			day, ok = digits(p[0:2])
			mon = month(p[3:6])
			year, ok2 := digits(p[7:11])
			if !ok || !ok2 || len(p) != 24 || p[11] != ' ' || string(p[20:]) != " GMT" {
				return t, false
			}
			hh, mm, ss, ok = clock(p[12:20])
			return build(year, mon, day, hh, mm, ss, ok)
		}
		if len(p) == 22 && p[2] == '-' && p[6] == '-' && p[9] == ' ' && string(p[18:]) == " GMT" { // 02-Jan-06 15:04:05 GMT
			day, ok = digits(p[0:2])
			mon = month(p[3:6])
			yy, ok2 := digits(p[7:9])
			if !ok || !ok2 {
				return t, false
			}
			// RFC 9110 §5.6.7: a two-digit year more than 50 years in the
			// future is taken to be in the past century.
			year = 2000 + yy
			if year > time.Now().UTC().Year()+50 {
				year -= 100
			}
			hh, mm, ss, ok = clock(p[10:18])
			return build(year, mon, day, hh, mm, ss, ok)
		}
		return t, false
	}
	// asctime: "Sun Nov  6 08:49:37 1994"
	p := b[i+1:]
	if len(p) != 20 || p[3] != ' ' || p[6] != ' ' || p[15] != ' ' {
		return t, false
	}
	mon = month(p[0:3])
	d := p[4:6]
	if d[0] == ' ' {
		d = d[1:]
	}
	day, ok = digits(d)
	if !ok {
		return t, false
	}
	year, ok = digits(p[16:20])
	if !ok {
		return t, false
	}
	hh, mm, ss, ok = clock(p[7:15])
	return build(year, mon, day, hh, mm, ss, ok)
}

func build(year, mon, day, hh, mm, ss int, ok bool) (time.Time, bool) {
	if !ok || mon == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(mon), day, hh, mm, ss, 0, time.UTC), true
}

func clock(p []byte) (hh, mm, ss int, ok bool) {
	if len(p) != 8 || p[2] != ':' || p[5] != ':' {
		return 0, 0, 0, false
	}
	var ok1, ok2, ok3 bool
	hh, ok1 = digits(p[0:2])
	mm, ok2 = digits(p[3:5])
	ss, ok3 = digits(p[6:8])
	return hh, mm, ss, ok1 && ok2 && ok3
}

func month(p []byte) int {
	for i, m := range months {
		if EqualFold(p, m) {
			return i + 1
		}
	}
	return 0
}

func digits(p []byte) (int, bool) {
	if len(p) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
