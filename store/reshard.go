package store

import (
	"container/heap"
	"fmt"
	"math/bits"
	"time"

	"github.com/streambridge/bridge/mapping"
)

// The functions here are pure: they compute a stream's next layout and leave
// persisting it, and freezing the partitions while that happens, to the
// backend. end(p) is partition p's next offset at the moment of the change:
// a shard closed by the change ends there and its successor starts there, so
// offsets stay dense and no record changes position.
//
// The slot rule (ARCHITECTURE.md): a split closes the parent; the lower child
// continues the parent's partition and the upper child starts a new partition
// at the end. A merge continues the lower-numbered of the two partitions; the
// other is retired.

// MaxShards bounds the shards of one stream, open and closed together; it
// keeps a runaway resharding loop from eating the store.
const MaxShards = 100000

// NewStream lays out a new stream of n shards splitting the hash space
// evenly, partition i carried by shard i.
func NewStream(name string, n int, created time.Time) (Stream, error) {
	if n < 1 || n > MaxShards {
		return Stream{}, fmt.Errorf("%w: shard count %d must be between 1 and %d", ErrInvalidArgument, n, MaxShards)
	}
	st := Stream{Name: name, Created: created}
	for i, r := range mapping.EvenSplit(n) {
		st.Shards = append(st.Shards, Shard{
			Index: i, HashRange: r, Parent: NoShard, AdjacentParent: NoShard,
			Partition: int32(i), EndOffset: -1,
		})
		st.Partitions = append(st.Partitions, Partition{ID: int32(i), Shards: []int{i}})
	}
	return st, nil
}

// Split returns st with shard split at hash key at: the lower child covers
// [start, at-1] and continues the parent's partition, the upper child covers
// [at, end] and carries a new partition.
func (st *Stream) Split(shard int, at mapping.HashKey, end func(int32) int64) (Stream, error) {
	next := st.Clone()
	if err := next.split(shard, at, end); err != nil {
		return Stream{}, err
	}
	return next, nil
}

func (st *Stream) split(shard int, at mapping.HashKey, end func(int32) int64) error {
	parent, err := st.openShard(shard)
	if err != nil {
		return err
	}
	r := parent.HashRange
	if at.Cmp(r.Start) <= 0 || at.Cmp(r.End) > 0 {
		return fmt.Errorf("%w: new starting hash key %s must be above %s and at most %s for %s",
			ErrInvalidArgument, at, r.Start, r.End, parent.ID())
	}
	if len(st.Shards)+2 > MaxShards {
		return fmt.Errorf("%w: stream would exceed %d shards", ErrInvalidArgument, MaxShards)
	}
	closeAt := end(parent.Partition)
	st.Shards[shard].EndOffset = closeAt

	lower := Shard{
		Index: len(st.Shards), HashRange: mapping.HashRange{Start: r.Start, End: at.Prev()},
		Parent: shard, AdjacentParent: NoShard, Partition: parent.Partition,
		StartOffset: closeAt, EndOffset: -1,
	}
	upperPartition := int32(len(st.Partitions))
	upper := Shard{
		Index: lower.Index + 1, HashRange: mapping.HashRange{Start: at, End: r.End},
		Parent: shard, AdjacentParent: NoShard, Partition: upperPartition,
		EndOffset: -1,
	}
	st.Shards = append(st.Shards, lower, upper)
	p := &st.Partitions[parent.Partition]
	p.Shards = append(p.Shards, lower.Index)
	st.Partitions = append(st.Partitions, Partition{ID: upperPartition, Shards: []int{upper.Index}})
	return nil
}

// Merge returns st with two open shards whose hash ranges touch merged into
// one child. The child's parent is shard and its adjacent parent is
// adjacent, as in Kinesis MergeShards.
func (st *Stream) Merge(shard, adjacent int, end func(int32) int64) (Stream, error) {
	next := st.Clone()
	if err := next.merge(shard, adjacent, end); err != nil {
		return Stream{}, err
	}
	return next, nil
}

func (st *Stream) merge(shard, adjacent int, end func(int32) int64) error {
	a, err := st.openShard(shard)
	if err != nil {
		return err
	}
	b, err := st.openShard(adjacent)
	if err != nil {
		return err
	}
	lo, hi := a, b
	if hi.HashRange.Start.Cmp(lo.HashRange.Start) < 0 {
		lo, hi = hi, lo
	}
	if shard == adjacent || lo.HashRange.End.Next() != hi.HashRange.Start || lo.HashRange.End == mapping.MaxHashKey {
		return fmt.Errorf("%w: shards %s and %s are not adjacent", ErrInvalidArgument, a.ID(), b.ID())
	}
	if len(st.Shards)+1 > MaxShards {
		return fmt.Errorf("%w: stream would exceed %d shards", ErrInvalidArgument, MaxShards)
	}
	keep, retire := a.Partition, b.Partition
	if retire < keep {
		keep, retire = retire, keep
	}
	st.Shards[a.Index].EndOffset = end(a.Partition)
	st.Shards[b.Index].EndOffset = end(b.Partition)
	child := Shard{
		Index:     len(st.Shards),
		HashRange: mapping.HashRange{Start: lo.HashRange.Start, End: hi.HashRange.End},
		Parent:    a.Index, AdjacentParent: b.Index, Partition: keep,
		StartOffset: end(keep), EndOffset: -1,
	}
	st.Shards = append(st.Shards, child)
	st.Partitions[keep].Shards = append(st.Partitions[keep].Shards, child.Index)
	st.Partitions[retire].Retired = true
	return nil
}

