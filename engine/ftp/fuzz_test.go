package ftp

import (
	"strings"
	"testing"
)

// A target that parses never carries a byte that would end an FTP command.
func FuzzParseTarget(f *testing.F) {
	for _, s := range [][2]string{{"/pub/a", ""}, {"/a%0D%0Ab", "u:p"}, {"/x;type=a", "u%00"}, {"/%2Fetc/", "a:b:c"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, userinfo string) {
		tg, err := ParseTarget([]byte("h"), nil, []byte(path), []byte(userinfo))
		if err != nil {
			return
		}
		for _, s := range []string{tg.Path, tg.User, tg.Password} {
			if strings.ContainsAny(s, "\r\n\x00") {
				t.Fatalf("%q %q: %+v", path, userinfo, tg)
			}
		}
		u := strings.TrimPrefix(tg.LogURL(), "ftp://")
		authority, _, _ := strings.Cut(u, "/")
		if at := strings.LastIndexByte(authority, '@'); at >= 0 && strings.Contains(authority[:at], ":") {
			t.Fatalf("%q %q: LogURL %q holds a password", path, userinfo, tg.LogURL())
		}
		if !strings.HasPrefix(u, authority+"/") {
			t.Fatalf("%q %q: LogURL %q has no path", path, userinfo, tg.LogURL())
		}
	})
}
