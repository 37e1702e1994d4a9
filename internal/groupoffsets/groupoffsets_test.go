package groupoffsets

import (
	"strings"
	"testing"
)

func TestValueRoundTrip(t *testing.T) {
	for _, v := range []Value{
		{},
		{Offset: 42, LeaderEpoch: -1, CommitMs: 1796349369950, TopicID: [16]byte{1, 2, 3}, Metadata: "m"},
		{Offset: 1 << 62, LeaderEpoch: 7, Metadata: strings.Repeat("x", 300)},
	} {
		got, err := Decode(v.Encode())
		if err != nil || got != v {
			t.Errorf("Decode(Encode(%+v)) = %+v, %v", v, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {0}, append([]byte{1}, make([]byte, fixedSize)...)} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%x) took a value that is not one", bad)
		}
	}
}

// Keys of different groups, topics and partitions never collide, and a
// group's keys share a prefix no other group's keys have.
func TestKeysDoNotCollide(t *testing.T) {
	seen := map[string]string{}
	for _, g := range []string{"", "a", "ab", "a\x01b"} {
		for _, topic := range []string{"", "b", "ab"} {
			for _, p := range []int32{0, 1, 256} {
				k := Key(g, topic, p)
				if prev, dup := seen[k]; dup {
					t.Fatalf("Key(%q, %q, %d) = Key of %s", g, topic, p, prev)
				}
				seen[k] = g + "/" + topic
				if !strings.HasPrefix(k, string(AppendName([]byte("o"), g))) {
					t.Fatalf("Key(%q, ...) lacks its group's prefix", g)
				}
			}
		}
	}
}
