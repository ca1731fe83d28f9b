package config

import "testing"

// Issue 13: a small cache.large_memory alone works, the default
// cache.max_object following it down; only two explicit values conflict.
func TestMaxObjectFollowsLargeMemory(t *testing.T) {
	tests := []struct {
		yaml    string
		want    Size
		wantErr string
	}{
		{"cache: {large_memory: 16MiB}", 16 * MiB, ""},
		{"cache: {large_memory: 128MiB}", 64 * MiB, ""},
		{"cache: {large_memory: 16MiB, max_object: 8MiB}", 8 * MiB, ""},
		{"cache: {large_memory: 16MiB, max_object: 16MiB}", 16 * MiB, ""},
		{"cache: {large_memory: 16MiB, max_object: 32MiB}", 0, "t.yaml:1: cache.max_object: 32MiB is larger than cache.large_memory (16MiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "t.yaml")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Cache.MaxObject != tt.want {
				t.Errorf("got %s, want %s", c.Cache.MaxObject, tt.want)
			}
		})
	}
	// A flag that lowers large_memory after the file was read (as
	// --cache-large-mem does) moves a default max_object along, and leaves
	// an explicit one to conflict.
	c := Default()
	c.Cache.LargeMemory = 8 * MiB
	if err := c.Validate(); err != nil || c.Cache.MaxObject != 8*MiB {
		t.Errorf("default max_object after a smaller large_memory: got %s, %v; want 8MiB", c.Cache.MaxObject, err)
	}
	c.Cache.LargeMemory = GiB
	if err := c.Validate(); err != nil || c.Cache.MaxObject != 64*MiB {
		t.Errorf("default max_object after a larger large_memory: got %s, %v; want 64MiB", c.Cache.MaxObject, err)
	}
	c.Cache.MaxObject, c.Cache.LargeMemory = 4*MiB, 2*MiB
	if err := c.Validate(); err == nil {
		t.Errorf("explicit max_object above large_memory: got nil, want an error")
	}
}
