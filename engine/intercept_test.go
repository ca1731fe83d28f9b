package engine

import (
	"testing"
	"time"
)

// Issue 15: Host verdicts are reused until they expire, and the table is
// bounded.
func TestHostVerifier(t *testing.T) {
	var v hostVerifier
	now := time.Now().UnixNano()
	if _, known := v.get([]byte("origin.test 198.51.100.2"), now); known {
		t.Fatal("empty verifier: got a verdict")
	}
	v.put("origin.test 198.51.100.2", true, now)
	v.put("origin.test 198.51.100.3", false, now)
	for _, tc := range []struct {
		key       string
		at        int64
		ok, known bool
	}{
		{"origin.test 198.51.100.2", now, true, true},
		{"origin.test 198.51.100.3", now, false, true},
		{"other.test 198.51.100.2", now, false, false},
		{"origin.test 198.51.100.2", now + int64(verifyTTL) + 1, false, false},
	} {
		ok, known := v.get([]byte(tc.key), tc.at)
		if ok != tc.ok || known != tc.known {
			t.Errorf("%q: got %v %v, want %v %v", tc.key, ok, known, tc.ok, tc.known)
		}
	}
	for i := 0; i < 2*maxVerdicts; i++ {
		v.put(string(rune('a'+i%26))+time.Duration(i).String(), true, now)
	}
	if n := len(v.m); n > maxVerdicts {
		t.Errorf("got %d verdicts, want at most %d", n, maxVerdicts)
	}
	key := []byte("origin.test 198.51.100.2")
	v.put(string(key), true, now)
	if n := testing.AllocsPerRun(100, func() { v.get(key, now) }); n != 0 {
		t.Errorf("get: got %v allocations, want 0", n)
	}
}