// ScaleUniformly returns st resharded to target open shards splitting the
// hash space evenly, the way Kinesis UpdateShardCount with UNIFORM_SCALING
// does: split where a target boundary is missing, then merge where a current
// boundary is not a target one.
func (st *Stream) ScaleUniformly(target int, end func(int32) int64) (Stream, error) {
	if target < 1 || target > MaxShards {
		return Stream{}, fmt.Errorf("%w: target shard count %d must be between 1 and %d", ErrInvalidArgument, target, MaxShards)
	}
	next := st.Clone()
	targets := mapping.EvenSplit(target)
	// One sweep up the hash space splits at every target boundary inside an
	// open shard, lowest first (the upper child of a split holds the next
	// boundary, if any); a second merges every open shard not starting at a
	// target boundary into the one below it. Both are linear in the shard
	// count, so scaling a 10000-shard stream is quick.
	j := 1 // targets[0] starts at 0, inside no shard
	for _, sh := range next.OpenShards() {
		idx := sh.Index
		for ; j < len(targets) && targets[j].Start.Cmp(sh.HashRange.End) <= 0; j++ {
			if targets[j].Start == next.Shards[idx].HashRange.Start {
				continue
			}
			if err := next.split(idx, targets[j].Start, end); err != nil {
				return Stream{}, err
			}
			idx = len(next.Shards) - 1 // the upper child
		}
	}
	want := make(map[mapping.HashKey]bool, len(targets))
	for _, r := range targets {
		want[r.Start] = true
	}
	open := next.OpenShards()
	below := open[0].Index
	for _, sh := range open[1:] {
		if want[sh.HashRange.Start] {
			below = sh.Index
			continue
		}
		if err := next.merge(below, sh.Index, end); err != nil {
			return Stream{}, err
		}
		below = len(next.Shards) - 1 // the merged child
	}
	return next, nil
}

// GrowPartitions returns st with total partitions, made by splitting the
// widest open shard at its midpoint until there are enough: Kafka's
// CreatePartitions under the slot rule. total must exceed the current count,
// so two racing requests for the same count cannot both succeed.
func (st *Stream) GrowPartitions(total int, end func(int32) int64) (Stream, error) {
	if total <= len(st.Partitions) {
		return Stream{}, fmt.Errorf("%w: partition count can only grow: stream has %d, asked for %d",
			ErrInvalidArgument, len(st.Partitions), total)
	}
	if need := 2 * (total - len(st.Partitions)); len(st.Shards)+need > MaxShards {
		return Stream{}, fmt.Errorf("%w: stream would exceed %d shards", ErrInvalidArgument, MaxShards)
	}
	next := st.Clone()
	open := &widestFirst{}
	for _, sh := range next.OpenShards() {
		heap.Push(open, sh)
	}
	for len(next.Partitions) < total {
		widest := heap.Pop(open).(Shard)
		if widest.HashRange.Start == widest.HashRange.End {
			return Stream{}, fmt.Errorf("%w: no shard left to split", ErrInvalidArgument)
		}
		if err := next.split(widest.Index, midpoint(widest.HashRange), end); err != nil {
			return Stream{}, err
		}
		n := len(next.Shards)
		heap.Push(open, next.Shards[n-2])
		heap.Push(open, next.Shards[n-1])
	}
	return next, nil
}

// widestFirst is a heap of shards, the widest hash range on top and, among
// equals, the lowest index, so growth is deterministic.
type widestFirst []Shard

func (h widestFirst) Len() int { return len(h) }
func (h widestFirst) Less(i, j int) bool {
	if c := width(h[i].HashRange).Cmp(width(h[j].HashRange)); c != 0 {
		return c > 0
	}
	return h[i].Index < h[j].Index
}
func (h widestFirst) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *widestFirst) Push(x any)   { *h = append(*h, x.(Shard)) }
func (h *widestFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (st *Stream) openShard(index int) (Shard, error) {
	sh, ok := st.Shard(index)
	if !ok {
		return Shard{}, fmt.Errorf("%w: %s", ErrShardNotFound, mapping.ShardID(index))
	}
	if !sh.IsOpen() {
		return Shard{}, fmt.Errorf("%w: %s", ErrShardClosed, sh.ID())
	}
	return sh, nil
}

// width returns End-Start of r (one less than its size, so the full space fits).
func width(r mapping.HashRange) mapping.HashKey {
	lo, borrow := bits.Sub64(r.End.Lo, r.Start.Lo, 0)
	hi, _ := bits.Sub64(r.End.Hi, r.Start.Hi, borrow)
	return mapping.HashKey{Hi: hi, Lo: lo}
}

// midpoint returns the first key of the upper half of r (r has two keys or more).
func midpoint(r mapping.HashRange) mapping.HashKey {
	w := width(r)
	half := mapping.HashKey{Hi: w.Hi >> 1, Lo: w.Lo>>1 | w.Hi<<63}
	lo, carry := bits.Add64(r.Start.Lo, half.Lo, 0)
	hi, _ := bits.Add64(r.Start.Hi, half.Hi, carry)
	return mapping.HashKey{Hi: hi, Lo: lo}.Next()
}
