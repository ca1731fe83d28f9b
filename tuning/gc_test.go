package tuning

import "testing"

func TestPlanGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name         string
		env          bool
		current      int
		preallocated int64
		want         int
		source       string
	}{
		{"operator's GOGC wins", true, 300, 512 << 20, 300, SourceEnv},
		{"GOGC=off stays off", false, -1, 512 << 20, -1, SourceEnv},
		{"no cache", false, 100, 0, 100, SourceRuntime},
		{"256 MiB cache", false, 100, 256 << 20, 50, SourceCache},
		{"512 MiB cache", false, 100, 512 << 20, 25, SourceCache},
		{"64 GiB cache floors at 10", false, 100, 64 << 30, 10, SourceCache},
		{"small cache caps at 100", false, 100, 64 << 20, 100, SourceCache},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, src := planGCPercent(tc.env, tc.current, tc.preallocated)
			if got != tc.want || src != tc.source {
				t.Errorf("got %d (%s), want %d (%s)", got, src, tc.want, tc.source)
			}
		})
	}
}
