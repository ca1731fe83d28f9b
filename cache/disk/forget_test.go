package disk

import "testing"

// Forget drops the index entry at once; the Tombstone written afterwards
// keeps a crash rebuild from indexing the object again.
func TestForgetThenTombstone(t *testing.T) {
	o := testOptions(t.TempDir())
	s := mustOpen(t, o)
	put(t, s, 1, 1000)
	put(t, s, 2, 1000)
	if !s.Forget(keyOf(1)) {
		t.Fatal("Forget: false, want true")
	}
	miss(t, s, 1)
	if s.Forget(keyOf(1)) {
		t.Fatal("second Forget: true, want false")
	}
	s.Tombstone(keyOf(1))
	crashed := t.TempDir()
	copyDir(t, o.Dir, crashed) // no index file: the copy must be rebuilt
	o.Dir = crashed
	s2 := mustOpen(t, o)
	waitRebuild(t, s2)
	miss(t, s2, 1)
	check(t, s2, 2, 1000)
}
