package store

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping"
)

// checkLayout asserts the invariants of ARCHITECTURE.md's core model.
func checkLayout(t *testing.T, st *Stream) {
	t.Helper()
	open := st.OpenShards()
	if len(open) == 0 {
		t.Fatal("no open shard")
	}
	// Open shards tile the hash space exactly once.
	if open[0].HashRange.Start != (mapping.HashKey{}) {
		t.Fatalf("first open shard starts at %s", open[0].HashRange.Start)
	}
	for i := 1; i < len(open); i++ {
		if open[i-1].HashRange.End.Next() != open[i].HashRange.Start {
			t.Fatalf("gap or overlap between %s and %s", open[i-1].ID(), open[i].ID())
		}
	}
	if open[len(open)-1].HashRange.End != mapping.MaxHashKey {
		t.Fatalf("last open shard ends at %s", open[len(open)-1].HashRange.End)
	}
	owner := map[int]int32{}
	for _, p := range st.Partitions {
		if int(p.ID) >= len(st.Partitions) || st.Partitions[p.ID].ID != p.ID {
			t.Fatalf("partition ids out of place: %+v", p)
		}
		// A partition's chain hands offsets on without gaps.
		for i, idx := range p.Shards {
			sh := st.Shards[idx]
			if _, dup := owner[idx]; dup {
				t.Fatalf("%s in two chains", sh.ID())
			}
			owner[idx] = p.ID
			if sh.Partition != p.ID {
				t.Fatalf("%s says partition %d, chain of %d holds it", sh.ID(), sh.Partition, p.ID)
			}
			if i > 0 && st.Shards[p.Shards[i-1]].EndOffset != sh.StartOffset {
				t.Fatalf("partition %d: %s ends at %d, %s starts at %d", p.ID,
					st.Shards[p.Shards[i-1]].ID(), st.Shards[p.Shards[i-1]].EndOffset, sh.ID(), sh.StartOffset)
			}
			if i < len(p.Shards)-1 && sh.IsOpen() {
				t.Fatalf("partition %d: %s is open but not last", p.ID, sh.ID())
			}
		}
		last := st.Shards[p.Shards[len(p.Shards)-1]]
		if p.Retired == last.IsOpen() {
			t.Fatalf("partition %d retired=%v but its last shard open=%v", p.ID, p.Retired, last.IsOpen())
		}
	}
	if len(owner) != len(st.Shards) {
		t.Fatalf("%d shards, %d in chains", len(st.Shards), len(owner))
	}
	for i, sh := range st.Shards {
		if sh.Index != i {
			t.Fatalf("shard %d has index %d", i, sh.Index)
		}
		if !sh.IsOpen() && sh.EndOffset < sh.StartOffset {
			t.Fatalf("%s ends before it starts", sh.ID())
		}
	}
}

func TestReshardKeepsInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		st, err := NewStream("s", 1+rng.IntN(8), time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		next := map[int32]int64{}
		end := func(p int32) int64 { return next[p] }
		for step := 0; step < 20; step++ {
			// Some records arrive on every partition between changes.
			for _, p := range st.Partitions {
				if !p.Retired {
					next[p.ID] += int64(rng.IntN(5))
				}
			}
			open := st.OpenShards()
			var n Stream
			switch op := rng.IntN(4); op {
			case 0:
				sh := open[rng.IntN(len(open))]
				if sh.HashRange.Start == sh.HashRange.End {
					continue
				}
				n, err = st.Split(sh.Index, midpoint(sh.HashRange), end)
			case 1:
				if len(open) < 2 {
					continue
				}
				i := rng.IntN(len(open) - 1)
				n, err = st.Merge(open[i+1].Index, open[i].Index, end)
			case 2:
				n, err = st.ScaleUniformly(1+rng.IntN(12), end)
			case 3:
				n, err = st.GrowPartitions(len(st.Partitions)+1+rng.IntN(3), end)
			}
			if err != nil {
				t.Fatalf("round %d step %d: %v", round, step, err)
			}
			if len(n.Partitions) < len(st.Partitions) {
				t.Fatal("partition count shrank")
			}
			st = n
			checkLayout(t, &st)
		}
	}
}

