package cache

import "testing"

func parseLines(lines ...string) Directives {
	var d Directives
	for _, l := range lines {
		ParseCacheControl([]byte(l), &d)
	}
	return d
}

func TestRFC9111_5_2_ParseDirectives(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		flags Flag
		check func(d Directives) bool
	}{
		{"plain", []string{"public, max-age=60"}, CCPublic | CCMaxAge, func(d Directives) bool { return d.MaxAge == 60 }},
		{"case-insensitive names", []string{"Max-Age=5, NO-CACHE"}, CCMaxAge | CCNoCache, func(d Directives) bool { return d.MaxAge == 5 }},
		{"quoted argument", []string{`max-age="60"`}, CCMaxAge, func(d Directives) bool { return d.MaxAge == 60 }},
		{"quoted list with commas", []string{`no-cache="Set-Cookie, X-A", max-age=9`}, CCNoCache | CCMaxAge, func(d Directives) bool { return d.MaxAge == 9 }},
		{"qualified private", []string{`private="Set-Cookie"`}, CCPrivate, nil},
		{"s-maxage", []string{"s-maxage=30,max-age=10"}, CCSMaxAge | CCMaxAge, func(d Directives) bool { return d.SMaxAge == 30 && d.MaxAge == 10 }},
		{"unknown extensions ignored", []string{`foo, bar="baz,qux", community="UCI", max-age=7`}, CCMaxAge, func(d Directives) bool { return d.MaxAge == 7 }},
		{"several lines", []string{"no-store", "must-revalidate", "proxy-revalidate"}, CCNoStore | CCMustRevalidate | CCProxyRevalidate, nil},
		{"request directives", []string{"max-stale, min-fresh=5, only-if-cached, no-transform"}, CCMaxStaleAny | CCMinFresh | CCOnlyIfCached | CCNoTransform, func(d Directives) bool { return d.MinFresh == 5 }},
		{"max-stale with value", []string{"max-stale=30"}, CCMaxStale, func(d Directives) bool { return d.MaxStale == 30 }},
		{"rfc5861", []string{"stale-while-revalidate=60, stale-if-error=300"}, CCStaleWhileRevalidate | CCStaleIfError, func(d Directives) bool {
			return d.StaleWhileRevalidate == 60 && d.StaleIfError == 300
		}},
		{"must-understand", []string{"must-understand, no-store"}, CCMustUnderstand | CCNoStore, nil},
		{"whitespace around =", []string{"max-age = 12"}, CCMaxAge, func(d Directives) bool { return d.MaxAge == 12 }},
		{"empty members", []string{",, ,max-age=3,,"}, CCMaxAge, func(d Directives) bool { return d.MaxAge == 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := parseLines(tt.lines...)
			if d.Flags != tt.flags {
				t.Fatalf("flags %b, want %b", d.Flags, tt.flags)
			}
			if tt.check != nil && !tt.check(d) {
				t.Fatalf("values %+v", d)
			}
		})
	}
}

func TestRFC9111_1_2_2_DeltaSecondsOverflow(t *testing.T) {
	d := parseLines("max-age=99999999999999999999999")
	if d.MaxAge != 1<<31 {
		t.Fatalf("got %d, want %d", d.MaxAge, uint32(1<<31))
	}
}

func TestRFC9111_4_2_1_ConflictingDuplicatesAreStale(t *testing.T) {
	d := parseLines("max-age=60", "max-age=3600")
	if !d.Has(CCMaxAge) || d.MaxAge != 0 {
		t.Fatalf("got max-age %d, want 0 (stale)", d.MaxAge)
	}
	d = parseLines("max-age=60, max-age=60")
	if d.MaxAge != 60 {
		t.Fatalf("equal duplicates: got %d, want 60", d.MaxAge)
	}
}

func TestRFC9111_4_2_1_InvalidMaxAgeIsStale(t *testing.T) {
	for _, v := range []string{"max-age=abc", "max-age", "max-age=", "max-age=-1", `max-age="6 0"`} {
		d := parseLines(v)
		if !d.Has(CCMaxAge) || d.MaxAge != 0 {
			t.Errorf("%q: got %+v, want max-age 0", v, d)
		}
	}
}

func TestRFC9111_5_2_1_MostRestrictiveRequestValues(t *testing.T) {
	d := parseLines("max-stale=100, min-fresh=5", "max-stale=10, min-fresh=50")
	if d.MaxStale != 10 || d.MinFresh != 50 {
		t.Fatalf("got max-stale %d min-fresh %d, want 10 and 50", d.MaxStale, d.MinFresh)
	}
	d = parseLines("max-stale=abc")
	if d.Flags != 0 {
		t.Fatalf("malformed max-stale: got flags %b, want none", d.Flags)
	}
}

func TestParseCacheControlAllocatesNothing(t *testing.T) {
	v := []byte(`public, max-age="60", no-cache="Set-Cookie", stale-while-revalidate=30, x-ext=1`)
	n := testing.AllocsPerRun(100, func() {
		var d Directives
		ParseCacheControl(v, &d)
	})
	if n != 0 {
		t.Fatalf("got %v allocations, want 0", n)
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60", `no-cache="a,b", private`, `"`, `max-age="`, "=,=", "\\\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Directives
		ParseCacheControl([]byte(s), &d)
		if d.Has(CCMaxAge) && d.MaxAge > 1<<31 {
			t.Fatalf("max-age %d over 2^31", d.MaxAge)
		}
	})
}
