package kafka

import "testing"

func TestFramePool(t *testing.T) {
	for _, tt := range []struct{ n, class int }{
		{1, 0}, {1024, 0}, {1025, 1}, {1 << 20, 10}, {1<<20 + 1, 11}, {16 << 20, 14}, {16<<20 + 1, 15}, {128 << 20, 17}, {128<<20 + 1, -1},
	} {
		if got := frameClass(tt.n); got != tt.class {
			t.Errorf("frameClass(%d) = %d, want %d", tt.n, got, tt.class)
		}
	}
	for _, n := range []int{10, 5000, 1 << 20, 17 << 20, 129 << 20} {
		b := getFrame(n)
		if len(b) != n {
			t.Fatalf("getFrame(%d) has %d bytes", n, len(b))
		}
		putFrame(b)
		if again := getFrame(n); len(again) != n {
			t.Fatalf("pooled getFrame(%d) has %d bytes", n, len(again))
		}
	}
	putFrame(make([]byte, 3000)) // not from the pool: ignored
	putFrame(nil)
	if b := getFrame(3000); cap(b) != 4096 {
		t.Errorf("cap %d, want 4096", cap(b))
	}
}