func TestScaleUniformlyMatchesEvenSplit(t *testing.T) {
	for _, tc := range []struct{ from, to int }{{1, 2}, {2, 4}, {4, 2}, {2, 3}, {3, 2}, {5, 7}, {8, 1}, {1, 10}} {
		st, _ := NewStream("s", tc.from, time.Time{})
		n, err := st.ScaleUniformly(tc.to, func(int32) int64 { return 0 })
		if err != nil {
			t.Fatalf("%d->%d: %v", tc.from, tc.to, err)
		}
		checkLayout(t, &n)
		want := mapping.EvenSplit(tc.to)
		open := n.OpenShards()
		if len(open) != len(want) {
			t.Fatalf("%d->%d: %d open shards", tc.from, tc.to, len(open))
		}
		for i := range want {
			if open[i].HashRange != want[i] {
				t.Fatalf("%d->%d: shard %d covers %v, want %v", tc.from, tc.to, i, open[i].HashRange, want[i])
			}
		}
	}
}

func TestSplitFollowsSlotRule(t *testing.T) {
	st, _ := NewStream("s", 2, time.Time{})
	at := mapping.EvenSplit(4)[1].Start
	n, err := st.Split(0, at, func(p int32) int64 { return map[int32]int64{0: 42, 1: 7}[p] })
	if err != nil {
		t.Fatal(err)
	}
	parent, lower, upper := n.Shards[0], n.Shards[2], n.Shards[3]
	if parent.EndOffset != 42 || lower.StartOffset != 42 || lower.Partition != 0 {
		t.Fatalf("lower child must continue partition 0 at 42: parent %+v lower %+v", parent, lower)
	}
	if upper.Partition != 2 || upper.StartOffset != 0 || len(n.Partitions) != 3 {
		t.Fatalf("upper child must start new partition 2 at 0: %+v", upper)
	}
	if lower.HashRange.End.Next() != at || upper.HashRange.Start != at || lower.Parent != 0 || upper.Parent != 0 {
		t.Fatalf("children ranges/parents wrong: %+v %+v", lower, upper)
	}
	if got, _ := n.ShardForOffset(0, 41); got.Index != 0 {
		t.Fatalf("offset 41 of partition 0 is on %s", got.ID())
	}
	if got, _ := n.ShardForOffset(0, 42); got.Index != 2 {
		t.Fatalf("offset 42 of partition 0 is on %s", got.ID())
	}
	for _, bad := range []mapping.HashKey{{}, mapping.EvenSplit(2)[1].Start} {
		if _, err := st.Split(0, bad, func(int32) int64 { return 0 }); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("split at %s: %v", bad, err)
		}
	}
	if _, err := n.Split(0, at, func(int32) int64 { return 0 }); !errors.Is(err, ErrShardClosed) {
		t.Fatalf("split of a closed shard: %v", err)
	}
}

func TestMergeKeepsLowerPartition(t *testing.T) {
	st, _ := NewStream("s", 3, time.Time{})
	n, err := st.Merge(2, 1, func(p int32) int64 { return int64(10 * (p + 1)) })
	if err != nil {
		t.Fatal(err)
	}
	child := n.Shards[3]
	if child.Partition != 1 || child.StartOffset != 20 || child.Parent != 2 || child.AdjacentParent != 1 {
		t.Fatalf("child %+v", child)
	}
	if !n.Partitions[2].Retired || n.Partitions[1].Retired {
		t.Fatalf("partitions %+v", n.Partitions)
	}
	if _, err := st.Merge(0, 2, func(int32) int64 { return 0 }); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("merge of non-adjacent shards: %v", err)
	}
}

func TestGrowPartitions(t *testing.T) {
	st, _ := NewStream("s", 3, time.Time{})
	n, err := st.GrowPartitions(2000, func(int32) int64 { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Partitions) != 2000 {
		t.Fatalf("%d partitions", len(n.Partitions))
	}
	checkLayout(t, &n)
	if _, err := n.GrowPartitions(2000, func(int32) int64 { return 0 }); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("growing to the current count: %v", err)
	}
}
