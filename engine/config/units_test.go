package config

import (
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Size
		wantErr string
	}{
		{in: "1048576", want: MiB},
		{in: "0", want: 0},
		{in: "'65536'", want: 64 * KiB},
		{in: "512B", want: 512},
		{in: "64KiB", want: 65536},
		{in: "64kib", want: 65536},
		{in: "256MiB", want: 256 * MiB},
		{in: "256mib", want: 256 * MiB},
		{in: "1GiB", want: 1 << 30},
		{in: "1gib", want: 1 << 30},
		{in: "2TiB", want: 2 << 40},
		{in: "64 KiB", want: 65536},
		{in: "12XB", wantErr: `"12XB" is not a size (write 512B, 64KiB, 256MiB, 1GiB)`},
		{in: "64KB", wantErr: `"64KB" is not a size (write 512B, 64KiB, 256MiB, 1GiB)`},
		{in: "1.5GiB", wantErr: `"1.5GiB" is not a size (write 512B, 64KiB, 256MiB, 1GiB)`},
		{in: "KiB", wantErr: `"KiB" is not a size (write 512B, 64KiB, 256MiB, 1GiB)`},
		{in: "1.5", wantErr: `"1.5" is not a size (write 512B, 64KiB, 256MiB, 1GiB)`},
		{in: "true", wantErr: `"true" is not a size (write 512B, 64KiB, 256MiB, 1GiB)`},
		{in: "[1]", wantErr: `a list is not a size (write 512B, 64KiB, 256MiB, 1GiB)`},
		{in: "-1", wantErr: `"-1" is negative; a size counts bytes`},
		{in: "-64KiB", wantErr: `"-64KiB" is negative; a size counts bytes`},
		{in: "9000000TiB", wantErr: `"9000000TiB" is too large`},
		{in: "99999999999999999999", wantErr: `"99999999999999999999" is too large`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var s Size
			err := yaml.Unmarshal([]byte(tc.in), &s)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got %q (value %d), want %q", err, s, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %q, want no error", err)
			}
			if s != tc.want {
				t.Errorf("got %d, want %d", s, tc.want)
			}
		})
	}
}

func TestSizeString(t *testing.T) {
	for _, tc := range []struct {
		in   Size
		want string
	}{
		{0, "0B"},
		{512, "512B"},
		{1000, "1000B"},
		{65536, "64KiB"},
		{1536 * KiB, "1536KiB"},
		{256 * MiB, "256MiB"},
		{GiB, "1GiB"},
		{2 * TiB, "2TiB"},
		{2048 * TiB, "2048TiB"},
		{-64 * KiB, "-64KiB"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if tc.in < 0 {
				return
			}
			back, err := parseSize(tc.want)
			if err != nil || back != tc.in {
				t.Errorf("parseSize(%q): got %d, %v, want %d", tc.want, back, err, tc.in)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "5m", want: 5 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "'30s'", want: 30 * time.Second},
		{in: "-5s", want: -5 * time.Second},
		{in: "30", wantErr: "30 has no unit: add one (write 30s for seconds, 30ms for milliseconds)"},
		{in: "'30'", wantErr: "30 has no unit: add one (write 30s for seconds, 30ms for milliseconds)"},
		{in: "1.5", wantErr: "1.5 has no unit: add one (write 1.5s for seconds, 1.5ms for milliseconds)"},
		{in: "abc", wantErr: `"abc" is not a duration (write 30s, 5m)`},
		{in: "5 min", wantErr: `"5 min" is not a duration (write 30s, 5m)`},
		{in: "{a: 1}", wantErr: `a mapping is not a duration (write 30s, 5m)`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var d Duration
			err := yaml.Unmarshal([]byte(tc.in), &d)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got %q (value %v), want %q", err, d, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %q, want no error", err)
			}
			if time.Duration(d) != tc.want {
				t.Errorf("got %v, want %v", time.Duration(d), tc.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Second, "30s"},
		{5 * time.Minute, "5m"},
		{24 * time.Hour, "24h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{250 * time.Millisecond, "250ms"},
		{0, "0s"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := Duration(tc.in).String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
